import io
import shutil
import threading
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from pages import publish_checks
from pages.models import Article, Page, Redirect, Topic, WordPressItem
from pages.wordpress import clean_content

FIXTURES = Path(__file__).parent / "fixtures"
EXPORT = FIXTURES / "wordpress-export.xml"
UPLOADS = FIXTURES / "uploads"
OLD_SITE = "https://www.roswellinfusions.com"
FIBRO = "ketamine-therapy-for-fibromyalgia"

pytestmark = pytest.mark.django_db


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def old_site(tmp_path):
    """
    The old WordPress site on a local port, serving a folder (empty until a test
    puts wp-content/uploads in it): no test depends on an outside host.
    """
    root = tmp_path / "old-site"
    root.mkdir()
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(QuietHandler, directory=root)
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"root": root, "url": f"http://127.0.0.1:{server.server_port}"}
    server.shutdown()
    server.server_close()


@pytest.fixture
def export(tmp_path, old_site):
    """The team's fixture, with the old site's address pointing at old_site."""
    path = tmp_path / "export.xml"
    path.write_text(EXPORT.read_text().replace(OLD_SITE, old_site["url"]))
    return path


def run_import(export, *options):
    output = io.StringIO()
    call_command("import_wordpress", str(export), *options, stdout=output)
    return output.getvalue()


def everything():
    """Every row the import writes, as it is now."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Article, Page, Topic, Redirect, WordPressItem)
    } | {"topics": sorted(Article.topics.through.objects.values_list())}


def test_posts_pages_and_terms_come_across_with_statuses_and_dates(export):
    output = run_import(export, "--uploads", UPLOADS)

    fibro = Article.objects.get(slug=FIBRO)
    assert fibro.title == "Ketamine Therapy For Fibromyalgia: A Way To Reduce Symptoms"
    assert fibro.is_public
    assert fibro.published_at == datetime(2024, 5, 14, 14, 30, tzinfo=UTC)
    assert fibro.summary.startswith("How ketamine infusions act on the NMDA")
    assert set(fibro.topics.values_list("slug", flat=True)) == {
        "fibromyalgia",
        "ketamine-therapy",
        "chronic-pain",
    }
    draft = Article.objects.get(slug="preparing-for-your-first-infusion")
    assert draft.status == Article.Status.DRAFT
    assert draft.published_at is None
    scheduled = Article.objects.get(slug="ketamine-and-migraine")
    assert scheduled.is_scheduled
    assert scheduled.published_at == datetime(2035, 3, 2, 15, 0, tzinfo=UTC)
    assert list(Page.objects.values_list("slug", flat=True)) == ["about-our-clinic"]
    assert "Page “Careers”: draft in WordPress, not imported" in output
    assert set(Topic.objects.values_list("name", flat=True)) == {
        "Fibromyalgia",
        "Ketamine Therapy",
        "Chronic pain",
    }


def test_featured_image_is_read_from_the_uploads_folder_with_its_alt_text(export):
    output = run_import(export, "--uploads", UPLOADS)

    fibro = Article.objects.get(slug=FIBRO)
    assert fibro.hero_image.name.startswith("articles/infusion-room")
    assert fibro.hero_image_alt == (
        "A quiet treatment room with a reclining chair beside an infusion stand"
    )
    assert fibro.hero_picture["width"] == 320
    assert "Picture infusion-room.jpg: from the uploads folder." in output


def test_featured_image_is_downloaded_from_the_old_site_when_it_answers(
    export, old_site
):
    shutil.copytree(UPLOADS, old_site["root"] / "wp-content" / "uploads")

    output = run_import(export)

    assert Article.objects.get(slug=FIBRO).hero_image
    expected = f"{old_site['url']}/wp-content/uploads/2024/05/infusion-room.jpg"
    assert f"Picture infusion-room.jpg: from {expected}." in output


def test_image_found_neither_way_is_reported_and_the_article_imported(export):
    output = run_import(export, "--uploads", UPLOADS)

    draft = Article.objects.get(slug="preparing-for-your-first-infusion")
    assert not draft.hero_image
    assert (
        "Picture first-visit.jpg: not in the uploads folder and the old site did "
        "not send it; the article is imported without it." in output
    )


def test_old_permalinks_redirect_to_the_new_addresses(client, export):
    run_import(export, "--uploads", UPLOADS)
    article = f"/articles/{FIBRO}/"

    assert client.get(f"/{FIBRO}/")["Location"] == article
    assert client.get("/?p=10")["Location"] == article
    assert client.get("/?page_id=20")["Location"] == "/about-our-clinic/"
    assert client.get("/category/fibromyalgia/")["Location"] == "/topics/fibromyalgia/"
    assert client.get("/?cat=3")["Location"] == "/topics/fibromyalgia/"
    assert client.get("/tag/chronic-pain/")["Location"] == "/topics/chronic-pain/"
    assert client.get("/?tag=chronic-pain")["Location"] == "/topics/chronic-pain/"
    assert client.get("/about-our-clinic/").status_code == 200
    assert client.get("/feed/")["Location"] == "/articles/feed.xml"
    # The draft had no public address; the scheduled post's lead there once it
    # is published.
    assert not Redirect.objects.filter(old_path="/?p=11").exists()
    assert client.get("/?p=12").status_code == 200
    assert client.get("/ketamine-and-migraine/").status_code == 404
    Article.objects.filter(slug="ketamine-and-migraine").update(
        published_at=timezone.now()
    )
    assert client.get("/ketamine-and-migraine/")["Location"] == (
        "/articles/ketamine-and-migraine/"
    )


def test_bodies_lose_block_markup_shortcodes_and_anything_unsafe(export):
    run_import(export, "--uploads", UPLOADS)

    body = Article.objects.get(slug=FIBRO).body
    for unwanted in (
        "<!--",
        "wp:",
        "[caption",
        "One of our treatment rooms",
        "[embed",
        "[et_pb_button",
        "<script",
        "trackClick",
        "onclick",
        "style=",
        "<img",
        "<figure",
        'target="_blank"',
    ):
        assert unwanted not in body
    assert "<h2>Understanding Fibromyalgia: A Brief Overview</h2>" in body
    assert '<a href="https://www.youtube.com/watch?v=abc123">' in body
    page = Page.objects.get(slug="about-our-clinic")
    assert page.body.startswith("<p>Roswell Infusions offers ketamine infusion")
    assert "anesthesiologists<br>and registered nurses" in page.body


def test_running_the_import_twice_changes_nothing(export):
    run_import(export, "--uploads", UPLOADS)
    before = everything()

    output = run_import(export, "--uploads", UPLOADS)

    assert everything() == before
    assert "0 created, 0 updated, 7 unchanged" in output


def test_dry_run_prints_the_plan_and_writes_nothing(export, settings):
    output = run_import(export, "--uploads", UPLOADS, "--dry-run")

    assert output.startswith("Dry run: nothing is written.")
    assert (
        "Article “Ketamine Therapy For Fibromyalgia: A Way To Reduce Symptoms”: "
        f"created at /articles/{FIBRO}/." in output
    )
    assert "Picture infusion-room.jpg: from the uploads folder." in output
    assert f"Redirect /{FIBRO}/ → /articles/{FIBRO}/." in output
    assert all(rows == [] for rows in everything().values())
    assert not Path(settings.MEDIA_ROOT).exists() or not any(
        Path(settings.MEDIA_ROOT).rglob("*.*")
    )


def test_what_staff_edited_is_never_overwritten(export):
    run_import(export, "--uploads", UPLOADS)
    edited = Article.objects.get(slug=FIBRO)
    edited.title = "Ketamine for fibromyalgia, reviewed by our team"
    edited.save()
    export.write_text(
        export.read_text()
        .replace("What to eat, what to bring", "What to eat, what to wear")
        .replace("Fibromyalgia is a chronic pain condition", "Fibromyalgia is a")
    )

    output = run_import(export, "--uploads", UPLOADS)

    edited.refresh_from_db()
    assert edited.title == "Ketamine for fibromyalgia, reviewed by our team"
    assert "Fibromyalgia is a chronic pain condition" in edited.body
    assert "edited here since the import, left as it is" in output
    draft = Article.objects.get(slug="preparing-for-your-first-infusion")
    assert "What to eat, what to wear" in draft.body
    assert "1 updated" in output


def test_published_posts_are_public_but_not_clinically_approved(export, admin_user):
    run_import(export, "--uploads", UPLOADS)
    fibro = Article.objects.get(slug=FIBRO)

    assert fibro.state == Article.State.PUBLISHED
    assert not fibro.is_approved
    assert "not_approved" in [f.code for f in publish_checks.blocking_errors(fibro)]

    fibro.keep_working_copy(
        fibro.live_text() | {"hero_image": fibro.hero_image, "summary": "Edited here."},
        list(fibro.topics.values_list("pk", flat=True)),
    )
    with pytest.raises(ValidationError) as refusal:
        fibro.publish(by=admin_user)
    assert refusal.value.code == "not_approved"


def test_edits_waiting_in_a_working_copy_are_never_overwritten(export):
    run_import(export, "--uploads", UPLOADS)
    fibro = Article.objects.get(slug=FIBRO)
    imported_body = fibro.body
    fibro.keep_working_copy(
        fibro.live_text()
        | {
            "hero_image": fibro.hero_image,
            "title": "Ketamine for fibromyalgia, our team's view",
        },
        list(fibro.topics.values_list("pk", flat=True)),
    )
    export.write_text(
        export.read_text().replace(
            "Fibromyalgia is a chronic pain condition", "Fibromyalgia is a"
        )
    )

    output = run_import(export, "--uploads", UPLOADS)

    fibro.refresh_from_db()
    assert fibro.body == imported_body
    assert fibro.working_copy["title"] == "Ketamine for fibromyalgia, our team's view"
    assert "edited here since the import, left as it is" in output


def test_article_deleted_by_staff_is_not_imported_again(export):
    run_import(export, "--uploads", UPLOADS)
    Article.objects.get(slug="ketamine-and-migraine").delete()

    output = run_import(export, "--uploads", UPLOADS)

    assert not Article.objects.filter(slug="ketamine-and-migraine").exists()
    assert "deleted here since the import, not imported again" in output


def test_an_existing_article_at_the_same_address_is_left_alone(
    client, export, starter_content
):
    starter = Article.objects.get(slug=FIBRO)

    output = run_import(export, "--uploads", UPLOADS)

    assert Article.objects.get(slug=FIBRO).body == starter.body
    assert f"/articles/{FIBRO}/ exists already, left as it is" in output
    assert client.get("/?p=10")["Location"] == f"/articles/{FIBRO}/"


def test_an_export_with_entity_tricks_is_refused(tmp_path):
    hostile = tmp_path / "export.xml"
    hostile.write_text(
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel>'
        "<title>&b;</title></channel></rss>"
    )

    with pytest.raises(CommandError, match="Cannot read"):
        run_import(hostile)


def test_page_at_an_address_the_site_uses_gets_another(export):
    export.write_text(export.read_text().replace("about-our-clinic", "search"))

    run_import(export, "--uploads", UPLOADS)

    assert Page.objects.get().slug == "search-page"


def test_pictures_outside_the_uploads_folder_are_never_read(export, tmp_path):
    shutil.copy(UPLOADS / "2024" / "05" / "infusion-room.jpg", tmp_path / "secret.jpg")
    uploads = tmp_path / "uploads"
    shutil.copytree(UPLOADS, uploads)
    export.write_text(
        export.read_text().replace(
            "<![CDATA[2024/05/infusion-room.jpg]]>", "<![CDATA[../secret.jpg]]>"
        )
    )

    output = run_import(export, "--uploads", uploads)

    assert not Article.objects.get(slug=FIBRO).hero_image
    assert "Picture secret.jpg: not in the uploads folder" in output


def test_a_picture_over_the_size_limit_is_reported(export, settings):
    settings.HERO_IMAGE_MAX_BYTES = 1000

    output = run_import(export, "--uploads", UPLOADS)

    assert not Article.objects.get(slug=FIBRO).hero_image
    assert "Please upload an image of at most 1000" in output


@pytest.mark.parametrize(
    ("content", "cleaned"),
    [
        ('<p>Before</p>[gallery ids="1,2,3"]<p>After</p>', "<p>Before</p><p>After</p>"),
        (
            "<p>Pain eased [1] in most [citation needed].</p>",
            "<p>Pain eased [1] in most [citation needed].</p>",
        ),
        (
            '<p>[su_note note_color="#fff"][su_highlight]Call us[/su_highlight]'
            "[/su_note]</p>",
            "<p>Call us</p>",
        ),
        ("<h1>Title</h1><h5>Small</h5>", "<h2>Title</h2><h4>Small</h4>"),
        (
            "First line\nsecond line\n\nNext paragraph",
            "<p>First line<br>second line</p><p>Next paragraph</p>",
        ),
    ],
)
def test_bodies_keep_text_and_lose_what_means_nothing_here(content, cleaned):
    assert clean_content(content) == cleaned


def test_addresses_beyond_ascii_become_plain_slugs_and_still_redirect(client, export):
    export.write_text(
        export.read_text()
        .replace(
            "<![CDATA[fibromyalgia]]></wp:category_nicename>",
            "<![CDATA[fibromyalg%c3%ada]]></wp:category_nicename>",
        )
        .replace('nicename="fibromyalgia"', 'nicename="fibromyalg%c3%ada"')
    )

    run_import(export, "--uploads", UPLOADS)

    assert Topic.objects.get(name="Fibromyalgia").slug == "fibromyalgia"
    assert client.get("/category/fibromyalg%C3%ADa/")["Location"] == (
        "/topics/fibromyalgia/"
    )
    assert Article.objects.get(slug=FIBRO).topics.filter(slug="fibromyalgia").exists()

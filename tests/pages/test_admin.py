from datetime import timedelta

import pytest
import reversion
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from reversion.models import Version

from pages.models import Article
from tests.conftest import image_bytes
from tests.pages.conftest import approve_and_publish

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<p onmouseover="alert(1)">hover</p>',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<body onload=alert(1)>",
    '"><script>alert(1)</script>',
]
DANGEROUS = (
    "<script",
    "onerror",
    "onload",
    "onmouseover",
    "javascript:",
    "style=",
    "<iframe",
    "<object",
    "<svg",
    "<form",
    "data:text/html",
    "<img",
)


def article_form(**overrides):
    data = {
        "title": "Sleep and fibromyalgia",
        "slug": "sleep-and-fibromyalgia",
        "summary": "How poor sleep and fibromyalgia feed each other.",
        "body": "<h2>Why sleep matters</h2><ul><li>Rest</li></ul>"
        '<p><a href="https://example.org/study">A study</a></p>',
        "hero_image_alt": "",
    }
    return data | overrides


def take_step(client, url, step, **overrides):
    """Press one of the change page's review and publishing buttons."""
    return client.post(url, article_form(_workflow=step, **overrides))


def test_staff_creates_previews_publishes_and_edits_an_article(
    admin_client, client, clinic, django_capture_on_commit_callbacks
):
    response = admin_client.post("/admin/pages/article/add/", article_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get(slug="sleep-and-fibromyalgia")
    change_url = f"/admin/pages/article/{article.pk}/change/"

    assert client.get(article.get_absolute_url()).status_code == 404
    preview = admin_client.get(article.get_absolute_url())
    assert "Preview: not public." in preview.text
    assert '<h2 id="why-sleep-matters">Why sleep matters</h2>' in preview.text
    assert '<a href="https://example.org/study"' in preview.text

    take_step(admin_client, change_url, "approve")
    take_step(admin_client, change_url, "publish")
    assert "Sleep and fibromyalgia" in client.get("/articles/").text

    take_step(admin_client, change_url, "approve", summary="Edited summary.")
    assert "Edited summary." not in client.get(article.get_absolute_url()).text
    with django_capture_on_commit_callbacks(execute=True):
        take_step(admin_client, change_url, "publish", summary="Edited summary.")
    assert "Edited summary." in client.get(article.get_absolute_url()).text


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_pasted_into_the_body_is_removed(admin_client, client, clinic, payload):
    body = f"<p>Before</p>{payload}<p>After</p>"
    admin_client.post("/admin/pages/article/add/", article_form(body=body))

    article = approve_and_publish(Article.objects.get())
    page = client.get(article.get_absolute_url()).text
    prose = page.split('<div class="prose">', 1)[1].split("</div>", 1)[0]
    for marker in DANGEROUS:
        assert marker not in article.body.lower()
        assert marker not in prose.lower()
    assert "<p>Before</p>" in prose


def test_publishing_without_a_date_publishes_now(admin_client, client, clinic):
    admin_client.post("/admin/pages/article/add/", article_form())
    change_url = f"/admin/pages/article/{Article.objects.get().pk}/change/"
    take_step(admin_client, change_url, "approve")
    response = take_step(admin_client, change_url, "publish")

    assert response.status_code == 302
    assert client.get("/articles/sleep-and-fibromyalgia/").status_code == 200
    assert Article.objects.get().published_at <= timezone.now()


def test_page_body_is_sanitised_through_the_admin(admin_client, client, clinic):
    admin_client.post(
        "/admin/pages/page/add/",
        {
            "title": "About",
            "slug": "about",
            "meta_description": "",
            "body": '<p onclick="x()">Hi</p><script>alert(1)</script>',
            "navigation_order": 0,
        },
    )

    html = client.get("/about/").text
    assert "<script>alert(1)" not in html
    assert "onclick" not in html


def test_real_image_is_accepted_with_alt_text(admin_client):
    image = SimpleUploadedFile("hero.png", image_bytes(), content_type="image/png")
    response = admin_client.post(
        "/admin/pages/article/add/",
        article_form(hero_image=image, hero_image_alt="A calm infusion room"),
    )

    assert response.status_code == 302
    assert Article.objects.get().hero_image.width == 40


def test_image_without_alt_text_is_rejected(admin_client):
    image = SimpleUploadedFile("hero.png", image_bytes(), content_type="image/png")
    response = admin_client.post(
        "/admin/pages/article/add/", article_form(hero_image=image)
    )

    assert response.status_code == 200
    assert "Please describe the picture" in response.text
    assert not Article.objects.exists()


def test_file_that_is_not_an_image_is_rejected(admin_client):
    fake = SimpleUploadedFile("hero.png", b"<?php echo 1; ?>", content_type="image/png")
    response = admin_client.post(
        "/admin/pages/article/add/",
        article_form(hero_image=fake, hero_image_alt="x"),
    )

    assert response.status_code == 200
    assert "Please upload a JPEG, PNG or WebP picture" in response.text
    assert not Article.objects.exists()


def test_image_over_10_mb_is_rejected(admin_client, settings):
    settings.HERO_IMAGE_MAX_BYTES = 1000
    big = image_bytes(size=(400, 400), image_format="JPEG")
    image = SimpleUploadedFile("hero.jpg", big, content_type="image/jpeg")
    response = admin_client.post(
        "/admin/pages/article/add/",
        article_form(hero_image=image, hero_image_alt="x"),
    )

    assert response.status_code == 200
    assert "Please upload an image of at most 1000\xa0bytes" in response.text


def test_every_admin_save_keeps_a_revision_that_can_be_restored(
    admin_client, admin_user, client, clinic
):
    admin_client.post("/admin/pages/article/add/", article_form())
    article = Article.objects.get()
    change_url = f"/admin/pages/article/{article.pk}/change/"
    admin_client.post(change_url, article_form(summary="Second."))

    versions = Version.objects.get_for_object(article)
    assert len(versions) == 2
    assert all(v.revision.user == admin_user for v in versions)

    history = admin_client.get(f"{change_url.removesuffix('change/')}history/")
    assert history.status_code == 200
    compare = admin_client.get(
        f"{change_url.removesuffix('change/')}history/compare/",
        {"version_id1": versions[1].pk, "version_id2": versions[0].pk},
    )
    assert compare.status_code == 200
    assert "<h3>summary</h3>" in compare.text
    assert "<ins>Second</ins>" in compare.text

    first = versions[1]
    revert_url = f"{change_url.removesuffix('change/')}history/{first.pk}/"
    form = admin_client.get(revert_url).context["adminform"].form
    assert form.initial["summary"] == "How poor sleep and fibromyalgia feed each other."
    admin_client.post(revert_url, article_form())
    article.refresh_from_db()
    assert article.summary == "How poor sleep and fibromyalgia feed each other."


def test_admin_filters_articles_whose_review_is_overdue(admin_client, make_article):
    make_article("Overdue", next_review_due=timezone.localdate() - timedelta(days=1))
    make_article("Current", next_review_due=timezone.localdate() + timedelta(days=9))

    html = admin_client.get("/admin/pages/article/", {"review": "overdue"}).text

    assert "Overdue" in html
    assert ">Current<" not in html


def test_admin_article_list_shows_view_on_site_and_search(admin_client, make_article):
    article = make_article("Searchable")
    with reversion.create_revision():
        article.save()

    html = admin_client.get(f"/admin/pages/article/{article.pk}/change/").text
    assert "View on site" in html
    assert "Searchable" in admin_client.get("/admin/pages/article/?q=Searchable").text


def test_clinic_details_cannot_be_added_twice_or_deleted(admin_client, clinic):
    assert admin_client.get("/admin/pages/clinicdetails/add/").status_code == 403
    assert (
        admin_client.get(f"/admin/pages/clinicdetails/{clinic.pk}/delete/").status_code
        == 403
    )

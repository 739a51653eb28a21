"""The publish checks in the article's admin: the panel, and the gate on publishing."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from pages.models import Article
from tests.pages.test_admin import article_form

CLAIM = "<h2>Why sleep matters</h2><p>Ketamine cures fibromyalgia.</p>"


@pytest.fixture
def topic_with_article(make_topic, make_article):
    topic = make_topic("Fibromyalgia")
    make_article("Sleep and fibromyalgia", topics=[topic])
    return topic


def change_url(article):
    return f"/admin/pages/article/{article.pk}/change/"


def typed_value(html, name):
    """The value the form shows in the input (or textarea) called name."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    if found is None:
        found = re.search(
            rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S
        )
    return unescape(found.group(1))


def press(client, article, step, **edits):
    """
    Press a review or publishing button of the change page as it stands (the
    working copy of a published article), with these edits.
    """
    text = Article.objects.get(pk=article.pk).pending_text()
    data = article_form(
        **{field: text[field] for field in ("title", "slug", "summary", "body")}
    )
    return client.post(
        change_url(article), data | {"_workflow": step} | edits, follow=True
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_publishing_an_article_with_an_error_is_refused_and_keeps_the_input(
    admin_client, make_article, clinic
):
    article = make_article("Sleep and pain", status=Article.Status.DRAFT)
    press(
        admin_client, article, "approve", title="Sleep and pain, explained", body=CLAIM
    )

    response = press(admin_client, article, "publish")

    assert messages_of(response)[:2] == [
        "This article cannot be published until these problems are fixed:",
        "Says ketamine therapy cures: no treatment for these conditions is known "
        "to cure them. Say what it may help with instead. (“Ketamine cures "
        "fibromyalgia.”)",
    ]
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    html = response.text
    assert typed_value(html, "title") == "Sleep and pain, explained"
    assert "Ketamine cures fibromyalgia." in typed_value(html, "body")


def test_a_published_article_keeps_its_public_text_when_its_changes_are_refused(
    admin_client, client, make_article, clinic
):
    article = make_article("Sleep and pain")
    press(admin_client, article, "approve", body=CLAIM)

    response = press(admin_client, article, "publish")

    assert "This article cannot be published" in messages_of(response)[0]
    article.refresh_from_db()
    assert "cures" not in article.body
    assert "cures" in article.working_copy["body"]
    assert "cures" not in client.get(article.get_absolute_url()).text
    assert "Ketamine cures fibromyalgia." in typed_value(response.text, "body")


def test_an_article_with_errors_may_be_saved_as_a_draft(admin_client, clinic):
    response = admin_client.post("/admin/pages/article/add/", article_form(body=CLAIM))

    assert response.status_code == 302
    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT
    assert "cures" in article.body


def test_a_published_article_can_be_unpublished_despite_errors(
    admin_client, client, make_article, clinic
):
    article = make_article("Old claims", body=CLAIM)

    response = press(admin_client, article, "unpublish")

    assert messages_of(response) == ["“Old claims”: unpublished: it is a draft again."]
    assert client.get(article.get_absolute_url()).status_code == 404


def test_warnings_do_not_block_publishing(admin_client, client, make_article, clinic):
    long_paragraph = "<p>" + "We rest at home. " * 31 + "</p>"
    article = make_article("Resting", status=Article.Status.DRAFT)  # no topic either
    press(admin_client, article, "approve", body=long_paragraph)

    response = press(admin_client, article, "publish")

    assert messages_of(response) == ["“Resting”: published."]
    assert client.get(article.get_absolute_url()).status_code == 200
    panel = response.text.split('id="publish-checks"')[1].split("</section>")[0]
    assert "3 pieces of advice (publishing is not blocked)" in panel
    assert "This paragraph has 124 words" in panel
    assert "The article has no topic" in panel
    assert "does not say that results vary" in panel


def test_panel_lists_what_the_checks_find_with_links_to_the_fields(
    admin_client, make_article, topic_with_article
):
    article = make_article(
        "Deep headings",
        status=Article.Status.DRAFT,
        body="<h2>Overview</h2><h4>Too deep</h4><p>Results vary.</p>",
        topics=[topic_with_article],
    )

    html = admin_client.get(change_url(article)).text

    assert "2 problems to fix before publishing" in html
    assert "A clinical reviewer must approve this text before it is published" in html
    assert '<q class="publish-check__quote">Too deep</q>' in html
    assert 'href="#id_body" data-field="body" data-quote="Too deep"' in html
    assert "advice" not in html.split('id="publish-checks"')[1].split("</section>")[0]


def test_panel_of_a_published_article_checks_its_pending_changes(
    admin_client, make_article, topic_with_article
):
    article = make_article(
        "Sleep and pain",
        body="<h2>What to expect</h2><p>Results vary from person to person.</p>",
        topics=[topic_with_article],
    )
    article.mark_text_approved()
    article.save()
    admin_client.post(
        change_url(article),
        article_form(
            title=article.title,
            slug=article.slug,
            summary=article.summary,
            body=CLAIM,
            topics=[topic_with_article.pk],
        ),
    )

    panel = admin_client.get(change_url(article)).text.split('id="publish-checks"')[1]

    assert "Ketamine cures fibromyalgia." in panel.split("</section>")[0]
    assert "A clinical reviewer must approve this text" in panel.split("</section>")[0]


def test_panel_shows_the_checks_of_what_was_typed(admin_client, clinic):
    response = admin_client.post(
        "/admin/pages/article/add/",
        article_form(summary="", body=CLAIM),
    )

    panel = response.text.split('id="publish-checks"')[1].split("</section>")[0]
    assert "There is no summary" in panel
    assert "Ketamine cures fibromyalgia." in panel


def test_panel_says_all_is_well_when_nothing_is_found(
    admin_client, make_article, topic_with_article
):
    article = make_article(
        "All good",
        body="<h2>What to expect</h2><p>Results vary from person to person.</p>",
        topics=[topic_with_article],
        next_review_due=timezone.localdate() + timedelta(days=30),
    )
    article.mark_text_approved()
    article.save()

    html = admin_client.get(change_url(article)).text

    assert "No problems found: the article can be published." in html


def test_new_article_page_explains_the_checks(admin_client, clinic):
    html = admin_client.get("/admin/pages/article/add/").text

    assert "The article is checked when you save it." in html


def test_previews_start_with_the_saved_title_summary_and_address(
    admin_client, make_article, clinic, settings
):
    settings.SITE_URL = "https://www.example.com"
    article = make_article("Sleep and pain", summary="How sleep and pain interact.")

    html = admin_client.get(change_url(article)).text
    previews = html.split('class="module article-previews"')[1].split("</section>")[0]

    assert "https://www.example.com/articles/sleep-and-pain/" in previews
    assert "Sleep and pain | Roswell Infusions" in previews
    assert previews.count("How sleep and pain interact.") == 2
    assert 'src="/static/img/share-default.png"' in previews


def test_summary_too_long_is_reported_once(admin_client, clinic):
    form = (
        admin_client.post("/admin/pages/article/add/", article_form(summary="x" * 161))
        .context["adminform"]
        .form
    )

    assert form.errors["summary"] == [
        "Ensure this value has at most 160 characters (it has 161)."
    ]


def test_picture_help_text_states_the_limits_from_the_settings(admin_client, settings):
    settings.HERO_IMAGE_MAX_BYTES = 2 * 1024 * 1024
    settings.HERO_IMAGE_MAX_PIXELS = 12_000_000

    html = admin_client.get("/admin/pages/article/add/").text

    assert "JPEG, PNG or WebP, at most 2.0\xa0MB and 12 megapixels." in html
    assert "10 MB" not in html

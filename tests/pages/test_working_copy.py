"""The live page stays live: edits to a published article wait until published."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone

from pages.caching import NotedContentState
from pages.models import Article
from tests.pages.conftest import logged_in
from tests.pages.test_workflow import change_url, form_for

PUBLIC_PATHS = ("/", "/articles/", "/topics/fibromyalgia/", "/articles/feed.xml")


@pytest.fixture
def live(make_article, make_topic, make_page, clinic, reviewer, publisher):
    make_page("Home", slug="home")
    topic = make_topic("Fibromyalgia")
    article = make_article(
        "Ketamine and fibromyalgia",
        status=Article.Status.DRAFT,
        summary="The published summary.",
        body="<h2>Published heading</h2><p>The published text.</p>",
        topics=[topic],
    )
    article.approve(by=reviewer)
    article.publish(by=publisher)
    article.refresh_from_db()
    return article


@pytest.fixture
def edit_pending(writer, live, django_capture_on_commit_callbacks):
    """The writer's edit of the live article, saved and committed."""

    def edit():
        with django_capture_on_commit_callbacks(execute=True):
            response = logged_in(writer).post(
                change_url(live),
                form_for(
                    live,
                    title="Pending title",
                    summary="Pending summary.",
                    body="<h2>Pending heading</h2><p>Pending text.</p>",
                ),
            )
        assert response.status_code == 302
        live.refresh_from_db()
        return live

    return edit


def everything_public(client, article):
    pages = [client.get(article.get_absolute_url()).text]
    pages += [client.get(path).text for path in PUBLIC_PATHS]
    pages.append(client.get("/sitemap.xml").text)
    return "\n".join(pages)


def test_pending_change_never_reaches_visitors_the_feed_or_the_sitemap(
    client, live, edit_pending
):
    before = everything_public(client, live)
    assert "The published text." in before

    article = edit_pending()

    assert article.state == Article.State.PENDING_CHANGES
    assert article.body == "<h2>Published heading</h2><p>The published text.</p>"
    # From the page cache, and rendered afresh once the cache is forgotten.
    cached = everything_public(client, live)
    NotedContentState.forget()
    for alias in ("pages", "public_pages"):
        caches[alias].clear()
    fresh = everything_public(client, live)
    for served in (cached, fresh):
        assert "Pending" not in served
        assert "The published text." in served
    # Not even the dates tell: the sitemap's lastmod, the page's "Updated".
    assert fresh == before


def test_staff_preview_shows_the_working_copy_clearly_marked(
    writer, live, edit_pending, client
):
    edit_pending()

    preview = logged_in(writer).get(live.get_absolute_url()).text

    assert "Preview: changes not yet published." in preview
    assert "Pending text." in preview
    assert "The published text." not in preview
    assert '<h2 id="pending-heading">Pending heading</h2>' in preview
    assert "Preview" not in client.get(live.get_absolute_url()).text


def test_publishing_the_approved_change_refreshes_every_public_page_at_once(
    client,
    live,
    edit_pending,
    reviewer,
    publisher,
    writer,
    django_capture_on_commit_callbacks,
):
    everything_public(client, live)
    article = edit_pending()
    article.submit_for_review(by=writer)
    with django_capture_on_commit_callbacks(execute=True):
        article.approve(by=reviewer)
    assert "Pending" not in everything_public(client, live)

    with django_capture_on_commit_callbacks(execute=True):
        article.publish(by=publisher)

    served = everything_public(client, live)
    assert "The published text." not in served
    for pending in ("Pending title", "Pending summary.", "Pending text."):
        assert pending in served
    article.refresh_from_db()
    assert article.state == Article.State.PUBLISHED
    assert article.working_copy is None
    assert article.reviewed_by == "Dr. Rita Ames, MD"


def test_approval_of_pending_changes_stamps_the_page_only_once_published(
    live, edit_pending, reviewer, publisher, make_staff, client
):
    before = live.last_reviewed
    second = make_staff("sol", "Clinical reviewers", profile=("Dr. Sol Reyes", "DO"))
    article = edit_pending()

    article.approve(by=second)

    article.refresh_from_db()
    assert article.reviewed_by == "Dr. Rita Ames, MD"
    assert article.last_reviewed == before
    assert "Dr. Sol Reyes" not in client.get(article.get_absolute_url()).text
    article.publish(by=publisher)
    assert article.reviewed_by == "Dr. Sol Reyes, DO"


def test_edit_back_to_the_published_text_leaves_nothing_pending(
    writer, live, edit_pending
):
    edit_pending()

    logged_in(writer).post(
        change_url(live),
        form_for(
            live,
            title="Ketamine and fibromyalgia",
            summary="The published summary.",
            body="<h2>Published heading</h2><p>The published text.</p>",
            topics=[topic.pk for topic in live.topics.all()],
        ),
    )

    live.refresh_from_db()
    assert live.working_copy is None
    assert live.state == Article.State.PUBLISHED


def test_the_change_form_shows_the_working_copy(writer, live, edit_pending):
    edit_pending()

    form = logged_in(writer).get(change_url(live)).context["adminform"].form

    assert form.initial["title"] == "Pending title"
    assert form.initial["body"] == "<h2>Pending heading</h2><p>Pending text.</p>"


def test_a_topic_change_waits_with_the_working_copy(
    writer, live, make_topic, publisher
):
    sleep = make_topic("Sleep")
    logged_in(writer).post(change_url(live), form_for(live, topics=[sleep.pk]))

    assert [topic.name for topic in live.topics.all()] == ["Fibromyalgia"]
    # Topics are no medical claim: the text's approval still holds.
    live.publish(by=publisher)
    assert [topic.name for topic in live.topics.all()] == ["Sleep"]


def test_unpublishing_keeps_the_latest_text_as_a_draft(
    live, edit_pending, publisher, client
):
    article = edit_pending()

    article.unpublish(by=publisher)

    article.refresh_from_db()
    assert article.state == Article.State.DRAFT
    assert article.title == "Pending title"
    assert client.get(article.get_absolute_url()).status_code == 404


def test_scheduled_article_edits_wait_too(make_article, reviewer, publisher, writer):
    article = make_article("Later", status=Article.Status.DRAFT)
    article.approve(by=reviewer)
    article.schedule(by=publisher, at=timezone.now() + timedelta(days=2))

    logged_in(writer).post(change_url(article), form_for(article, summary="Sneaky."))

    article.refresh_from_db()
    assert article.summary == "A summary of Later."
    assert article.working_copy["summary"] == "Sneaky."

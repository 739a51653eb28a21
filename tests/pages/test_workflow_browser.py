"""
Three members of staff take a change to a live article through review in the
admin, while a patient's browser keeps seeing the published article.
"""

from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from pages.models import Article

PASSWORD = "a long passphrase for the test"
PUBLISHED_SUMMARY = "How ketamine infusions may ease fibromyalgia pain."
FIRST_TRY = "Ketamine cures fibromyalgia for good."
NEW_SLUG = "ketamine-for-fibromyalgia"
FIXED = "Ketamine infusions eased pain for some people with fibromyalgia."


@pytest.fixture
def staff(make_staff):
    return {
        "writer": make_staff(
            "wendy", "Writers", profile=("Wendy Writer", ""), password=PASSWORD
        ),
        "reviewer": make_staff(
            "rita",
            "Clinical reviewers",
            profile=("Dr. Rita Ames", "MD"),
            password=PASSWORD,
        ),
        "publisher": make_staff(
            "paul", "Publishers", profile=("Paul Price", ""), password=PASSWORD
        ),
    }


@pytest.fixture
def live_article(make_article, clinic, staff):
    article = make_article(
        "Ketamine and fibromyalgia",
        status=Article.Status.DRAFT,
        summary=PUBLISHED_SUMMARY,
        body="<h2>What to expect</h2><p>The published text.</p>",
    )
    article.approve(by=staff["reviewer"])
    article.publish(by=staff["publisher"])
    return article


@contextmanager
def logged_in(browser, live_server, user):
    """
    A browser of its own for one member of staff, logged in to the admin, and
    closed afterwards: on SQLite the live server answers one connection at a
    time, and a browser left open may hold one.
    """
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    try:
        yield page
    finally:
        context.close()


def take_step(page, button, done):
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(done)


def test_a_change_goes_public_only_once_reviewed_approved_and_published(
    live_server, browser, staff, live_article, axe_violations, screenshots_dir
):
    public_url = f"{live_server.url}{live_article.get_absolute_url()}"
    change_url = f"{live_server.url}/admin/pages/article/{live_article.pk}/change/"

    @contextmanager
    def patient():
        """A visitor's browser on the article, closed afterwards (see logged_in)."""
        context = browser.new_context()
        page = context.new_page()
        page.goto(public_url)
        try:
            yield page
        finally:
            context.close()

    def public_summary():
        with patient() as page:
            return page.locator(".lead").inner_text()

    def as_staff(role):
        return logged_in(browser, live_server, staff[role])

    assert public_summary() == PUBLISHED_SUMMARY

    with as_staff("writer") as writer:
        writer.goto(change_url)
        writer.get_by_label("Summary:").fill(FIRST_TRY)
        take_step(writer, "Submit for review", "submitted for review")
        expect(writer.get_by_text("In review")).to_be_visible()
    assert public_summary() == PUBLISHED_SUMMARY

    with as_staff("reviewer") as reviewer:
        reviewer.goto(f"{live_server.url}/admin/pages/article/?for_me=waiting")
        reviewer.get_by_role("link", name="Ketamine and fibromyalgia").click()
        expect(reviewer.get_by_label("Summary:")).to_have_value(FIRST_TRY)
        expect(reviewer.locator(".ProseMirror[contenteditable=true]")).to_be_visible()
        violations = axe_violations(reviewer)
        assert not violations, "\n".join(violations)
        reviewer.screenshot(path=screenshots_dir / "admin-review.png", full_page=True)
        reviewer.get_by_role("button", name="Send back", exact=True).click()
        expect(reviewer.get_by_text("Please say what needs to change")).to_be_visible()
        reviewer.get_by_label("Comment for the writer:").fill(
            "“Cures” is a claim we cannot make: say what the studies found."
        )
        take_step(reviewer, "Send back", "sent back")
    assert public_summary() == PUBLISHED_SUMMARY

    with as_staff("writer") as writer:
        writer.goto(change_url)
        expect(writer.get_by_text("“Cures” is a claim we cannot make")).to_be_visible()
        expect(writer.locator(".ProseMirror[contenteditable=true]")).to_be_visible()
        violations = axe_violations(writer)
        assert not violations, "\n".join(violations)
        writer.get_by_label("Summary:").fill(FIXED)
        writer.get_by_label("Slug:").fill(NEW_SLUG)
        take_step(writer, "Submit for review", "submitted for review")

    with as_staff("reviewer") as reviewer:
        reviewer.goto(change_url)
        expect(reviewer.get_by_label("Summary:")).to_have_value(FIXED)
        take_step(reviewer, "Approve", "approved")
    assert public_summary() == PUBLISHED_SUMMARY

    with as_staff("publisher") as publisher:
        publisher.goto(change_url)
        take_step(publisher, "Publish", "published")

    new_url = f"{live_server.url}/articles/{NEW_SLUG}/"
    with patient() as page:
        moved = page.request.get(public_url, max_redirects=0)
        assert moved.status == 301
        assert moved.headers["location"] == f"/articles/{NEW_SLUG}/"
        assert page.url == new_url
        expect(page.locator(".lead")).to_have_text(FIXED)
        byline = page.get_by_text("Medically reviewed by Dr. Rita Ames, MD")
        expect(byline).to_be_visible()
        expect(page.get_by_text("Preview")).to_have_count(0)

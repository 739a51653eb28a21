"""The admin and its editor work under the enforced Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from pages.models import Article

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
    console.error(`CSP violation: ${event.violatedDirective} ${event.sourceFile}`);
});
"""


@pytest.fixture
def watched_page(page):
    """A page that records console errors, CSP violations among them."""
    errors = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.errors = errors
    return page


def test_staff_edit_an_article_with_csp_enforced(
    live_server, watched_page, admin_user, starter_content
):
    page = watched_page
    article = Article.objects.get()
    response = page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()

    response = page.goto(f"{live_server.url}/admin/pages/article/{article.pk}/change/")
    assert (
        "unsafe-inline"
        not in response.headers["content-security-policy"]
        .split("script-src")[1]
        .split(";")[0]
    )
    editor = page.locator(".ProseMirror[contenteditable=true]")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+Home")
    page.keyboard.type("Reviewed in November. ")
    page.get_by_role("button", name="bold").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # The article is published: the edit waits in its working copy, which the
    # staff preview shows.
    article.refresh_from_db()
    assert article.working_copy["body"].startswith("<p>Reviewed in November.")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    expect(page.get_by_text("Reviewed in November.")).to_be_visible()

    csp_errors = [
        e for e in page.errors if "Content Security Policy" in e or "CSP" in e
    ]
    assert csp_errors == []

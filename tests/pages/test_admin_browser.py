"""A staff member writes, previews and publishes an article in the admin's editor."""

from playwright.sync_api import expect

from pages.models import Article

PASTED_HTML = (
    '<p>Pasted <img src="x" onerror="window.xssFired = true">text</p>'
    "<script>window.xssFired = true</script>"
    '<p><a href="javascript:window.xssFired = true">bad link</a></p>'
)
PASTE = """([selector, html]) => {
    const data = new DataTransfer();
    data.setData("text/html", html);
    const paste = new ClipboardEvent(
        "paste", {clipboardData: data, bubbles: true, cancelable: true}
    );
    document.querySelector(selector).dispatchEvent(paste);
}"""


def test_staff_writes_previews_and_publishes_an_article(
    live_server, staff_page, screenshots_dir
):
    page = staff_page
    page.goto(f"{live_server.url}/admin/pages/article/add/")
    page.get_by_label("Title:").press_sequentially("Sleep and fibromyalgia")
    expect(page.get_by_label("Slug:")).to_have_value("sleep-and-fibromyalgia")
    page.get_by_label("Summary:").fill("How sleep and pain feed each other.")

    editor = page.locator(".ProseMirror[contenteditable=true]")
    editor.click()
    page.keyboard.type("## Why sleep matters\n- Rest well\nKeep a routine\n\n")
    page.evaluate(PASTE, [".ProseMirror[contenteditable=true]", PASTED_HTML])
    page.keyboard.press("Enter")
    page.keyboard.type("Read a study")
    page.keyboard.press("Shift+Home")
    page.get_by_role("button", name="insert link").click()
    page.get_by_label("URL").fill("https://example.org/study")
    page.get_by_role("button", name="Update").click()
    page.screenshot(path=screenshots_dir / "admin-article-editor.png", full_page=True)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT
    assert "<h2>Why sleep matters</h2>" in article.body
    assert (
        "<ul><li><p>Rest well</p></li><li><p>Keep a routine</p></li></ul>"
        in article.body
    )
    assert 'href="https://example.org/study"' in article.body
    for marker in ("onerror", "<script", "javascript:", "<img"):
        assert marker not in article.body

    change_url = page.url
    page.get_by_role("link", name="View on site").click()
    expect(page.get_by_text("Preview: not public.")).to_be_visible()
    expect(page.get_by_role("heading", name="Why sleep matters")).to_be_visible()
    assert page.evaluate("window.xssFired") is None
    page.goto(change_url)

    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("approved")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("published")

    page.goto(f"{live_server.url}/articles/")
    page.get_by_role("link", name="Sleep and fibromyalgia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sleep and fibromyalgia")
    expect(page.get_by_text("Preview: not public.")).to_have_count(0)
    expect(page.get_by_role("link", name="Read a study")).to_have_attribute(
        "href", "https://example.org/study"
    )
    assert page.evaluate("window.xssFired") is None

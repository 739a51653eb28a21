"""
What an editor sees of the publish checks and the editor's aids in a real
browser: the panel, counters, previews, the question before leaving, the gate.
"""

import re

import pytest
from playwright.sync_api import expect

from pages.models import Article

PROBLEMS = (
    "<h2>Overview</h2><h4>Too deep</h4>"
    '<p>Ketamine cures fibromyalgia. See <a href="/articles/gone/">here</a>.</p>'
)


@pytest.fixture
def article_with_problems(make_article, make_topic):
    return make_article(
        "Ketamine and pain", body=PROBLEMS, topics=[make_topic("Fibromyalgia")]
    )


def open_change_page(live_server, page, article):
    page.goto(f"{live_server.url}/admin/pages/article/{article.pk}/change/")
    expect(page.locator(".ProseMirror[contenteditable=true]")).to_be_visible()


def test_change_page_with_the_checks_panel_open_passes_axe(
    live_server, staff_page, article_with_problems, axe_violations, screenshots_dir
):
    page = staff_page
    open_change_page(live_server, page, article_with_problems)
    panel = page.get_by_role("region", name="Publish checks")
    expect(panel.get_by_role("heading", name="problems to fix")).to_have_text(
        "5 problems to fix before publishing"
    )
    expect(panel.get_by_role("heading", name="of advice")).to_be_visible()
    expect(page.locator("#id_title_counter")).to_be_visible()
    page.screenshot(path=screenshots_dir / "admin-publish-checks.png", full_page=True)

    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


def test_counters_and_previews_follow_what_is_typed(
    live_server, staff_page, screenshots_dir, settings
):
    page = staff_page
    page.goto(f"{live_server.url}/admin/pages/article/add/")
    title = page.get_by_label("Title:")
    summary = page.get_by_label("Summary:")
    expect(title).to_have_accessible_description(re.compile("0 of 200 characters"))

    title.press_sequentially("Sleep and fibromyalgia")
    summary.fill("How poor sleep and pain feed each other, and what helps.")

    expect(page.locator("#id_title_counter")).to_have_text(
        "22 of 200 characters. Search results show about the first 60."
    )
    expect(page.locator("#id_summary_counter")).to_have_text("56 of 160 characters")
    expect(summary).to_have_accessible_description(re.compile("56 of 160 characters"))
    search = page.get_by_role("figure", name="In search results")
    expect(search.locator(".search-preview__title")).to_have_text(
        "Sleep and fibromyalgia | Roswell Infusions"
    )
    expect(search.locator(".search-preview__url")).to_have_text(
        f"{settings.SITE_URL}/articles/sleep-and-fibromyalgia/"
    )
    card = page.get_by_role("figure", name="As a shared link")
    expect(card.locator(".card-preview__title")).to_have_text("Sleep and fibromyalgia")
    expect(card.locator(".card-preview__summary")).to_have_text(
        "How poor sleep and pain feed each other, and what helps."
    )

    title.fill("A very long title that search engines will certainly cut short")
    expect(search.locator(".search-preview__title")).to_have_text(
        "A very long title that search engines will certainly cut sh…"
    )
    summary.fill("x" * 170)  # the field takes at most 160
    expect(page.locator("#id_summary_counter")).to_have_text("160 of 160 characters")
    expect(page.locator("#id_summary_counter")).to_have_class(
        re.compile("char-counter--full")
    )
    page.screenshot(path=screenshots_dir / "admin-article-previews.png", full_page=True)


def test_heading_menu_arrow_is_drawn_without_a_font(live_server, staff_page):
    page = staff_page
    page.goto(f"{live_server.url}/admin/pages/article/add/")
    selected = page.locator(".prose-menubar__selected")
    expect(selected).to_be_visible()

    arrow = selected.evaluate(
        """element => {
            const style = getComputedStyle(element, "::after");
            return [style.content, style.borderTopStyle, style.borderTopWidth];
        }"""
    )

    # Not the character "⏷", which most fonts lack (an empty box): a CSS triangle.
    assert arrow == ['""', "solid", "5px"]


def test_a_finding_link_selects_the_quoted_text_in_the_editor(
    live_server, staff_page, article_with_problems
):
    page = staff_page
    open_change_page(live_server, page, article_with_problems)

    page.locator('.publish-check__goto[data-quote="Too deep"]').click()

    # Chromium ends a selection that reaches the end of a block with a newline.
    assert page.evaluate("window.getSelection().toString()").strip() == "Too deep"
    expect(page.locator(".ProseMirror[contenteditable=true]")).to_be_focused()


def test_leaving_with_unsaved_edits_asks_first(
    live_server, staff_page, article_with_problems
):
    page = staff_page
    open_change_page(live_server, page, article_with_problems)
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", answer)
    page.get_by_role("link", name="Articles", exact=True).first.click()
    expect(page).to_have_url(re.compile("/admin/pages/article/$"))
    assert asked == []  # nothing typed yet: no question

    open_change_page(live_server, page, article_with_problems)
    page.locator(".ProseMirror[contenteditable=true] p").click()
    page.keyboard.type(" More text.")
    with page.expect_event("dialog"):
        page.get_by_role("link", name="Articles", exact=True).first.click()
    assert asked == ["beforeunload"]
    assert "/change/" in page.url
    expect(page.locator(".ProseMirror[contenteditable=true]")).to_contain_text(
        "More text."
    )


def take_step(page, button, done):
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(done)


def test_publishing_with_problems_is_refused_and_keeps_the_edits(
    live_server, staff_page, make_topic
):
    page = staff_page
    make_topic("Fibromyalgia")
    page.goto(f"{live_server.url}/admin/pages/article/add/")
    page.get_by_label("Title:").press_sequentially("Sleep and fibromyalgia")
    page.get_by_label("Summary:").fill("How sleep and pain feed each other.")
    page.locator(".ProseMirror[contenteditable=true]").click()
    page.keyboard.type("## What helps\nKetamine cures fibromyalgia. Results vary.")
    take_step(page, "Save and continue editing", "was added successfully")
    take_step(page, "Approve", "approved")

    page.get_by_role("button", name="Publish", exact=True).click()

    messages = page.locator(".messagelist")
    expect(messages).to_contain_text(
        "This article cannot be published until these problems are fixed:"
    )
    expect(messages).to_contain_text(
        "Says ketamine therapy cures: no treatment for these conditions is known "
        "to cure them. Say what it may help with instead. (“Ketamine cures "
        "fibromyalgia.”)"
    )
    expect(page.locator(".ProseMirror[contenteditable=true]")).to_contain_text(
        "Ketamine cures fibromyalgia. Results vary."
    )
    expect(page.get_by_label("Title:")).to_have_value("Sleep and fibromyalgia")
    assert not Article.objects.get().is_public

    page.locator(".ProseMirror[contenteditable=true] p").click()
    page.keyboard.press("End")
    for _ in range(len("Ketamine cures fibromyalgia. Results vary.")):
        page.keyboard.press("Backspace")
    page.keyboard.type("Ketamine may ease the pain. Results vary.")
    # The changed text needs approving again: each step saves the edits first.
    take_step(page, "Submit for review", "submitted for review")
    take_step(page, "Approve", "approved")
    take_step(page, "Publish", "published")
    assert Article.objects.get().is_public

"""A patient's journey through the article pages, in Debian's Chromium."""

import pytest
from playwright.sync_api import expect

ARTICLE_TITLE = "Ketamine Therapy For Fibromyalgia: A Way To Reduce Symptoms"


@pytest.fixture
def site(live_server, starter_content):
    return live_server.url


@pytest.mark.parametrize(
    ("width_name", "viewport"),
    [
        ("phone", {"width": 375, "height": 812}),
        ("desktop", {"width": 1280, "height": 900}),
    ],
)
def test_patient_reads_the_fibromyalgia_article(
    site, page, screenshots_dir, width_name, viewport
):
    page.set_viewport_size(viewport)
    page.goto(site)

    if width_name == "phone":
        menu_button = page.get_by_role("button", name="Menu")
        menu_button.click()
        expect(menu_button).to_have_attribute("aria-expanded", "true")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Articles"
    ).click()
    page.get_by_role("link", name=ARTICLE_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ARTICLE_TITLE)

    contents = page.get_by_role("navigation", name="Contents")
    contents.get_by_role("link", name="Potential Side Effects and Risks").click()
    expect(page).to_have_url(
        f"{site}/articles/ketamine-therapy-for-fibromyalgia/#potential-side-effects-and-risks"
    )
    expect(page.locator("#potential-side-effects-and-risks")).to_be_in_viewport()

    call_to_action = page.get_by_role("region", name="Talk to our team")
    call_to_action.scroll_into_view_if_needed()
    expect(call_to_action.get_by_role("link", name="Contact us")).to_be_visible()
    expect(call_to_action.get_by_role("link", name="Call us")).to_have_attribute(
        "href", "tel:+17705550123"
    )

    page.goto(f"{site}/articles/ketamine-therapy-for-fibromyalgia/")
    page.screenshot(path=screenshots_dir / f"article-{width_name}.png", full_page=True)

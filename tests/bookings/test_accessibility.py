"""
The consultation form for people using assistive technology or only a keyboard,
checked in Debian's Chromium with axe-core and real key presses.
"""

import pytest
from playwright.sync_api import expect


@pytest.fixture
def site(live_server, starter_content, fibromyalgia):
    return live_server.url


def send_empty_form(page):
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("#error-summary")).to_be_focused()


@pytest.mark.parametrize("width", [375, 1280])
def test_axe_finds_no_wcag_violations_in_the_empty_form(
    site, page, axe_violations, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + "/consultation/")

    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("width", [375, 1280])
def test_axe_finds_no_wcag_violations_in_the_form_with_errors(
    site, page, axe_violations, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + "/consultation/")
    send_empty_form(page)

    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


def test_axe_finds_no_wcag_violations_on_the_thank_you_page(site, page, axe_violations):
    page.goto(site + "/consultation/")
    page.get_by_label("Full name").fill("Maria Lopez")
    page.get_by_label("E-mail address").fill("maria@example.org")
    page.get_by_label("Phone number").fill("(770) 555-0188")
    page.get_by_label("Phone call").check()
    page.get_by_label("Which treatment are you interested in?").select_option(
        label="Fibromyalgia"
    )
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, we have your request"
    )

    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


FOCUSED = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    const label = element.labels && element.labels.length
        ? element.labels[0].innerText
        : element.getAttribute("aria-label") || element.innerText;
    return {
        name: label.replace(/\\s+/g, " ").trim(),
        outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
    };
}"""

# Every stop of the Tab key, in order, from the skip link to the submit button;
# the honeypot field and the hidden crisis guidance are never among them.
EXPECTED_STOPS = [
    "Skip to main content",
    "Call us: (770) 555-0123",
    "Roswell Infusions",
    "Articles",
    "About us",
    "Contact us",
    "Book a consultation",
    "Search articles",
    "Search",
    "Pick a time now",
    "Ask us to call you back",
    "988",
    "911",
    "Full name (required)",
    "E-mail address (required)",
    "Phone number (required)",
    "Phone call",
    "Which treatment are you interested in? (required)",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Any time",
    "Anything you would like us to know",
    "How did you hear about us?",
    "I agree that Roswell Infusions may contact me about this request, as described "
    "in the privacy policy. (required)",
    "privacy policy",
    "Send my request",
]


def tab_to_submit_button(page):
    """Press Tab until the submit button has focus; every stop on the way."""
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        # The page scrolls (smoothly) to show what has focus (WCAG 2.4.11).
        expect(page.locator(":focus")).to_be_in_viewport()
        stops.append(page.evaluate(FOCUSED))
        if stops[-1]["name"] == "Send my request":
            return stops
    raise AssertionError(f"Tab never reached the submit button: {stops}")


def test_keyboard_alone_reaches_and_sends_the_form_with_visible_focus(site, page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site + "/consultation/")

    stops = tab_to_submit_button(page)

    assert [stop["name"] for stop in stops] == EXPECTED_STOPS
    for stop in stops:
        assert stop["outline"] >= 2, f"no visible focus on {stop['name']}"

    page.keyboard.press("Enter")

    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please enter your name.")
    full_name = page.get_by_label("Full name")
    expect(full_name).to_have_accessible_description(
        "Please enter your name.", ignore_case=False
    )
    expect(page.get_by_label("Phone number")).to_have_accessible_description(
        "A US number such as (770) 555-0123, or with + and country code. "
        "Please enter your phone number."
    )

    page.keyboard.press("Tab")
    expect(summary.get_by_role("link", name="Please enter your name.")).to_be_focused()
    page.keyboard.press("Enter")
    expect(full_name).to_be_focused()

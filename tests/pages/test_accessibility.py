"""
WCAG 2.2 AA in Debian's Chromium: axe-core finds nothing on the public pages and
the admin's article form; text scales to 200% and reflows; motion can be reduced.
"""

import pytest
from playwright.sync_api import expect

from pages.models import Article

ARTICLE = "/articles/ketamine-therapy-for-fibromyalgia/"


@pytest.fixture
def site(live_server, starter_content):
    return live_server.url


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/articles/",
        ARTICLE,
        "/topics/fibromyalgia/",
        "/about/",
        "/contact/",
        "/privacy-policy/",
        "/medical-disclaimer/",
        "/search/?q=ketamine",
        "/search/?q=zebra",
        "/no-such-page/",
    ],
)
@pytest.mark.parametrize("width", [375, 1280])
def test_axe_finds_no_wcag_violations(site, page, axe_violations, path, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + path)

    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


def test_axe_finds_no_wcag_violations_in_the_admin_article_form(
    live_server, page, admin_user, starter_content, axe_violations
):
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    article = Article.objects.get()

    page.goto(f"{live_server.url}/admin/pages/article/{article.pk}/change/")
    expect(page.locator(".ProseMirror[contenteditable=true]")).to_be_visible()

    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


def horizontal_overflow(page):
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("path", ["/", ARTICLE, "/consultation/"])
def test_text_at_200_percent_needs_no_sideways_scrolling(site, page, path):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site + path)
    heading = page.get_by_role("heading", level=1)
    normal_height = heading.bounding_box()["height"]

    page.evaluate("document.documentElement.style.fontSize = '200%'")

    assert heading.bounding_box()["height"] >= 1.9 * normal_height
    assert horizontal_overflow(page) == 0
    # 400% zoom of a 1280 px screen: WCAG's reflow test at 320 CSS pixels.
    page.evaluate("document.documentElement.style.fontSize = ''")
    page.set_viewport_size({"width": 320, "height": 640})
    assert horizontal_overflow(page) == 0
    expect(heading).to_be_in_viewport()


def test_reduced_motion_turns_off_smooth_scrolling_and_transitions(site, page):
    page.goto(site + ARTICLE)
    button = page.get_by_role("link", name="Book a consultation").first

    def scrolling_and_button_transition():
        return page.evaluate(
            """button => [
                getComputedStyle(document.documentElement).scrollBehavior,
                getComputedStyle(button).transitionDuration.split(", ")[0],
            ]""",
            button.element_handle(),
        )

    page.emulate_media(reduced_motion="no-preference")
    assert scrolling_and_button_transition() == ["smooth", "0.15s"]

    page.emulate_media(reduced_motion="reduce")
    assert scrolling_and_button_transition() == ["auto", "0s"]


def test_contrast_and_touch_target_rules_apply_and_pass(site, page, axe_violations):
    """The 4.5:1 contrast and 24x24 px target rules really ran, and found nothing."""
    page.goto(site + "/consultation/")
    assert axe_violations(page) == []

    results = page.evaluate(
        "axe.run(document, {runOnly: ['color-contrast', 'target-size']})"
    )

    assert {rule["id"] for rule in results["passes"]} == {
        "color-contrast",
        "target-size",
    }
    assert results["violations"] == []

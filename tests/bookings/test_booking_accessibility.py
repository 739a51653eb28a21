"""
Picking a time with assistive technology or only a keyboard, checked in Debian's
Chromium with axe-core and real key presses; and the patient's own time zone.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from playwright.sync_api import expect

from bookings.models import ConsultationType

EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


@pytest.fixture
def phone_call(make_consultation_type):
    return make_consultation_type(
        "Quick phone call",
        duration_minutes=30,
        notice_hours=0,
        location=ConsultationType.Location.PHONE,
    )


@pytest.fixture
def site(live_server, starter_content, fibromyalgia, make_calendar, phone_call):
    make_calendar("Dr Ortiz", types=[phone_call], hours=EVERY_DAY)
    return live_server.url


def first_time_url(page, site):
    page.goto(site + "/consultation/book/quick-phone-call/")
    return page.locator(".time-list a").first.get_attribute("href")


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("path", ["/consultation/book/", "days", "details"])
def test_axe_finds_no_wcag_violations_when_picking_a_time(
    site, page, axe_violations, width, path
):
    page.set_viewport_size({"width": width, "height": 900})
    if path == "days":
        path = "/consultation/book/quick-phone-call/"
    elif path == "details":
        path = first_time_url(page, site)
    page.goto(site + path)

    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("width", [375, 1280])
def test_axe_finds_no_wcag_violations_on_a_time_that_is_not_free(
    site, page, axe_violations, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + "/consultation/book/quick-phone-call/20200101T1400Z/")
    expect(page.get_by_role("alert")).to_contain_text("That time is not free")

    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


FOCUSED = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    return {
        name: element.innerText.replace(/\\s+/g, " ").trim(),
        current: element.getAttribute("aria-current"),
        outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
    };
}"""


def tab_until(page, pattern, limit=80):
    """Press Tab until what has focus matches; every stop on the way."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_be_in_viewport()
        stops.append(page.evaluate(FOCUSED))
        if re.fullmatch(pattern, stops[-1]["name"]):
            return stops
    raise AssertionError(f"Tab never reached {pattern}: {stops}")


def test_keyboard_alone_picks_a_day_and_a_time_with_visible_focus(site, page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site + "/consultation/")

    stops = tab_until(page, "Pick a time now")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pick a time")
    stops += tab_until(page, "Quick phone call")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Quick phone call")

    days = tab_until(page, r"\w{3} \d{1,2} \w{3}")
    assert days[-1]["current"] == "page"
    second_day = tab_until(page, r"\w{3} \d{1,2} \w{3}")[-1]["name"]
    page.keyboard.press("Enter")
    expect(
        page.get_by_role("heading", name=re.compile("^Free times on"))
    ).to_be_visible()
    expect(page.locator("[aria-current=page]")).to_have_text(second_day)
    stops += days
    stops += tab_until(page, r"\d{1,2}:\d{2} [AP]M.*")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    for stop in stops:
        assert stop["outline"] >= 2, f"no visible focus on {stop['name']}"
    expect(page.get_by_label("Full name")).to_be_visible()
    expect(page.get_by_label("I agree that")).to_be_visible()


@pytest.mark.parametrize("timezone_id", ["America/Los_Angeles"])
def test_a_patient_in_another_zone_also_sees_their_own_time(site, browser, timezone_id):
    context = browser.new_context(timezone_id=timezone_id)
    page = context.new_page()
    tomorrow = timezone.localdate() + timedelta(days=1)
    page.goto(site + f"/consultation/book/quick-phone-call/?day={tomorrow}")

    first_time = page.locator(".time-list a").first
    expect(first_time).to_have_text("9:00 AM (6:00 AM your time)")
    expect(page.locator("[data-clinic-zone]")).to_contain_text(
        "Your device is set to Pacific Time"
    )
    context.close()


def test_a_patient_in_the_clinics_zone_sees_one_time(site, browser):
    context = browser.new_context(timezone_id="America/New_York")
    page = context.new_page()
    tomorrow = timezone.localdate() + timedelta(days=1)
    page.goto(site + f"/consultation/book/quick-phone-call/?day={tomorrow}")

    expect(page.locator(".time-list a").first).to_have_text("9:00 AM")
    expect(page.locator(".local-time")).to_have_count(0)
    context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_axe_finds_no_wcag_violations_in_the_details_form_with_errors(
    site, page, axe_violations, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + first_time_url(page, site))
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator("#error-summary")).to_be_focused()

    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("width", [375, 1280])
def test_axe_finds_no_wcag_violations_when_the_time_was_just_taken(
    site, page, axe_violations, width, make_booking, phone_call
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + first_time_url(page, site))
    fill_in_details(page)
    wanted = page.locator("time").first.get_attribute("datetime")
    make_booking(phone_call, phone_call.calendars.get(), parse_datetime(wanted))
    page.get_by_role("button", name="Book this time").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("That time was just taken")
    expect(page.get_by_label("Full name")).to_have_value("Maria Lopez")
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)

    page.get_by_role("button", name=re.compile("^Book ")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your consultation is booked"
    )
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


def fill_in_details(page):
    page.get_by_label("Full name").fill("Maria Lopez")
    page.get_by_label("E-mail address").fill("maria@example.org")
    page.get_by_label("Phone number").fill("(770) 555-0188")
    page.get_by_label("Which treatment are you interested in?").select_option(
        label="Fibromyalgia"
    )
    page.get_by_label("I agree that").check()

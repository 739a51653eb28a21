"""
A patient books a time, moves it and cancels it, in Debian's Chromium, with the
e-mail delivered by the task worker to a real SMTP server on loopback.
"""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from bookings.models import ConsultationType
from tests.bookings.conftest import run_worker
from tests.bookings.test_mail import all_text, body_text

PATIENT = "maria@example.org"
STAFF = "frontdesk@clinic.example"
NAME_AND_HEALTH_DATA = ("Maria", "Lopez", "ibromyalgia", "flares every winter")
DAYS_URL = "/consultation/book/follow-up-call/"


def a_weekday_a_few_days_ahead():
    """The first Monday to Friday at least three days after today in the clinic."""
    day = timezone.localdate() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def day():
    return a_weekday_a_few_days_ahead()


@pytest.fixture
def site(
    live_server,
    starter_content,
    fibromyalgia,
    make_consultation_type,
    make_calendar,
    day,
):
    follow_up = make_consultation_type(
        "Follow-up call",
        duration_minutes=30,
        location=ConsultationType.Location.PHONE,
    )
    # Hours on that one date only: it is the only day with free times.
    calendar = make_calendar("Dr Ortiz", types=[follow_up])
    calendar.extra_hours.create(day=day, starts="10:00", ends="12:00")
    return live_server.url


@pytest.fixture
def clinic_page(browser):
    """A page in a browser set to the clinic's time zone: one time per slot."""
    context = browser.new_context(timezone_id=settings.TIME_ZONE)
    yield context.new_page()
    context.close()


def at(day, hour):
    local = datetime.combine(day, time(hour), tzinfo=ZoneInfo(settings.TIME_ZONE))
    return local.astimezone(UTC)


def clock(moment):
    """10:00 AM, as the pages write a time."""
    return timezone.localtime(moment).strftime("%-I:%M %p")


def free_times_on(page, site, day):
    page.goto(f"{site}{DAYS_URL}?day={day.isoformat()}")
    heading = page.get_by_role("heading", name=re.compile("^Free times on"))
    expect(heading).to_be_visible()
    return page.locator(".time-list a").all_inner_texts()


def mail_to(smtp_server, address, subject_start):
    [message] = [
        message
        for message in smtp_server.to(address)
        if str(message["Subject"]).startswith(subject_start)
    ]
    return message


def invitation(message):
    """The .ics attached to a patient e-mail, raw and parsed."""
    [attachment] = [part for part in message.iter_attachments() if part.get_filename()]
    raw = attachment.get_content()
    calendar = Calendar.from_ical(raw)
    [event] = calendar.walk("VEVENT")
    return raw, calendar, event


def assert_carries_no_name_or_health_data(message):
    raw, _, _ = invitation(message)
    for secret in NAME_AND_HEALTH_DATA:
        assert secret not in raw
        assert secret not in all_text(message)


def test_patient_books_moves_and_cancels_a_time_with_the_emailed_link(
    site, clinic_page, day, smtp_server, screenshots_dir
):
    page = clinic_page
    ten, eleven = at(day, 10), at(day, 11)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site + "/consultation/")
    page.get_by_role("link", name="Pick a time now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pick a time")
    page.get_by_role("link", name="Follow-up call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow-up call")
    page.get_by_role("link", name=day.strftime("%a %-d %b")).click()
    expect(page.get_by_role("heading", name=re.compile("^Free times on"))).to_have_text(
        f"Free times on {day:%A %-d %B}"
    )
    page.screenshot(path=screenshots_dir / "booking-free-times.png", full_page=True)
    page.get_by_role("link", name=clock(ten), exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    page.get_by_label("Full name").fill("Maria Lopez")
    page.get_by_label("E-mail address").fill(PATIENT)
    page.get_by_label("Phone number").fill("(770) 555-0188")
    page.get_by_label("Which treatment are you interested in?").select_option(
        label="Fibromyalgia"
    )
    page.get_by_label("Anything you would like us to know").fill(
        "My fibromyalgia flares every winter."
    )
    page.get_by_label("I agree that").check()
    page.screenshot(path=screenshots_dir / "booking-details.png", full_page=True)
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your consultation is booked"
    )
    details = page.locator(".booking-details")
    expect(details).to_contain_text(f"{day:%A %-d %B %Y}")
    expect(details).to_contain_text(f"{clock(ten)} to 10:30 AM")
    expect(details).to_contain_text("Follow-up call, 30 minutes")
    reference = page.locator("[data-reference]").inner_text()
    page.screenshot(path=screenshots_dir / "booking-confirmed.png", full_page=True)
    assert clock(ten) not in free_times_on(page, site, day)

    run_worker()
    confirmation = mail_to(smtp_server, PATIENT, "Consultation booked:")
    assert reference in str(confirmation["Subject"])
    assert mail_to(smtp_server, STAFF, f"New booking {reference}")
    _, ics, event = invitation(confirmation)
    assert ics["METHOD"] == "REQUEST"
    assert event.decoded("DTSTART") == ten
    assert event["SEQUENCE"] == 0
    assert_carries_no_name_or_health_data(confirmation)
    [manage_url] = set(
        re.findall(
            rf"{re.escape(settings.SITE_URL)}/consultation/booking/[^/\s]+/",
            body_text(confirmation),
        )
    )

    page.goto(manage_url.replace(settings.SITE_URL, site))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your consultation")
    expect(page.locator(".booking-summary")).to_contain_text(
        f"{day:%A, %B %-d, %Y}, {clock(ten)}"
    )
    page.screenshot(path=screenshots_dir / "booking-manage.png", full_page=True)
    page.get_by_role("link", name="Choose another time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose another time")
    page.screenshot(path=screenshots_dir / "booking-move.png", full_page=True)
    page.get_by_role("button", name=re.compile(f"^{clock(eleven)}")).click()

    expect(page.get_by_role("status")).to_have_text(
        "Your consultation has its new time. We have e-mailed you the details."
    )
    expect(page.locator(".booking-summary")).to_contain_text(
        f"{day:%A, %B %-d, %Y}, {clock(eleven)}"
    )
    page.screenshot(path=screenshots_dir / "booking-moved.png", full_page=True)
    free = free_times_on(page, site, day)
    assert clock(ten) in free
    assert clock(eleven) not in free

    run_worker()
    change = mail_to(smtp_server, PATIENT, "Consultation moved to")
    assert clock(eleven) in str(change["Subject"])
    assert mail_to(smtp_server, STAFF, f"Booking {reference} moved to")
    _, ics, event = invitation(change)
    assert ics["METHOD"] == "REQUEST"
    assert event.decoded("DTSTART") == eleven
    assert event["SEQUENCE"] == 1
    assert_carries_no_name_or_health_data(change)

    page.goto(manage_url.replace(settings.SITE_URL, site))
    page.get_by_role("link", name="Cancel the consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Cancel your consultation?"
    )
    page.get_by_role("button", name="Yes, cancel it").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your consultation is cancelled"
    )
    expect(page.get_by_role("status")).to_have_text(
        "We have cancelled it and e-mailed you to confirm."
    )
    page.screenshot(path=screenshots_dir / "booking-cancelled.png", full_page=True)
    free = free_times_on(page, site, day)
    assert clock(ten) in free
    assert clock(eleven) in free

    run_worker()
    cancellation = mail_to(smtp_server, PATIENT, "Consultation cancelled:")
    assert mail_to(smtp_server, STAFF, f"Booking {reference} cancelled")
    _, ics, event = invitation(cancellation)
    assert ics["METHOD"] == "CANCEL"
    assert event.decoded("DTSTART") == eleven
    assert event["SEQUENCE"] == 2
    assert_carries_no_name_or_health_data(cancellation)
    assert len(smtp_server.to(PATIENT)) == 3

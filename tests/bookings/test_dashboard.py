"""The admin's front page: "Needs attention now", and who sees which part of it."""

from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.dashboard import BusinessHours
from bookings.management.commands.demo_data import DemoData
from bookings.models import (
    BookingMessage,
    ClosedDates,
    ConsultationType,
    ContactAttempt,
)
from pages.models import Article

NEW_YORK = ZoneInfo("America/New_York")
# Monday 11 January 2027, 10:00 in New York.
MONDAY_10 = datetime(2027, 1, 11, 10, 0, tzinfo=NEW_YORK)
FRIDAY_16 = datetime(2027, 1, 8, 16, 0, tzinfo=NEW_YORK)
WEEKDAYS_9_TO_5 = [(weekday, "09:00", "17:00") for weekday in range(5)]


@pytest.fixture
def clock():
    with mock.patch("django.utils.timezone.now", return_value=MONDAY_10) as now:
        yield now


@pytest.fixture
def front_desk(staff_client, clock):
    return staff_client("view_consultationrequest", "view_booking")


@pytest.fixture
def writer(staff_client, clock):
    return staff_client("view_article", "change_article")


def test_waiting_over_a_weekend_counts_business_hours_only(make_calendar, db):
    make_calendar(hours=WEEKDAYS_9_TO_5)
    hours = BusinessHours.load(since=FRIDAY_16.date())

    # Friday 16:00 to 17:00, then Monday 9:00 to 10:00.
    assert hours.between(FRIDAY_16, MONDAY_10) == timedelta(hours=2)


def test_business_hours_are_every_open_calendars_hours_together(make_calendar, db):
    make_calendar("Dr Ortiz", hours=[(0, "09:00", "12:00"), (4, "09:00", "17:00")])
    make_calendar("Dr Kim", hours=[(0, "11:00", "13:30"), (5, "10:00", "12:00")])
    closed = make_calendar("Gone", hours=[(6, "09:00", "17:00")])
    closed.is_active = False
    closed.save()
    hours = BusinessHours.load(since=FRIDAY_16.date())

    # Friday 16-17, Saturday 10-12, Monday 9-10 (Ortiz and Kim overlap later).
    assert hours.between(FRIDAY_16, MONDAY_10) == timedelta(hours=4)
    monday_2 = MONDAY_10.replace(hour=14)
    assert hours.between(MONDAY_10, monday_2) == timedelta(hours=3, minutes=30)


def test_days_the_whole_clinic_is_closed_do_not_count(make_calendar, db):
    make_calendar(hours=WEEKDAYS_9_TO_5)
    ClosedDates.objects.create(first_day=date(2027, 1, 11), last_day=date(2027, 1, 11))
    hours = BusinessHours.load(since=FRIDAY_16.date())

    assert hours.between(FRIDAY_16, MONDAY_10) == timedelta(hours=1)


def test_without_weekly_hours_business_hours_are_weekdays_9_to_5(db):
    hours = BusinessHours.load(since=FRIDAY_16.date())

    assert hours.between(FRIDAY_16, MONDAY_10) == timedelta(hours=2)
    spring_forward = datetime(2027, 3, 12, 16, 0, tzinfo=NEW_YORK)  # a Friday
    monday_10 = spring_forward + timedelta(days=2, hours=18)  # after the change
    assert hours.between(spring_forward, monday_10) == timedelta(hours=2)


def test_front_desk_sees_urgent_and_longest_waiting_requests_with_links(
    front_desk, make_consultation, make_calendar
):
    make_calendar(hours=WEEKDAYS_9_TO_5)
    urgent = make_consultation(FRIDAY_16, is_urgent=True)
    newer = make_consultation(MONDAY_10 - timedelta(minutes=30))
    called = make_consultation(FRIDAY_16 - timedelta(hours=1))
    ContactAttempt.objects.create(
        request=called, attempted_at=MONDAY_10, method="phone", result="no_answer"
    )

    html = front_desk.get("/admin/").text

    assert "Needs attention now" in html
    assert (
        '<a href="/admin/bookings/consultationrequest/?contact=awaiting&amp;'
        'is_urgent__exact=1"><strong>1 urgent request not yet contacted</strong>'
    ) in html
    assert (
        f"{urgent.reference}, received Fri 8 Jan, 16:00: waiting 2 h 00 min in "
        "business hours"
    ) in html
    assert "2 requests waiting for a first contact, longest first" in html
    assert f"{newer.reference}, received Mon 11 Jan, 09:30: waiting 30 min" in html
    assert f"{called.reference}," not in html
    listed = (
        front_desk.get(
            "/admin/bookings/consultationrequest/",
            {"contact": "awaiting", "is_urgent__exact": "1"},
        )
        .context["cl"]
        .result_list
    )
    assert list(listed) == [urgent]


def test_todays_and_tomorrows_bookings_link_to_the_day_lists(
    front_desk, make_booking, make_calendar
):
    phone_call = ConsultationType.objects.create(
        name="Phone call", slug="phone-call", duration_minutes=30, location="phone"
    )
    calendar = make_calendar(types=[phone_call])
    today = make_booking(phone_call, calendar, MONDAY_10 + timedelta(hours=4))
    make_booking(phone_call, calendar, MONDAY_10 + timedelta(days=1))
    make_booking(phone_call, calendar, MONDAY_10 + timedelta(days=1, hours=1))
    make_booking(phone_call, calendar, MONDAY_10 + timedelta(days=2))
    make_booking(
        phone_call, calendar, MONDAY_10 + timedelta(hours=5), status="cancelled"
    )

    html = front_desk.get("/admin/").text

    assert (
        '<a href="/admin/bookings/booking/day/?date=2027-01-11"><strong>1 booking '
        "today</strong>"
    ) in html
    assert f"14:00 Phone call: Confirmed, {today.consultation.reference}" in html
    assert (
        '<a href="/admin/bookings/booking/day/?date=2027-01-12"><strong>2 bookings '
        "tomorrow</strong>"
    ) in html


def test_e_mail_that_was_not_delivered_is_flagged(
    front_desk, make_consultation, make_booking, make_calendar
):
    make_consultation(MONDAY_10 - timedelta(hours=1))  # never sent: late
    failed = make_consultation(MONDAY_10 - timedelta(minutes=2))
    failed.notification_attempts = 1
    failed.save()
    make_consultation(MONDAY_10 - timedelta(minutes=2))  # queued a moment ago
    delivered = make_consultation(MONDAY_10 - timedelta(hours=2))
    delivered.staff_notified_at = MONDAY_10
    delivered.save()
    phone_call = ConsultationType.objects.create(
        name="Phone call", slug="phone-call", duration_minutes=30, location="phone"
    )
    booking = make_booking(phone_call, make_calendar(), MONDAY_10 + timedelta(days=3))
    BookingMessage.objects.create(
        booking=booking, kind="confirmation", sequence=0, attempts=2, last_error="x"
    )

    html = front_desk.get("/admin/").text

    assert "2 requests whose staff e-mail was not delivered" in html
    assert "1 booking e-mail failed and not sent since" in html
    failing = front_desk.get("/admin/bookings/booking/", {"mail": "failed"})
    assert list(failing.context["cl"].result_list) == [booking]


def test_writers_see_the_article_reviews_due_and_no_patient_line(
    writer, make_article, make_consultation
):
    make_consultation(FRIDAY_16, is_urgent=True)
    make_article("Overdue", next_review_due=date(2026, 12, 1))
    make_article("Due soon", next_review_due=date(2027, 2, 5))
    make_article("Later", next_review_due=date(2027, 3, 1))

    html = writer.get("/admin/").text

    assert (
        '<a href="/admin/pages/article/?review=due"><strong>2 articles due for '
        "clinical review within 30 days or overdue</strong>"
    ) in html
    assert "Overdue: review due 1 Dec 2026" in html
    assert "urgent" not in html and "waiting for a first contact" not in html
    listed = writer.get("/admin/pages/article/", {"review": "due"}).context["cl"]
    assert {article.title for article in listed.result_list} == {"Overdue", "Due soon"}


def test_staff_without_either_right_see_no_attention_lines(staff_client, clock, db):
    html = staff_client("view_treatment").get("/admin/").text

    assert "Needs attention now" not in html


def test_front_page_runs_at_most_ten_queries_at_size(
    starter_content, fibromyalgia, staff_client
):
    DemoData(weeks=52, seed=4).create(10_000, 2_000)
    staff = staff_client("view_consultationrequest", "view_booking", "view_article")
    Article.objects.update(next_review_due=date.today())
    staff.get("/admin/login/")

    with CaptureQueriesContext(connection) as captured:
        response = staff.get("/admin/")

    # Beyond what every admin page asks: the login, the clinic's details for the
    # header and footer, and the "recent actions" of the front page.
    every_page = (
        "django_session",
        '"auth_',
        "SAVEPOINT",
        "pages_clinicdetails",
        "django_admin_log",
    )
    own = [
        each["sql"]
        for each in captured.captured_queries
        if not any(marker in each["sql"] for marker in every_page)
    ]
    assert response.status_code == 200
    assert "Needs attention now" in response.text
    assert len(own) <= 10, "\n".join(own)

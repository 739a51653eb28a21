"""A patient picks a consultation type, a day and a free time, then their details."""

import re
from datetime import UTC, date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client

from bookings.forms import BookingForm, issue_form_token
from bookings.models import (
    Booking,
    ClosedDates,
    ConsultationRequest,
    ConsultationType,
    ExtraHours,
    WeeklyHours,
)
from tests.bookings.conftest import handed_out_token

# Monday 11 January 2027, 8:00 in New York: no daylight-saving change near.
NOW = datetime(2027, 1, 11, 13, 0, tzinfo=UTC)
MONDAY = date(2027, 1, 11)
WEEKDAYS = [WeeklyHours.Weekday.MONDAY + n for n in range(5)]


def at(day, hh_mm):
    wall_clock = datetime.combine(day, time.fromisoformat(hh_mm))
    return wall_clock.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


def utc_path(instant):
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


@pytest.fixture
def clock():
    """The site's clock, set to NOW unless a test moves it."""
    with mock.patch("django.utils.timezone.now", return_value=NOW) as now:
        yield now


@pytest.fixture
def phone_call(make_consultation_type):
    return make_consultation_type(
        "Free phone consultation",
        duration_minutes=30,
        horizon_days=14,
        location=ConsultationType.Location.PHONE,
    )


@pytest.fixture
def team(make_calendar, phone_call):
    """Weekdays 9:00 to 11:00: four half-hour times a day."""
    return make_calendar(
        "Clinic team",
        types=[phone_call],
        hours=[(weekday, "09:00", "11:00") for weekday in WEEKDAYS],
    )


def days_url(consultation_type):
    return f"/consultation/book/{consultation_type.slug}/"


def time_links(html, consultation_type):
    """The UTC times the page links to for booking, in order."""
    return re.findall(rf'href="{days_url(consultation_type)}(\d{{8}}T\d{{4}}Z)/', html)


def day_links(html):
    return re.findall(r'href="[^"]*\?day=(\d{4}-\d{2}-\d{2})', html)


def test_consultation_page_offers_the_choice_and_keeps_the_article(client, db):
    html = client.get("/consultation/", {"article": "fibro"}).text

    assert '<a href="/consultation/book/?article=fibro">Pick a time now</a>' in html
    assert '<a href="#call-back">Ask us to call you back</a>' in html
    assert 'id="call-back"' in html and "Send my request" in html


def test_article_query_that_is_no_slug_is_dropped(client, db):
    html = client.get("/consultation/", {"article": '"><script>x</script>'}).text

    assert '<a href="/consultation/book/">Pick a time now</a>' in html
    assert "<script>x" not in html


def test_type_list_shows_only_types_offered_online_that_a_calendar_takes(
    client, make_consultation_type, make_calendar, phone_call, team, clock
):
    make_consultation_type("Not online", is_offered_online=False)
    nobody_takes = make_consultation_type("Nobody takes it")
    closed = make_consultation_type("Closed calendar")
    make_calendar("On leave", types=[closed]).__class__.objects.filter(
        name="On leave"
    ).update(is_active=False)

    html = client.get("/consultation/book/", {"article": "fibro"}).text

    assert (
        '<a href="/consultation/book/free-phone-consultation/?article=fibro">'
        "Free phone consultation</a>" in html
    )
    assert "30 minutes, by phone" in html
    for hidden in ("Not online", nobody_takes.name, "Closed calendar"):
        assert hidden not in html


def test_type_not_offered_online_has_no_days_page(
    client, make_consultation_type, make_calendar, clock
):
    offline = make_consultation_type("Not online", is_offered_online=False)
    make_calendar(types=[offline], hours=[(0, "09:00", "17:00")])

    assert client.get(days_url(offline)).status_code == 404
    assert client.get("/consultation/book/no-such-type/").status_code == 404


def test_days_page_links_only_days_with_a_free_time(client, phone_call, team, clock):
    ClosedDates.objects.create(
        first_day=MONDAY + timedelta(days=2), last_day=MONDAY + timedelta(days=2)
    )

    html = client.get(days_url(phone_call)).text

    # Today's times are inside the 4 hours' notice until 12:00; weekends are closed.
    linked = day_links(html)
    assert linked[0] == "2027-01-12"
    assert "2027-01-13" not in linked  # closed
    assert "2027-01-16" not in linked and "2027-01-17" not in linked  # weekend
    assert linked == [
        day.isoformat()
        for day in (MONDAY + timedelta(days=n) for n in range(1, 15))
        if day.weekday() < 5 and day != MONDAY + timedelta(days=2)
    ]
    assert 'Sat 16 Jan<span class="visually-hidden">: no free times</span>' in html


def test_first_free_day_is_chosen_and_marked_current(client, phone_call, team, clock):
    html = client.get(days_url(phone_call)).text

    assert re.search(r'\?day=2027-01-12"\s+aria-current="page"', html)
    assert html.count('aria-current="page"') == 1
    assert "Free times on Tuesday 12 January" in html
    tuesday = MONDAY + timedelta(days=1)
    assert time_links(html, phone_call) == [
        utc_path(at(tuesday, hh_mm)) for hh_mm in ("09:00", "09:30", "10:00", "10:30")
    ]
    assert ">9:00 AM</time>" in html and ">10:30 AM</time>" in html


def test_chosen_day_shows_its_times_and_keeps_the_article(
    client, phone_call, team, clock
):
    html = client.get(
        days_url(phone_call), {"day": "2027-01-15", "article": "fibro"}
    ).text

    assert "Free times on Friday 15 January" in html
    assert re.search(r'\?day=2027-01-15&amp;article=fibro"\s+aria-current="page"', html)
    first = utc_path(at(date(2027, 1, 15), "09:00"))
    assert f'href="{days_url(phone_call)}{first}/?article=fibro"' in html


def test_booked_time_is_not_linked(client, phone_call, team, clock, make_booking):
    tuesday = MONDAY + timedelta(days=1)
    make_booking(phone_call, team, at(tuesday, "09:30"))

    html = client.get(days_url(phone_call), {"day": "2027-01-12"}).text

    assert time_links(html, phone_call) == [
        utc_path(at(tuesday, hh_mm)) for hh_mm in ("09:00", "10:00", "10:30")
    ]


def test_a_time_two_calendars_offer_is_listed_once(
    client, make_calendar, phone_call, team, clock
):
    make_calendar("Dr Ortiz", types=[phone_call], hours=[(1, "09:00", "10:00")])

    html = client.get(days_url(phone_call), {"day": "2027-01-12"}).text

    assert len(time_links(html, phone_call)) == 4


def test_times_are_in_the_clinics_zone_with_the_zone_named(
    client, phone_call, team, clock
):
    html = client.get(days_url(phone_call)).text

    assert "Times are New York time (EST)." in html
    assert 'data-clinic-zone="America/New_York"' in html


def test_zone_is_named_in_summer_time_too(client, phone_call, team, clock):
    clock.return_value = datetime(2027, 6, 7, 12, 0, tzinfo=UTC)

    assert "Times are New York time (EDT)." in client.get(days_url(phone_call)).text


@pytest.mark.parametrize(
    "day", ["", "tomorrow", "2027-13-45", "2027-01-11'--", "2026-01-12", "2030-01-01"]
)
def test_a_day_that_is_not_shown_falls_back_to_the_first_free_day(
    client, phone_call, team, clock, day
):
    response = client.get(days_url(phone_call), {"day": day})

    assert response.status_code == 200
    assert "Free times on Tuesday 12 January" in response.text


def test_a_shown_day_without_times_says_so(client, phone_call, team, clock):
    html = client.get(days_url(phone_call), {"day": "2027-01-16"}).text

    assert "Free times on Saturday 16 January" in html
    assert "There are no free times on this day." in html
    assert time_links(html, phone_call) == []


def test_no_free_times_at_all_offers_the_call_back(
    client, make_calendar, phone_call, clock
):
    make_calendar(types=[phone_call])  # takes the type, but has no hours

    html = client.get(days_url(phone_call)).text

    assert "There are no free times in the next 14 days." in html
    assert day_links(html) == []
    assert 'href="/consultation/#call-back"' in html


def test_autumn_change_day_offers_the_doubled_hour_once(
    client, phone_call, team, clock
):
    # Sunday 1 November 2026: 1:00 to 2:00 happens twice in New York.
    clock.return_value = datetime(2026, 10, 26, 12, 0, tzinfo=UTC)
    change_day = date(2026, 11, 1)
    ExtraHours.objects.create(
        calendar=team, day=change_day, starts="00:30", ends="03:00"
    )

    html = client.get(days_url(phone_call), {"day": "2026-11-01"}).text

    assert time_links(html, phone_call) == [
        "20261101T0430Z",  # 0:30 EDT
        "20261101T0500Z",  # 1:00 EDT
        "20261101T0530Z",  # 1:30 EDT, once
        "20261101T0700Z",  # 2:00 EST
        "20261101T0730Z",  # 2:30 EST
    ]


def test_spring_change_day_leaves_out_the_missing_hour(client, phone_call, team, clock):
    # Sunday 14 March 2027: the clocks go from 2:00 straight to 3:00.
    clock.return_value = datetime(2027, 3, 8, 12, 0, tzinfo=UTC)
    ExtraHours.objects.create(
        calendar=team, day=date(2027, 3, 14), starts="01:00", ends="04:00"
    )

    html = client.get(days_url(phone_call), {"day": "2027-03-14"}).text

    assert time_links(html, phone_call) == [
        "20270314T0600Z",  # 1:00 EST
        "20270314T0630Z",  # 1:30 EST
        "20270314T0700Z",  # 3:00 EDT
        "20270314T0730Z",  # 3:30 EDT
    ]
    assert ">2:30 AM<" not in html


@pytest.mark.parametrize("bookings", [0, 500])
def test_days_page_runs_a_fixed_number_of_queries(
    client,
    phone_call,
    team,
    clock,
    make_booking,
    make_calendar,
    in_memory_cache,
    django_assert_max_num_queries,
    bookings,
):
    clock.return_value = at(MONDAY, "07:40")
    make_calendar(
        "Dr Ortiz",
        types=[phone_call],
        hours=[(weekday, "08:00", "18:00") for weekday in WEEKDAYS],
    )
    ClosedDates.objects.create(first_day=date(2027, 1, 20), last_day=date(2027, 1, 20))
    other = make_calendar("Dr Brown", types=[phone_call])
    start = at(MONDAY + timedelta(days=1), "00:00")
    for n in range(bookings):
        make_booking(phone_call, other, start + timedelta(hours=n))

    with django_assert_max_num_queries(8):
        response = client.get(days_url(phone_call), {"article": "fibro"})
    assert response.status_code == 200
    # The next visitor gets the page kept in the booking pages' cache (until
    # Dr Ortiz's Monday 12:00 comes inside the 4 hours' notice, at 8:00).
    with django_assert_max_num_queries(0):
        response = Client().get(days_url(phone_call), {"article": "fibro"})
    assert response.status_code == 200


TUESDAY_9 = at(MONDAY + timedelta(days=1), "09:00")


def details_url(consultation_type, starts_at=TUESDAY_9):
    return f"{days_url(consultation_type)}{utc_path(starts_at)}/"


def test_details_page_shows_the_chosen_time_type_and_zone(
    client, phone_call, team, clock
):
    html = client.get(details_url(phone_call)).text

    assert "<h1>Your details</h1>" in html
    assert "Free phone consultation" in html
    assert "Tuesday 12 January 2027" in html
    assert ">9:00 AM</time> to 9:30 AM, New York time (EST)" in html
    assert "By phone: we will call the number you give below." in html
    assert "not for emergencies" in html and 'href="tel:988"' in html
    assert "data-crisis-guidance hidden" in html
    assert 'name="form_token"' in html and 'name="website"' in html


def test_details_form_asks_the_request_forms_details_less_the_call_back(
    client, phone_call, team, clock
):
    form = client.get(details_url(phone_call)).context["form"]

    assert list(form.fields) == [
        "full_name",
        "email",
        "phone",
        "treatment",
        "message",
        "consent",
        "website",
        "form_token",
    ]


def test_in_clinic_details_ask_how_to_contact_and_show_the_address(
    client, make_consultation_type, make_calendar, clock
):
    in_clinic = make_consultation_type("In-clinic consultation")
    make_calendar(types=[in_clinic], hours=[(1, "09:00", "12:00")])

    response = client.get(details_url(in_clinic))

    assert "preferred_contact" in response.context["form"].fields
    assert "In the clinic: 100 Example Street<br>Roswell, GA 30075" in response.text


def test_details_page_preselects_the_treatment_of_the_article(
    client, phone_call, team, clock, make_article, make_topic, fibromyalgia
):
    make_article("Fibro", topics=[make_topic("Fibromyalgia")])

    form = client.get(details_url(phone_call), {"article": "fibro"}).context["form"]

    assert form.initial["treatment"] == fibromyalgia


def test_details_page_gives_a_fresh_token_bound_to_the_browser(
    client, phone_call, team, clock
):
    first = client.get(details_url(phone_call))
    second = client.get(details_url(phone_call))

    assert (
        first.context["form"].initial["form_token"]
        != (second.context["form"].initial["form_token"])
    )
    assert first.cookies["bookings_browser"]["path"] == "/consultation/"
    assert "no-store" in first["Cache-Control"]


@pytest.mark.parametrize(
    ("why", "starts_at"),
    [
        ("taken", None),
        ("in the past", datetime(2027, 1, 4, 14, 0, tzinfo=UTC)),
        ("inside the notice", at(MONDAY, "10:00")),
        ("past the horizon", at(MONDAY + timedelta(days=22), "09:00")),
        ("off the grid", at(MONDAY + timedelta(days=1), "09:10")),
        ("outside the hours", at(MONDAY + timedelta(days=1), "13:00")),
        ("on a closed day", at(MONDAY + timedelta(days=3), "09:00")),
        ("on a weekend", at(MONDAY + timedelta(days=5), "09:00")),
    ],
)
def test_a_time_that_cannot_be_booked_says_so_with_the_nearest_free_times(
    client, phone_call, team, clock, make_booking, why, starts_at
):
    ClosedDates.objects.create(
        first_day=MONDAY + timedelta(days=3), last_day=MONDAY + timedelta(days=3)
    )
    if starts_at is None:
        starts_at = TUESDAY_9
        make_booking(phone_call, team, starts_at)

    response = client.get(details_url(phone_call, starts_at))

    assert response.status_code == 200
    assert "That time is not free" in response.text
    assert 'name="form_token"' not in response.text
    nearest = time_links(response.text, phone_call)
    assert 1 <= len(nearest) <= 3
    assert utc_path(starts_at) not in nearest


@pytest.mark.parametrize(
    "path",
    [
        "20270112T1400",  # no Z: not UTC
        "2027-01-12T14:00Z",
        "20271312T1400Z",  # month 13
        "20270112T2500Z",
        "00010101T0000Z",  # year 1: no local time before it
        "99991231T2359Z",
        "20270112T1400Z%00",
    ],
)
def test_a_time_that_is_not_a_utc_time_is_not_found(
    client, phone_call, team, clock, path
):
    assert client.get(f"{days_url(phone_call)}{path}/").status_code == 404


def test_details_of_a_type_not_offered_online_are_not_found(
    client, phone_call, team, clock
):
    ConsultationType.objects.update(is_offered_online=False)

    assert client.get(details_url(phone_call)).status_code == 404


@pytest.mark.parametrize("bookings", [0, 500])
def test_details_page_runs_a_fixed_number_of_queries(
    client,
    phone_call,
    team,
    clock,
    make_booking,
    make_calendar,
    make_article,
    make_topic,
    fibromyalgia,
    in_memory_cache,
    django_assert_max_num_queries,
    bookings,
):
    make_article("Fibro", topics=[make_topic("Fibromyalgia")])
    other = make_calendar("Dr Brown", types=[phone_call])
    start = at(MONDAY + timedelta(days=1), "00:00")
    for n in range(bookings):
        make_booking(phone_call, other, start + timedelta(hours=n))

    # The type; the weekly and extra hours with their calendars, the closed
    # dates and the bookings (availability.py); the treatments, marking the
    # article's; the clinic's details and the menu.
    with django_assert_max_num_queries(8):
        response = client.get(details_url(phone_call), {"article": "fibro"})
    assert response.status_code == 200
    assert response.context["form"].initial["treatment"] == fibromyalgia


def booking_form(phone_call, **data):
    fields = {
        "full_name": "Maria Lopez",
        "email": "Maria@Example.org",
        "phone": "(770) 555-0188",
        "treatment": "",
        "message": "",
        "consent": "on",
        "website": "",
        "form_token": issue_form_token("browser-key"),
    } | data
    return BookingForm(fields, consultation_type=phone_call, browser_key="browser-key")


def test_booking_form_cleans_like_the_request_form(phone_call, fibromyalgia):
    form = booking_form(
        phone_call, treatment=str(fibromyalgia.pk), full_name="  Maria\x00 Lopez\r\n"
    )

    assert form.is_valid(), form.errors
    consultation = form.unsaved_consultation()
    assert consultation.full_name == "Maria Lopez"
    assert consultation.email == "maria@example.org"
    assert str(consultation.phone) == "+17705550188"
    assert consultation.preferred_contact == "phone"
    assert consultation.form_token == form.token_id
    assert consultation.consent_at is not None
    assert consultation.spam_reason == ""
    assert consultation.pk is None
    assert form.sent_by_its_browser()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "Please enter your name."),
        ("email", "maria@", "Please enter an e-mail address like name@example.com."),
        ("phone", "12345", "Please enter a phone number like (770) 555-0123"),
        ("treatment", "", "Please choose the treatment you’re interested in."),
        ("treatment", "99999", "Select a valid choice."),
        ("message", "x" * 1001, "Please shorten your message to at most 1000"),
        (
            "consent",
            "",
            "Please tick this box so that we may contact you about your booking.",
        ),
        ("form_token", "forged", "This form had expired."),
    ],
)
def test_booking_form_refuses_what_the_request_form_refuses(
    phone_call, fibromyalgia, field, value, message
):
    form = booking_form(phone_call, **{"treatment": str(fibromyalgia.pk), field: value})

    assert not form.is_valid()
    assert message in str(form.errors)


def test_booking_form_honeypot_marks_spam(phone_call, fibromyalgia):
    form = booking_form(
        phone_call, treatment=str(fibromyalgia.pk), website="http://spam.example"
    )

    assert form.is_valid()
    assert form.unsaved_consultation().spam_reason == "honeypot field filled in"


def test_booking_form_ignores_a_forged_contact_method_for_a_phone_call(
    phone_call, fibromyalgia
):
    form = booking_form(
        phone_call, treatment=str(fibromyalgia.pk), preferred_contact="email"
    )

    assert form.is_valid()
    assert form.unsaved_consultation().preferred_contact == "phone"


@pytest.fixture
def booking_data(form_data):
    """What a patient's browser sends from the details form."""

    def make(client=None, **overrides):
        fields = form_data(**overrides)
        if client is not None and "form_token" not in overrides:
            fields["form_token"] = handed_out_token(client)
        return fields

    return make


def test_booking_a_time_confirms_it_on_a_page_of_its_own(
    client, phone_call, team, clock, booking_data
):
    phone_call.preparation = "Have a list of your medicines at hand."
    phone_call.save()

    response = client.post(details_url(phone_call), booking_data(client))

    assert response.status_code == 302
    assert response["Location"] == "/consultation/booked/"
    booking = Booking.objects.get()
    assert (booking.starts_at, booking.calendar) == (TUESDAY_9, team)
    consultation = booking.consultation
    assert consultation.status == ConsultationRequest.Status.BOOKED
    assert consultation.preferred_contact == "phone"
    assert consultation.full_name == "Maria Lopez"
    cookie = response.cookies["bookings_booked"]
    assert cookie["path"] == "/consultation/booked/" and cookie["httponly"]
    assert cookie.value.split(":")[0] == consultation.reference

    html = client.get("/consultation/booked/").text
    assert consultation.reference in html
    assert "Tuesday 12 January 2027" in html
    assert ">9:00 AM</time> to 9:30 AM, New York time (EST)" in html
    assert "Free phone consultation, 30 minutes" in html
    assert "By phone: we will call you on the number you gave us." in html
    assert "Have a list of your medicines at hand." in html
    assert f'href="{booking.get_manage_url()}"' in html
    assert "Maria" not in html


def test_the_booked_time_is_no_longer_offered(
    client, phone_call, team, clock, booking_data
):
    client.post(details_url(phone_call), booking_data(client))

    html = client.get(days_url(phone_call), {"day": "2027-01-12"}).text

    assert utc_path(TUESDAY_9) not in time_links(html, phone_call)


def test_a_time_just_booked_is_not_offered_to_the_next_visitor(
    client, phone_call, team, clock, booking_data, django_capture_on_commit_callbacks
):
    day = {"day": "2027-01-12"}
    # The page as a visitor before saw it, kept in the booking pages' cache.
    assert utc_path(TUESDAY_9) in time_links(
        client.get(days_url(phone_call), day).text, phone_call
    )

    data = booking_data(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(details_url(phone_call), data)

    next_visitor = Client()
    html = next_visitor.get(days_url(phone_call), day).text
    assert utc_path(TUESDAY_9) not in time_links(html, phone_call)
    assert len(time_links(html, phone_call)) == 3


def test_a_day_written_otherwise_does_not_change_the_page_kept_for_that_day(
    client, phone_call, team, clock
):
    # Python reads 20270115 as a date too, but the page does not show it.
    other = client.get(days_url(phone_call), {"day": "20270115"}).text
    assert "Free times on Tuesday 12 January" in other

    html = Client().get(days_url(phone_call), {"day": "2027-01-15"}).text

    assert "Free times on Friday 15 January" in html


def test_booking_pages_are_served_and_times_booked_when_the_cache_is_down(
    client, phone_call, team, clock, booking_data, settings
):
    settings.CACHES = settings.CACHES | {
        "default": {
            "BACKEND": "roswell_site.redis_cache.RedisCache",
            # Nothing listens here: the cache is unreachable.
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    day = {"day": "2027-01-12"}
    assert utc_path(TUESDAY_9) in time_links(
        client.get(days_url(phone_call), day).text, phone_call
    )

    response = client.post(details_url(phone_call), booking_data(client))

    assert response["Location"] == "/consultation/booked/"
    html = client.get(days_url(phone_call), day).text
    assert utc_path(TUESDAY_9) not in time_links(html, phone_call)


def test_a_cancelled_time_is_offered_again_at_once(
    client, phone_call, team, clock, make_booking, django_capture_on_commit_callbacks
):
    booking = make_booking(phone_call, team, TUESDAY_9)
    day = {"day": "2027-01-12"}
    assert utc_path(TUESDAY_9) not in time_links(
        client.get(days_url(phone_call), day).text, phone_call
    )

    with django_capture_on_commit_callbacks(execute=True):
        booking.cancel()

    html = client.get(days_url(phone_call), day).text
    assert utc_path(TUESDAY_9) in time_links(html, phone_call)


def test_staff_closing_a_day_takes_its_times_off_at_once(
    client, phone_call, team, clock, django_capture_on_commit_callbacks
):
    day = {"day": "2027-01-12"}
    assert time_links(client.get(days_url(phone_call), day).text, phone_call)

    with django_capture_on_commit_callbacks(execute=True):
        ClosedDates.objects.create(
            first_day=date(2027, 1, 12), last_day=date(2027, 1, 12)
        )

    html = client.get(days_url(phone_call), day).text
    assert time_links(html, phone_call) == []
    assert "2027-01-12" not in day_links(html)


def test_a_time_inside_the_notice_is_no_longer_offered_as_the_clock_moves(
    client, phone_call, team, clock
):
    # 4 hours' notice: Tuesday 9:00 can be booked until Tuesday 5:00.
    last_moment = TUESDAY_9 - timedelta(hours=4)
    day = {"day": "2027-01-12"}
    clock.return_value = last_moment - timedelta(minutes=1)
    html = client.get(days_url(phone_call), day).text
    assert time_links(html, phone_call)[0] == utc_path(TUESDAY_9)

    clock.return_value = last_moment + timedelta(seconds=1)

    html = client.get(days_url(phone_call), day).text
    assert time_links(html, phone_call)[0] == utc_path(
        at(MONDAY + timedelta(days=1), "09:30")
    )


def test_each_visitor_of_a_kept_days_page_gets_tokens_of_their_own(
    client,
    phone_call,
    team,
    clock,
    privacy_page,
    in_memory_cache,
    django_assert_max_num_queries,
):
    url = days_url(phone_call)
    first = client.get(url)
    other = Client(enforce_csrf_checks=True)
    with django_assert_max_num_queries(0):
        second = other.get(url)

    tokens = [
        re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
        for page in (first, second)
    ]
    csrf = [
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        for page in (first, second)
    ]
    assert tokens[0] != tokens[1] and csrf[0] != csrf[1]
    assert (
        second.text.replace(tokens[1], tokens[0]).replace(csrf[1], csrf[0])
        == first.text
    )
    # The token of the kept page is one the waitlist form takes.
    response = other.post(
        f"{url}waitlist/",
        {
            "email": "ana@example.org",
            "first_day": "2027-01-12",
            "last_day": "2027-01-15",
            "consent": "on",
            "website": "",
            "form_token": tokens[1],
            "csrfmiddlewaretoken": csrf[1],
        },
    )
    assert response.status_code == 302


def test_confirmation_without_its_cookie_shows_nothing(
    client, phone_call, team, clock, booking_data
):
    client.post(details_url(phone_call), booking_data(client))
    reference = ConsultationRequest.objects.get().reference
    client.cookies["bookings_booked"] = reference  # unsigned: forged

    response = client.get("/consultation/booked/")

    assert response.status_code == 302
    assert response["Location"] == "/consultation/book/"


def test_same_form_sent_twice_books_once_and_confirms_twice(
    client, phone_call, team, clock, booking_data
):
    data = booking_data(client)

    first = client.post(details_url(phone_call), data)
    second = client.post(details_url(phone_call), data)

    assert first["Location"] == second["Location"] == "/consultation/booked/"
    assert Booking.objects.count() == 1 and ConsultationRequest.objects.count() == 1


def test_same_form_sent_from_another_browser_gets_the_form_not_the_booking(
    client, phone_call, team, clock, booking_data
):
    data = booking_data(client)
    client.post(details_url(phone_call), data)
    other = Client()

    response = other.post(details_url(phone_call), data | {"full_name": "Someone"})

    assert response.status_code == 200
    assert "This form was sent before" in response.text
    assert ConsultationRequest.objects.get().reference not in response.text
    assert Booking.objects.count() == 1


def test_a_time_just_taken_gives_the_form_back_with_the_nearest_times(
    client, phone_call, team, clock, booking_data, make_booking
):
    make_booking(phone_call, team, TUESDAY_9)

    response = client.post(
        details_url(phone_call), booking_data(client, full_name="Ana Ruiz")
    )

    assert response.status_code == 409
    assert "That time was just taken" in response.text
    assert 'value="Ana Ruiz"' in response.text
    assert "My fibromyalgia flares every winter." in response.text
    nearest = re.findall(r'formaction="([^"]+)"', response.text)
    assert nearest == [
        details_url(phone_call, at(MONDAY + timedelta(days=1), hh_mm))
        for hh_mm in ("09:30", "10:00", "10:30")
    ]
    # Choosing one sends what was typed to that time.
    again = client.post(
        nearest[0],
        booking_data(
            form_token=response.context["form"]["form_token"].value(),
            full_name="Ana Ruiz",
        ),
    )
    assert again.status_code == 302
    assert (
        Booking.objects.get(consultation__full_name="Ana Ruiz").starts_at != TUESDAY_9
    )


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (datetime(2027, 1, 4, 14, 0, tzinfo=UTC), "That time has passed."),
        (at(MONDAY, "10:00"), "That time is too soon"),
        (at(MONDAY + timedelta(days=22), "09:00"), "That day is too far ahead"),
        (at(MONDAY + timedelta(days=1), "09:10"), "We have no consultation at that"),
        (at(MONDAY + timedelta(days=1), "13:00"), "We have no consultation at that"),
        (at(MONDAY + timedelta(days=3), "09:00"), "We have no consultation at that"),
    ],
)
def test_a_time_that_cannot_be_booked_is_refused_with_the_nearest_times(
    client, phone_call, team, clock, booking_data, starts_at, message
):
    ClosedDates.objects.create(
        first_day=MONDAY + timedelta(days=3), last_day=MONDAY + timedelta(days=3)
    )

    response = client.post(details_url(phone_call, starts_at), booking_data(client))

    assert response.status_code == 409
    assert message in response.text
    assert 'value="Maria Lopez"' in response.text
    assert 1 <= len(re.findall(r'formaction="([^"]+)"', response.text)) <= 3
    assert not Booking.objects.exists()
    assert not ConsultationRequest.objects.exists()


def test_forged_fields_are_ignored(
    client, phone_call, team, clock, booking_data, make_calendar, make_consultation_type
):
    other_type = make_consultation_type("Other")
    elsewhere = make_calendar(
        "Elsewhere", types=[other_type], hours=[(1, "09:00", "10:00")]
    )

    client.post(
        details_url(phone_call),
        booking_data(
            client,
            preferred_contact="email",
            status="closed",
            calendar=str(elsewhere.pk),
            consultation_type=str(other_type.pk),
            starts_at="2027-01-12T15:00:00Z",
            reference="RI-0000-0000",
            is_urgent="on",
            spam_reason="",
        ),
    )

    booking = Booking.objects.get()
    assert (booking.calendar, booking.consultation_type) == (team, phone_call)
    assert booking.starts_at == TUESDAY_9
    consultation = booking.consultation
    assert consultation.preferred_contact == "phone"
    assert consultation.status == ConsultationRequest.Status.BOOKED
    assert consultation.reference != "RI-0000-0000"
    assert not consultation.is_urgent


def test_invalid_details_keep_the_time_and_what_was_typed(
    client, phone_call, team, clock, booking_data
):
    response = client.post(details_url(phone_call), booking_data(client, email="nope"))

    assert response.status_code == 200
    assert "Please enter an e-mail address like name@example.com." in response.text
    assert 'value="Maria Lopez"' in response.text
    assert "Book this time" in response.text
    assert not ConsultationRequest.objects.exists()


def test_booking_is_rate_limited_like_the_request_form(
    phone_call, team, clock, booking_data, settings
):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 1
    browser = Client(REMOTE_ADDR="203.0.113.7")
    browser.post("/consultation/", booking_data(browser))

    response = browser.post(
        details_url(phone_call), booking_data(browser, full_name="Third Try")
    )

    assert response.status_code == 429
    assert "Too many requests came from your connection" in response.text
    assert 'value="Third Try"' in response.text
    assert not Booking.objects.exists()


def test_honeypot_booking_is_stored_as_spam_without_a_booking(
    client, phone_call, team, clock, booking_data
):
    response = client.post(
        details_url(phone_call), booking_data(client, website="http://spam.example")
    )

    consultation = ConsultationRequest.objects.get()
    assert consultation.status == ConsultationRequest.Status.SPAM
    assert not Booking.objects.exists()
    assert response["Location"] == "/consultation/thanks/"
    assert consultation.reference in client.get(response["Location"]).text


def test_urgent_message_is_booked_and_shows_the_crisis_guidance(
    client, phone_call, team, clock, booking_data
):
    client.post(
        details_url(phone_call),
        booking_data(client, message="Some days I want to die."),
    )

    booking = Booking.objects.get()
    assert booking.consultation.is_urgent
    html = client.get("/consultation/booked/").text
    assert "If you are thinking about ending your life" in html


def test_booking_data_never_appears_in_a_url(
    client, phone_call, team, clock, booking_data
):
    response = client.post(details_url(phone_call), booking_data(client), follow=True)

    reference = ConsultationRequest.objects.get().reference
    for url, _ in response.redirect_chain:
        assert "maria" not in url.lower() and reference not in url


@pytest.mark.parametrize("bookings", [0, 500])
def test_booking_post_runs_a_fixed_number_of_queries(
    client,
    phone_call,
    team,
    clock,
    booking_data,
    make_booking,
    make_calendar,
    in_memory_cache,
    django_assert_max_num_queries,
    bookings,
):
    # The first submission of the hour also clears the past hours' counts.
    client.post(details_url(phone_call), booking_data(client))
    Booking.objects.all().delete()
    other = make_calendar("Dr Brown", types=[phone_call])
    start = at(MONDAY + timedelta(days=1), "00:00")
    for n in range(bookings):
        make_booking(phone_call, other, start + timedelta(hours=n))
    data = booking_data(client)

    # The type; the treatment, twice (the form's list, the model's key); the
    # rate limit; the blocked senders; in the transaction, the weekly and
    # extra hours with their calendars, the closed dates and the bookings,
    # once; the request and the booking; the three e-mails, together; the task
    # that sends the confirmation and the staff notice, and the reminder's; the
    # transaction's start and end.
    with django_assert_max_num_queries(16):
        response = client.post(details_url(phone_call), data)
    assert response["Location"] == "/consultation/booked/"


def test_booking_from_an_articles_link_records_that_article_on_its_request(
    client, phone_call, team, clock, booking_data, make_article
):
    article = make_article("Fibro", published_at=NOW - timedelta(days=3))

    client.post(f"{details_url(phone_call)}?article=fibro", booking_data(client))

    assert Booking.objects.get().consultation.source_article == article

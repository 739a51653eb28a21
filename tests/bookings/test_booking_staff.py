from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from reversion import is_registered
from reversion.models import Version

from bookings.models import (
    Booking,
    BookingMessage,
    ConsultationRequest,
    WeeklyHours,
)

REQUESTS_URL = "/admin/bookings/consultationrequest/"
BOOKINGS_URL = "/admin/bookings/booking/"


def staff_client(client, *codenames):
    """A client logged in as staff with exactly these bookings permissions."""
    user = User.objects.create_user("staff", password="a long test password 1")
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="bookings", codename__in=codenames
        )
    )
    client.force_login(user)
    return client


def local_moment(day, hh_mm):
    return timezone.make_aware(datetime.combine(day, time.fromisoformat(hh_mm)))


def tomorrow_at(hh_mm):
    return local_moment(timezone.localdate() + timedelta(days=1), hh_mm)


@pytest.fixture
def in_clinic(make_consultation_type):
    return make_consultation_type(notice_hours=0, duration_minutes=15)


@pytest.fixture
def clinic_team(make_calendar, in_clinic):
    hours = [(day, "08:00", "20:00") for day in WeeklyHours.Weekday.values]
    return make_calendar(types=[in_clinic], hours=hours)


@pytest.fixture
def call_back(fibromyalgia):
    return ConsultationRequest.objects.create(
        form_token="call-back",
        full_name="Sam Carter",
        email="sam@example.org",
        phone="+17705550199",
        preferred_contact="phone",
        treatment=fibromyalgia,
        consent_at=timezone.now(),
    )


def test_request_list_shows_the_booked_time_and_calendar(
    client, in_clinic, clinic_team, make_booking, call_back
):
    booking = make_booking(in_clinic, clinic_team, tomorrow_at("10:00"))
    viewer = staff_client(client, "view_consultationrequest")

    html = viewer.get(REQUESTS_URL).text

    assert "Consultation booked" in html
    assert f"{tomorrow_at('10:00'):%a %-d %b %Y}, 10:00 E" in html
    assert "Clinic team" in html
    listed = {
        row.reference: row for row in viewer.get(REQUESTS_URL).context["cl"].result_list
    }
    assert listed[booking.consultation.reference].booking == booking
    assert not hasattr(listed[call_back.reference], "booking")


def test_request_list_filters_booked_and_call_back_requests(
    client, in_clinic, clinic_team, make_booking, call_back
):
    booking = make_booking(in_clinic, clinic_team, tomorrow_at("10:00"))
    viewer = staff_client(client, "view_consultationrequest")

    def listed(choice):
        response = viewer.get(REQUESTS_URL, {"booking": choice})
        return [row.reference for row in response.context["cl"].result_list]

    assert listed("booked") == [booking.consultation.reference]
    assert listed("call_back") == [call_back.reference]


def test_request_list_takes_the_same_queries_whatever_the_bookings(
    client, in_clinic, clinic_team, make_booking, call_back
):
    viewer = staff_client(client, "view_consultationrequest")
    make_booking(in_clinic, clinic_team, tomorrow_at("08:00"))
    viewer.get(REQUESTS_URL)
    with CaptureQueriesContext(connection) as with_one:
        viewer.get(REQUESTS_URL)
    for minutes in range(15, 40 * 15, 15):
        make_booking(
            in_clinic, clinic_team, tomorrow_at("08:00") + timedelta(minutes=minutes)
        )

    with CaptureQueriesContext(connection) as with_forty:
        response = viewer.get(REQUESTS_URL)

    assert len(response.context["cl"].result_list) == 41
    assert len(with_forty) == len(with_one)


def test_request_change_page_shows_its_booking_read_only(
    client, in_clinic, clinic_team, make_booking
):
    booking = make_booking(in_clinic, clinic_team, tomorrow_at("10:00"))
    viewer = staff_client(client, "view_consultationrequest")

    html = viewer.get(f"{REQUESTS_URL}{booking.consultation.pk}/change/").text

    assert "In-clinic consultation" in html
    assert f"{tomorrow_at('10:00'):%a %-d %b %Y}, 10:00 E" in html
    assert "with Clinic team: Confirmed" in html
    assert f'href="{BOOKINGS_URL}{booking.pk}/change/"' in html


def test_call_back_change_page_has_no_booking_section(client, call_back):
    viewer = staff_client(client, "view_consultationrequest")

    response = viewer.get(f"{REQUESTS_URL}{call_back.pk}/change/")

    assert response.status_code == 200
    assert "See the booking" not in response.text


def test_bookings_keep_a_revision_history(client, in_clinic, clinic_team, make_booking):
    booking = make_booking(in_clinic, clinic_team, tomorrow_at("10:00"))
    viewer = staff_client(client, "view_booking")

    response = viewer.get(f"{BOOKINGS_URL}{booking.pk}/history/")

    assert is_registered(Booking)
    assert response.status_code == 200


def test_booking_history_needs_the_right_to_view_bookings(
    client, in_clinic, clinic_team, make_booking
):
    booking = make_booking(in_clinic, clinic_team, tomorrow_at("10:00"))
    outsider = staff_client(client, "view_consultationrequest")

    assert outsider.get(f"{BOOKINGS_URL}{booking.pk}/history/").status_code == 403


DAY_URL = f"{BOOKINGS_URL}day/"
WEEK_URL = f"{BOOKINGS_URL}week/"


def test_day_view_lists_a_days_bookings_without_names(
    client, in_clinic, clinic_team, make_calendar, make_booking
):
    day = timezone.localdate() + timedelta(days=1)
    rivera = make_calendar("Dr Rivera", types=[in_clinic])
    at_ten = make_booking(in_clinic, clinic_team, local_moment(day, "10:00"))
    at_nine = make_booking(in_clinic, rivera, local_moment(day, "09:00"))
    cancelled = make_booking(
        in_clinic, clinic_team, local_moment(day, "11:00"), status="cancelled"
    )
    next_day = make_booking(
        in_clinic, clinic_team, local_moment(day + timedelta(days=1), "10:00")
    )
    viewer = staff_client(client, "view_booking")

    response = viewer.get(DAY_URL, {"date": day.isoformat()})

    assert response.status_code == 200
    [(shown_day, bookings)] = response.context["days"]
    assert shown_day == day
    assert bookings == [at_nine, at_ten]
    html = response.text
    assert (
        "09:00–09:15</strong></a>\n              In-clinic consultation, Dr Rivera"
        in html
    )
    assert f'href="{REQUESTS_URL}{at_ten.consultation.pk}/change/"' in html
    assert f'href="{BOOKINGS_URL}{at_ten.pk}/change/"' in html
    assert "Confirmed" in html
    assert "Maria Lopez" not in html
    assert cancelled.consultation.reference not in html
    assert next_day.consultation.reference not in html


def test_day_view_of_one_calendar(
    client, in_clinic, clinic_team, make_calendar, make_booking
):
    day = timezone.localdate() + timedelta(days=1)
    rivera = make_calendar("Dr Rivera", types=[in_clinic])
    theirs = make_booking(in_clinic, rivera, local_moment(day, "09:00"))
    make_booking(in_clinic, clinic_team, local_moment(day, "10:00"))
    viewer = staff_client(client, "view_booking")

    response = viewer.get(DAY_URL, {"date": day.isoformat(), "calendar": rivera.pk})

    assert response.context["days"] == [(day, [theirs])]
    after = (day + timedelta(days=1)).isoformat()
    assert f'href="{DAY_URL}?date={after}&amp;calendar={rivera.pk}"' in response.text


def test_week_view_lists_each_day_from_monday_with_links_to_the_weeks_around(
    client, in_clinic, clinic_team, make_booking
):
    wednesday = date(2026, 7, 15)
    monday = date(2026, 7, 13)
    booking = make_booking(in_clinic, clinic_team, local_moment(wednesday, "10:00"))
    sunday_night = make_booking(
        in_clinic, clinic_team, local_moment(date(2026, 7, 19), "23:45")
    )
    make_booking(in_clinic, clinic_team, local_moment(date(2026, 7, 20), "00:00"))
    viewer = staff_client(client, "view_booking")

    response = viewer.get(WEEK_URL, {"date": wednesday.isoformat()})

    days = response.context["days"]
    assert [day for day, _ in days] == [monday + timedelta(days=n) for n in range(7)]
    assert dict(days)[wednesday] == [booking]
    assert dict(days)[date(2026, 7, 19)] == [sunday_night]
    assert sum(len(bookings) for _, bookings in days) == 2
    assert f'href="{WEEK_URL}?date=2026-07-06"' in response.text
    assert f'href="{WEEK_URL}?date=2026-07-20"' in response.text
    assert "No bookings." in response.text


def test_booking_list_links_to_the_day_and_week_views(client, db):
    viewer = staff_client(client, "view_booking")

    html = viewer.get(BOOKINGS_URL).text

    assert f'href="{DAY_URL}"' in html
    assert f'href="{WEEK_URL}"' in html


@pytest.mark.parametrize("url", [DAY_URL, WEEK_URL])
def test_day_and_week_views_take_the_same_queries_at_0_and_200_bookings(
    client, in_clinic, make_calendar, make_booking, url
):
    day = timezone.localdate() + timedelta(days=1)
    calendars = [make_calendar(f"Calendar {n}", types=[in_clinic]) for n in range(5)]
    viewer = staff_client(client, "view_booking")
    viewer.get(url, {"date": day.isoformat()})
    with CaptureQueriesContext(connection) as without_bookings:
        viewer.get(url, {"date": day.isoformat()})
    for calendar in calendars:
        for n in range(40):
            starts_at = local_moment(day, "08:00") + timedelta(minutes=15 * n)
            make_booking(in_clinic, calendar, starts_at)

    with CaptureQueriesContext(connection) as with_bookings:
        response = viewer.get(url, {"date": day.isoformat()})

    assert sum(len(bookings) for _, bookings in response.context["days"]) == 200
    assert len(with_bookings) == len(without_bookings) <= 10


@pytest.mark.parametrize("url", [DAY_URL, WEEK_URL])
def test_day_and_week_views_need_the_right_to_view_bookings(client, db, url):
    outsider = staff_client(client, "view_consultationrequest", "view_staffcalendar")

    assert outsider.get(url).status_code == 403


@pytest.mark.parametrize("url", [DAY_URL, WEEK_URL])
def test_day_and_week_views_are_not_for_visitors(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    "query",
    [
        {"date": "yesterday"},
        {"date": "2026-02-30"},
        {"date": "0001-01-01"},
        {"date": "9999-12-31"},
        {"calendar": "abc"},
        {"calendar": "999"},
        {"calendar": "1 OR 1=1"},
    ],
)
def test_forged_day_or_calendar_is_not_found(client, db, query):
    viewer = staff_client(client, "view_booking")

    assert viewer.get(DAY_URL, query).status_code == 404
    assert viewer.get(WEEK_URL, query).status_code == 404


CALENDARS_URL = "/admin/bookings/staffcalendar/"


def test_each_calendar_has_its_own_secret_feed_token(make_calendar, db):
    first, second = make_calendar("Clinic team"), make_calendar("Dr Rivera")

    assert len(first.feed_token) >= 43
    assert first.feed_token != second.feed_token


def test_staff_who_may_change_calendars_renew_the_feed_address(
    client, clinic_team, make_calendar
):
    other = make_calendar("Dr Rivera")
    old_token, others_token = clinic_team.feed_token, other.feed_token
    editor = staff_client(client, "view_staffcalendar", "change_staffcalendar")

    response = editor.post(
        CALENDARS_URL,
        {"action": "renew_feed_address", "_selected_action": [clinic_team.pk]},
    )

    assert response.status_code == 302
    clinic_team.refresh_from_db()
    other.refresh_from_db()
    assert clinic_team.feed_token != old_token
    assert other.feed_token == others_token


def test_view_only_staff_cannot_renew_the_feed_address(client, clinic_team):
    old_token = clinic_team.feed_token
    viewer = staff_client(client, "view_staffcalendar", "view_booking")

    viewer.post(
        CALENDARS_URL,
        {"action": "renew_feed_address", "_selected_action": [clinic_team.pk]},
    )

    clinic_team.refresh_from_db()
    assert clinic_team.feed_token == old_token


def feed_path(calendar):
    return f"/calendars/{calendar.feed_token}.ics"


def test_calendar_feed_lists_reference_type_and_time_without_names(
    client, in_clinic, clinic_team, make_calendar, make_booking
):
    coming = make_booking(in_clinic, clinic_team, tomorrow_at("10:00"))
    recent = make_booking(
        in_clinic, clinic_team, tomorrow_at("10:00") - timedelta(days=20)
    )
    make_booking(in_clinic, clinic_team, tomorrow_at("10:00") - timedelta(days=40))
    make_booking(in_clinic, clinic_team, tomorrow_at("11:00"), status="cancelled")
    make_booking(in_clinic, make_calendar("Dr Rivera"), tomorrow_at("10:00"))

    response = client.get(feed_path(clinic_team))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    feed = icalendar.Calendar.from_ical(response.content)
    events = sorted(feed.walk("VEVENT"), key=lambda event: event.decoded("dtstart"))
    assert [event.decoded("dtstart") for event in events] == [
        recent.starts_at,
        coming.starts_at,
    ]
    assert coming.consultation.reference in str(events[1]["summary"])
    assert "In-clinic consultation" in str(events[1]["summary"])
    text = response.content.decode()
    for private in ("Maria", "Lopez", "maria@example.org", "5550188", "Fibromyalgia"):
        assert private not in text


def test_calendar_feed_is_kept_by_no_cache(client, clinic_team):
    response = client.get(feed_path(clinic_team))

    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("token", ["unknown", "a" * 43, "%27%20OR%201=1"])
def test_calendar_feed_with_an_unknown_token_is_not_found(client, clinic_team, token):
    assert client.get(f"/calendars/{token}.ics").status_code == 404


def test_renewing_the_feed_address_kills_the_old_one_at_once(client, clinic_team):
    old_path = feed_path(clinic_team)
    assert client.get(old_path).status_code == 200
    editor = staff_client(client, "view_staffcalendar", "change_staffcalendar")

    editor.post(
        CALENDARS_URL,
        {"action": "renew_feed_address", "_selected_action": [clinic_team.pk]},
    )
    editor.logout()

    clinic_team.refresh_from_db()
    assert client.get(old_path).status_code == 404
    assert client.get(feed_path(clinic_team)).status_code == 200


def test_calendar_page_shows_the_feed_address_to_staff_who_see_bookings(
    client, clinic_team
):
    viewer = staff_client(client, "view_staffcalendar", "view_booking")

    html = viewer.get(f"{CALENDARS_URL}{clinic_team.pk}/change/").text

    assert f"https://www.clinic.example{feed_path(clinic_team)}" in html


def test_calendar_page_hides_the_feed_address_from_staff_who_cannot_see_bookings(
    client, clinic_team
):
    viewer = staff_client(client, "view_staffcalendar")

    response = viewer.get(f"{CALENDARS_URL}{clinic_team.pk}/change/")

    assert response.status_code == 200
    assert clinic_team.feed_token not in response.text


def booking_url(booking, step=""):
    return f"{BOOKINGS_URL}{booking.pk}/{step}"


@pytest.fixture
def booking(in_clinic, clinic_team, make_booking):
    return make_booking(in_clinic, clinic_team, tomorrow_at("10:00"))


@pytest.fixture
def rebooker(client, db):
    return staff_client(client, "view_booking", "change_booking")


def last_revision_user(booking):
    return Version.objects.get_for_object(booking).first().revision.user


def test_booking_page_offers_move_cancel_and_outcome_to_staff_who_may_change(
    rebooker, booking
):
    html = rebooker.get(booking_url(booking, "change/")).text

    for step in ("move/", "cancel/", "outcome/"):
        assert f'href="{booking_url(booking, step)}"' in html


def test_staff_move_a_booking_to_a_free_time(rebooker, booking):
    later = tomorrow_at("15:00")
    listed = rebooker.get(booking_url(booking, "move/"))
    assert f'value="{later.astimezone(UTC).isoformat()}"' in listed.text

    response = rebooker.post(
        booking_url(booking, "move/"), {"starts_at": later.isoformat()}
    )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == later
    assert booking.sequence == 1
    assert last_revision_user(booking).username == "staff"


def test_moving_to_a_taken_time_says_so_and_keeps_the_booking(
    rebooker, booking, in_clinic, clinic_team, make_booking
):
    make_booking(in_clinic, clinic_team, tomorrow_at("15:00"))

    response = rebooker.post(
        booking_url(booking, "move/"),
        {"starts_at": tomorrow_at("15:00").isoformat()},
        follow=True,
    )

    assert "That time was just taken." in response.text
    booking.refresh_from_db()
    assert booking.starts_at == tomorrow_at("10:00")


@pytest.mark.parametrize("forged", ["", "tomorrow", "2026-07-15T10:00"])
def test_moving_to_a_forged_time_changes_nothing(rebooker, booking, forged):
    response = rebooker.post(booking_url(booking, "move/"), {"starts_at": forged})

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.starts_at == tomorrow_at("10:00")


def test_staff_cancel_a_booking_and_the_patient_is_told(rebooker, booking):
    response = rebooker.post(booking_url(booking, "cancel/"))

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.messages.filter(kind=BookingMessage.Kind.CANCELLATION).exists()
    assert last_revision_user(booking).username == "staff"


@pytest.mark.parametrize("status", ["attended", "no_show"])
def test_staff_record_whether_the_patient_came(rebooker, booking, status):
    response = rebooker.post(booking_url(booking, "outcome/"), {"status": status})

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == status
    assert last_revision_user(booking).username == "staff"


@pytest.mark.parametrize("forged", ["cancelled", "confirmed", ""])
def test_forged_outcome_is_refused(rebooker, booking, forged):
    response = rebooker.post(booking_url(booking, "outcome/"), {"status": forged})

    assert response.status_code == 400
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("move/", {"starts_at": "15:00"}),
        ("cancel/", {}),
        ("outcome/", {"status": "no_show"}),
    ],
)
def test_view_only_staff_can_neither_move_cancel_nor_mark_a_booking(
    client, booking, step, data
):
    viewer = staff_client(client, "view_booking")
    if "starts_at" in data:
        data = {"starts_at": tomorrow_at(data["starts_at"]).isoformat()}

    assert viewer.get(booking_url(booking, step)).status_code == 403
    assert viewer.post(booking_url(booking, step), data).status_code == 403
    assert (
        f'href="{booking_url(booking, step)}"'
        not in viewer.get(booking_url(booking, "change/")).text
    )
    booking.refresh_from_db()
    assert (booking.starts_at, booking.status) == (tomorrow_at("10:00"), "confirmed")


def test_unknown_booking_is_not_found(rebooker, db):
    for step in ("move/", "cancel/", "outcome/"):
        assert rebooker.get(f"{BOOKINGS_URL}999/{step}").status_code == 404


def test_an_old_version_cannot_be_restored_past_the_booking_rules(rebooker, booking):
    for hh_mm in ("15:00", "16:00"):
        rebooker.post(
            booking_url(booking, "move/"), {"starts_at": tomorrow_at(hh_mm).isoformat()}
        )
    [*_, at_three] = Version.objects.get_for_object(booking)

    response = rebooker.post(booking_url(booking, f"history/{at_three.pk}/"))

    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.starts_at == tomorrow_at("16:00")

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking, ConsultationType, StaffCalendar, WeeklyHours

TYPES_URL = "/admin/bookings/consultationtype/"
CALENDARS_URL = "/admin/bookings/staffcalendar/"
BOOKINGS_URL = "/admin/bookings/booking/"


def staff_client(client, *codenames):
    """A client logged in as staff with exactly these bookings permissions."""
    user = User.objects.create_user("setup", password="a long test password 1")
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="bookings", codename__in=codenames
        )
    )
    client.force_login(user)
    return client


def free_times_url(consultation_type):
    return f"{TYPES_URL}{consultation_type.pk}/free-times/"


def tomorrow_at(hh_mm):
    day = timezone.localdate() + timedelta(days=1)
    wall_clock = datetime.combine(day, time.fromisoformat(hh_mm))
    return timezone.make_aware(wall_clock)


@pytest.fixture
def front_desk_client(client, db):
    user = User.objects.create_user("desk", password="a long test password 1")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name="Front desk"))
    client.force_login(user)
    return client


@pytest.fixture
def in_clinic(make_consultation_type):
    return make_consultation_type(notice_hours=0)


@pytest.fixture
def every_day(make_calendar, in_clinic):
    hours = [(day, "09:00", "11:00") for day in WeeklyHours.Weekday.values]
    return make_calendar(types=[in_clinic], hours=hours)


def test_staff_with_the_rights_set_up_a_type_and_a_calendar_with_hours(client, db):
    editor = staff_client(
        client,
        *(
            f"{action}_{model}"
            for action in ("view", "add", "change")
            for model in ("consultationtype", "staffcalendar", "weeklyhours")
        ),
    )

    editor.post(
        f"{TYPES_URL}add/",
        {
            "name": "Free phone consultation",
            "slug": "free-phone-consultation",
            "location": "phone",
            "is_offered_online": "on",
            "order": "0",
            "duration_minutes": "15",
            "buffer_minutes": "0",
            "notice_hours": "4",
            "horizon_days": "30",
            "daily_cap": "",
            "preparation": "Have your list of medicines at hand.",
        },
    )
    phone = ConsultationType.objects.get()
    response = editor.post(
        f"{CALENDARS_URL}add/",
        {
            "name": "Clinic team",
            "staff_member": "",
            "consultation_types": [phone.pk],
            "is_active": "on",
            "weekly_hours-TOTAL_FORMS": "2",
            "weekly_hours-INITIAL_FORMS": "0",
            "weekly_hours-0-weekday": "0",
            "weekly_hours-0-starts": "09:00",
            "weekly_hours-0-ends": "12:00",
            "weekly_hours-1-weekday": "0",
            "weekly_hours-1-starts": "13:30",
            "weekly_hours-1-ends": "17:00",
            "extra_hours-TOTAL_FORMS": "0",
            "extra_hours-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    calendar = StaffCalendar.objects.get()
    assert list(calendar.consultation_types.all()) == [phone]
    # Wall-clock times in the clinic's zone, stored as entered.
    assert [(h.starts, h.ends) for h in calendar.weekly_hours.all()] == [
        (time(9), time(12)),
        (time(13, 30), time(17)),
    ]
    change_page = editor.get(f"{CALENDARS_URL}{calendar.pk}/change/").text
    assert 'name="weekly_hours-1-starts" value="13:30"' in change_page


def test_hours_that_end_before_they_start_are_refused(client, make_calendar):
    calendar = make_calendar()
    editor = staff_client(
        client, "view_staffcalendar", "change_staffcalendar", "add_weeklyhours"
    )

    response = editor.post(
        f"{CALENDARS_URL}{calendar.pk}/change/",
        {
            "name": "Clinic team",
            "is_active": "on",
            "weekly_hours-TOTAL_FORMS": "1",
            "weekly_hours-INITIAL_FORMS": "0",
            "weekly_hours-0-weekday": "0",
            "weekly_hours-0-starts": "17:00",
            "weekly_hours-0-ends": "09:00",
            "extra_hours-TOTAL_FORMS": "0",
            "extra_hours-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "The end must be later than the start." in response.text
    assert not calendar.weekly_hours.exists()


def test_preview_lists_free_times_by_day_in_the_clinics_zone(
    client, every_day, in_clinic, make_booking, django_assert_max_num_queries
):
    make_booking(in_clinic, every_day, tomorrow_at("10:00"))
    viewer = staff_client(client, "view_consultationtype")

    with django_assert_max_num_queries(15):
        response = viewer.get(free_times_url(in_clinic))

    assert response.status_code == 200
    days = dict(response.context["days"])
    today = timezone.localdate()
    # Today's times may have passed already; the 14th day is the last one.
    assert max(days) == today + timedelta(days=13)
    assert min(days) >= today
    tomorrow = days[today + timedelta(days=1)]
    assert [slot.starts_at for slot in tomorrow] == [tomorrow_at("09:00")]
    assert "America/New_York" in response.text
    assert f"{tomorrow_at('09:00'):%A %-d %B}" in response.text
    assert "09:00 (Clinic team)" in response.text


def test_preview_of_one_calendar_is_linked_from_its_change_page(
    client, every_day, in_clinic, make_calendar
):
    make_calendar("Dr Rivera", types=[in_clinic], hours=[(0, "14:00", "15:00")])
    viewer = staff_client(client, "view_consultationtype", "view_staffcalendar")

    change_page = viewer.get(f"{CALENDARS_URL}{every_day.pk}/change/").text
    link = f"{free_times_url(in_clinic)}?calendar={every_day.pk}"
    assert f'href="{link}"' in change_page

    days = viewer.get(link).context["days"]
    assert {slot.calendar for _, slots in days for slot in slots} == {every_day}


def test_preview_takes_the_same_queries_whatever_the_bookings(
    client, every_day, in_clinic, make_booking
):
    viewer = staff_client(client, "view_consultationtype")
    viewer.get(free_times_url(in_clinic))
    with CaptureQueriesContext(connection) as without_bookings:
        viewer.get(free_times_url(in_clinic))
    for day in range(13):
        make_booking(in_clinic, every_day, tomorrow_at("09:00") + timedelta(days=day))

    with CaptureQueriesContext(connection) as with_bookings:
        response = viewer.get(free_times_url(in_clinic))

    assert sum(len(slots) for _, slots in response.context["days"]) < 2 * 14
    assert len(with_bookings) == len(without_bookings)


def test_preview_needs_the_right_to_view_consultation_types(client, in_clinic):
    outsider = staff_client(client, "view_booking", "view_staffcalendar")

    response = outsider.get(free_times_url(in_clinic))

    assert response.status_code == 403


def test_forged_calendar_in_the_preview_is_not_found(client, in_clinic):
    viewer = staff_client(client, "view_consultationtype")

    for forged in ("abc", "999", "1 OR 1=1"):
        response = viewer.get(free_times_url(in_clinic), {"calendar": forged})
        assert response.status_code == 404


def test_bookings_are_listed_read_only(client, every_day, in_clinic, make_booking):
    booking = make_booking(in_clinic, every_day, tomorrow_at("10:00"))
    front_desk = staff_client(client, "view_booking", "change_booking")

    listing = front_desk.get(BOOKINGS_URL)
    change_page = front_desk.get(f"{BOOKINGS_URL}{booking.pk}/change/")
    refused = front_desk.post(
        f"{BOOKINGS_URL}{booking.pk}/change/", {"status": "cancelled"}
    )

    assert listing.status_code == 200
    assert booking.consultation.reference in listing.text
    assert "10 a.m." in listing.text
    assert "Clinic team" in listing.text
    assert "Confirmed" in listing.text
    assert "Maria Lopez" not in listing.text
    assert change_page.status_code == 200
    assert refused.status_code == 403
    assert front_desk.get(f"{BOOKINGS_URL}add/").status_code == 403
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize(
    "url",
    [
        TYPES_URL,
        f"{TYPES_URL}add/",
        CALENDARS_URL,
        "/admin/bookings/closeddates/",
        "/admin/bookings/closeddates/add/",
        BOOKINGS_URL,
    ],
)
def test_staff_without_the_rights_are_refused(client, db, url):
    outsider = staff_client(client, "view_consultationrequest")

    assert outsider.get(url).status_code == 403


def test_front_desk_sees_the_setup_and_bookings_but_cannot_change_the_setup(
    front_desk_client, every_day, in_clinic, make_booking
):
    make_booking(in_clinic, every_day, tomorrow_at("10:00"))

    for url in (TYPES_URL, CALENDARS_URL, "/admin/bookings/closeddates/"):
        assert front_desk_client.get(url).status_code == 200
    assert front_desk_client.get(BOOKINGS_URL).status_code == 200
    assert front_desk_client.get(free_times_url(in_clinic)).status_code == 200
    assert front_desk_client.get(f"{TYPES_URL}add/").status_code == 403
    refused = front_desk_client.post(
        f"{TYPES_URL}{in_clinic.pk}/change/", {"name": "Renamed"}
    )
    assert refused.status_code == 403
    in_clinic.refresh_from_db()
    assert in_clinic.name == "In-clinic consultation"

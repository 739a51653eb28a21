from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from reversion import is_registered

from bookings.models import Booking, ConsultationRequest, WeeklyHours

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

"""The patient's manage pages, opened from the signed link in their e-mail."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.core import signing
from django.utils import timezone

from bookings.availability import free_slots
from bookings.models import MANAGE_TOKEN_SALT, Booking

INVALID = "This link does not work"


@pytest.fixture
def clinic_type(make_consultation_type):
    return make_consultation_type(duration_minutes=45, buffer_minutes=15)


@pytest.fixture
def calendar(make_calendar, clinic_type):
    return make_calendar(
        types=[clinic_type], hours=[(day, "09:00", "12:00") for day in range(7)]
    )


def local(days, hour):
    """hour:00 in the clinic's zone, `days` days from today."""
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def booking(make_booking, clinic_type, calendar):
    return make_booking(clinic_type, calendar, local(7, 10))


def free_times(consultation_type, day):
    return [slot.starts_at for slot in free_slots(consultation_type, day, day)]


def test_manage_page_shows_the_booking_and_plain_links_to_change_it(client, booking):
    url = booking.get_manage_url()
    page = client.get(url)

    assert page.status_code == 200
    assert booking.consultation.reference in page.text
    assert "10:00 AM E" in page.text  # EST or EDT: the zone is named
    assert "In-clinic consultation" in page.text
    assert "100 Example Street" in page.text
    assert f'href="{url}move/"' in page.text
    assert f'href="{url}cancel/"' in page.text
    assert "no-store" in page["Cache-Control"]
    for secret in ("Maria", "Lopez", "maria@example.org", "Fibromyalgia"):
        assert secret not in page.text


def test_the_link_carries_the_booking_id_only(booking):
    token = booking.manage_token()

    assert signing.Signer(salt=MANAGE_TOKEN_SALT).unsign_object(token) == booking.pk
    for secret in (booking.consultation.reference, "maria", "Lopez", "7705550188"):
        assert secret.lower() not in booking.get_manage_url().lower()


@pytest.mark.parametrize(
    "token",
    [
        "tampered",
        "id",
        "other salt",
        "not a number",
    ],
)
def test_a_tampered_link_is_refused_with_a_page_that_reveals_nothing(
    client, booking, make_booking, clinic_type, calendar, token
):
    other = make_booking(clinic_type, calendar, local(8, 10))
    good = booking.manage_token()
    tokens = {
        "tampered": good[:-1] + ("A" if good[-1] != "A" else "B"),
        # The signature of one booking with the id of another.
        "id": signing.Signer(salt=MANAGE_TOKEN_SALT).sign_object(other.pk).split(":")[0]
        + ":"
        + good.split(":")[1],
        "other salt": signing.Signer(salt="bookings.thanks").sign_object(booking.pk),
        "not a number": signing.Signer(salt=MANAGE_TOKEN_SALT).sign_object("1"),
    }

    for path in ("", "cancel/", "move/"):
        page = client.get(f"/consultation/booking/{tokens[token]}/{path}")
        assert page.status_code == 404
        assert INVALID in page.text
        assert booking.consultation.reference not in page.text
        assert 'href="/consultation/"' in page.text
    refused = client.post(f"/consultation/booking/{tokens[token]}/cancel/")
    assert refused.status_code == 404
    assert Booking.objects.active().count() == 2


def test_a_link_expires_a_day_after_its_booking(
    client, make_booking, clinic_type, calendar
):
    past = make_booking(clinic_type, calendar, timezone.now() - timedelta(hours=25))
    recent = make_booking(clinic_type, calendar, timezone.now() - timedelta(hours=23))

    assert client.get(past.get_manage_url()).status_code == 404
    assert INVALID in client.get(past.get_manage_url()).text
    assert client.get(recent.get_manage_url()).status_code == 200


def test_after_the_cutoff_the_page_gives_the_phone_number_and_refuses_changes(
    client, make_booking, clinic_type, calendar, settings
):
    settings.BOOKINGS_CHANGE_CUTOFF_HOURS = 2
    soon = make_booking(clinic_type, calendar, timezone.now() + timedelta(minutes=90))
    url = soon.get_manage_url()

    page = client.get(url)
    assert "too late to change this consultation online" in page.text
    assert "(770) 555-0123" in page.text
    assert f'href="{url}cancel/"' not in page.text
    assert client.get(f"{url}cancel/").status_code == 302
    assert client.get(f"{url}move/").status_code == 302
    client.post(f"{url}cancel/")
    client.post(f"{url}move/", {"starts_at": local(9, 9).isoformat()})

    soon.refresh_from_db()
    assert (soon.status, soon.sequence) == (Booking.Status.CONFIRMED, 0)


def test_cancelling_asks_first_then_frees_the_time(client, booking, clinic_type):
    url = booking.get_manage_url()
    day = timezone.localdate(booking.starts_at)
    assert booking.starts_at not in free_times(clinic_type, day)

    confirm = client.get(f"{url}cancel/")
    assert confirm.status_code == 200
    assert f'<form method="post" action="{url}cancel/">' in confirm.text
    assert Booking.objects.get().status == Booking.Status.CONFIRMED

    done = client.post(f"{url}cancel/", follow=True)

    assert done.redirect_chain == [(f"{url}?done=cancelled", 302)]
    assert "Your consultation is cancelled" in done.text
    assert Booking.objects.get().status == Booking.Status.CANCELLED
    assert booking.starts_at in free_times(clinic_type, day)


def test_choosing_another_time_moves_it_and_frees_the_old_one(
    client, booking, clinic_type
):
    url = booking.get_manage_url()
    old_day = timezone.localdate(booking.starts_at)
    new_time = local(9, 11)

    page = client.get(f"{url}move/", {"day": new_time.date().isoformat()})
    assert page.status_code == 200
    values = re.findall(r'name="starts_at" value="([^"]+)"', page.text)
    assert any(datetime.fromisoformat(value) == new_time for value in values)
    assert f'href="?day={old_day.isoformat()}"' in page.text

    done = client.post(f"{url}move/", {"starts_at": new_time.isoformat()}, follow=True)

    assert done.redirect_chain == [(f"{url}?done=moved", 302)]
    assert "has its new time" in done.text
    moved = Booking.objects.get()
    assert (moved.starts_at, moved.sequence) == (new_time, 1)
    assert booking.starts_at in free_times(clinic_type, old_day)
    assert new_time not in free_times(clinic_type, new_time.date())


def test_choosing_a_taken_time_shows_the_nearest_free_ones(
    client, booking, make_booking, clinic_type, calendar
):
    taken = local(9, 11)
    make_booking(clinic_type, calendar, taken)

    page = client.post(
        f"{booking.get_manage_url()}move/", {"starts_at": taken.isoformat()}
    )

    assert page.status_code == 409
    assert "That time was just taken" in page.text
    assert "Free times near it" in page.text
    assert Booking.objects.get(pk=booking.pk).starts_at == local(7, 10)


@pytest.mark.parametrize("starts_at", ["", "tomorrow", "2027-01-11T09:00:00"])
def test_a_forged_time_is_refused_with_a_message_not_an_error(
    client, booking, starts_at
):
    page = client.post(f"{booking.get_manage_url()}move/", {"starts_at": starts_at})

    assert page.status_code == 400
    assert "Please choose one of the times shown" in page.text
    assert Booking.objects.get().sequence == 0


def test_a_time_off_the_grid_is_refused_with_its_reason(client, booking):
    off_grid = local(9, 11) + timedelta(minutes=20)

    page = client.post(
        f"{booking.get_manage_url()}move/", {"starts_at": off_grid.isoformat()}
    )

    assert page.status_code == 400
    assert "We have no consultation at that time" in page.text


@pytest.mark.parametrize("bookings", [0, 500])
@pytest.mark.parametrize("page", ["", "move/", "cancel/"])
def test_manage_pages_run_a_fixed_number_of_queries(
    client,
    booking,
    make_booking,
    make_calendar,
    clinic_type,
    in_memory_cache,
    django_assert_max_num_queries,
    page,
    bookings,
):
    other = make_calendar("Dr Brown", types=[clinic_type])
    start = local(1, 0)
    for n in range(bookings):
        make_booking(clinic_type, other, start + timedelta(hours=n))

    # The booking with its request, type and calendar; on the move page the
    # weekly and extra hours, the closed dates and the bookings; the clinic's
    # details and the menu.
    with django_assert_max_num_queries(8):
        response = client.get(f"{booking.get_manage_url()}{page}")
    assert response.status_code == 200

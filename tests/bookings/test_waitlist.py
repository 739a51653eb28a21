import io
import re
import secrets
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.core import signing
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from bookings.forms import issue_form_token
from bookings.models import (
    MANAGE_TOKEN_SALT,
    Booking,
    BookingMessage,
    ConsultationRequest,
    WaitlistEntry,
)
from bookings.tasks import deliver_booking_message
from tests.bookings.conftest import run_worker
from tests.bookings.test_mail import all_text

URL = "/consultation/book/in-clinic-consultation/waitlist/"
EVERY_DAY = [(weekday, "09:00", "17:00") for weekday in range(7)]


@pytest.fixture
def in_clinic(make_consultation_type, make_calendar):
    consultation_type = make_consultation_type()
    make_calendar(types=[consultation_type], hours=EVERY_DAY)
    return consultation_type


@pytest.fixture
def waitlist_data(privacy_page):
    def make(**overrides):
        today = timezone.localdate()
        data = {
            "email": "Maria@Example.org",
            "first_day": today.isoformat(),
            "last_day": (today + timedelta(days=10)).isoformat(),
            "consent": "on",
            "website": "",
            "form_token": issue_form_token(),
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return make


def make_entry(consultation_type, first_day, last_day, days_old=0, **fields):
    entry = WaitlistEntry.objects.create(
        consultation_type=consultation_type,
        email=fields.pop("email", f"{secrets.token_hex(4)}@example.org"),
        first_day=first_day,
        last_day=last_day,
        form_token=secrets.token_hex(16),
        consent_at=timezone.now(),
        **fields,
    )
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        created_at=timezone.now() - timedelta(days=days_old)
    )
    return entry


def at_nine(days_ahead):
    """9:00 in the clinic's zone, days ahead: a time on every calendar's grid."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    return datetime.combine(day, time(9), tzinfo=timezone.get_default_timezone())


def cancelled(booking):
    booking.status = Booking.Status.CANCELLED
    booking.save()
    return booking


@pytest.fixture
def freed_time(in_clinic, make_booking):
    """A booking in three days' time, cancelled: its time is free again."""
    calendar = in_clinic.calendars.get()
    return cancelled(make_booking(in_clinic, calendar, at_nine(3)))


# Joining


def test_form_page_offers_the_waitlist_of_a_type(client, in_clinic, privacy_page):
    response = client.get(URL)

    assert response.status_code == 200
    assert "No time suits you?" in response.text
    assert 'action="/consultation/book/in-clinic-consultation/waitlist/"' in (
        response.text
    )
    assert response.headers["Cache-Control"].startswith("max-age=0")


def test_type_not_offered_online_has_no_waitlist(client, in_clinic, waitlist_data):
    in_clinic.is_offered_online = False
    in_clinic.save()

    assert client.get(URL).status_code == 404
    assert client.post(URL, waitlist_data()).status_code == 404
    assert not WaitlistEntry.objects.exists()


def test_joining_stores_the_address_and_days_and_thanks(
    client, in_clinic, waitlist_data
):
    data = waitlist_data()

    response = client.post(URL, data)

    assert response.status_code == 302
    assert response.url == URL + "thanks/"
    entry = WaitlistEntry.objects.get()
    assert entry.consultation_type == in_clinic
    assert entry.email == "maria@example.org"
    assert entry.first_day.isoformat() == data["first_day"]
    assert entry.last_day.isoformat() == data["last_day"]
    assert entry.consent_at is not None
    assert entry.offered_at is None
    thanks = client.get(response.url)
    assert "you are on the waitlist" in thanks.text
    assert "maria" not in thanks.text.lower()


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"email": ""}, "email", "required"),
        ({"email": "maria at example"}, "email", "invalid"),
        ({"first_day": "next tuesday"}, "first_day", "invalid"),
        ({"first_day": None}, "first_day", "required"),
        ({"consent": None}, "consent", "required"),
        ({"form_token": "forged"}, "__all__", "expired"),
    ],
)
def test_bad_input_is_answered_with_the_form(
    client, in_clinic, waitlist_data, overrides, field, code
):
    response = client.post(URL, waitlist_data(**overrides))

    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert [error.code for error in errors[field]] == [code]
    assert 'id="error-summary"' in response.text
    assert not WaitlistEntry.objects.exists()


def test_days_outside_what_patients_can_book_are_refused(
    client, in_clinic, waitlist_data
):
    today = timezone.localdate()
    horizon = today + timedelta(days=in_clinic.horizon_days)
    cases = [
        ({"first_day": (today - timedelta(days=1)).isoformat()}, "first_day"),
        ({"last_day": (horizon + timedelta(days=1)).isoformat()}, "last_day"),
        (
            {
                "first_day": (today + timedelta(days=5)).isoformat(),
                "last_day": (today + timedelta(days=4)).isoformat(),
            },
            "last_day",
        ),
    ]
    codes = []
    for overrides, field in cases:
        response = client.post(URL, waitlist_data(**overrides))
        assert response.status_code == 200
        codes += [
            error.code for error in response.context["form"].errors.as_data()[field]
        ]

    assert codes == ["in_the_past", "too_far", "last_day_before_first_day"]
    assert not WaitlistEntry.objects.exists()


def test_honeypot_is_thanked_but_nothing_is_kept(client, in_clinic, waitlist_data):
    response = client.post(URL, waitlist_data(website="http://spam.example"))

    assert response.status_code == 302
    assert not WaitlistEntry.objects.exists()


def test_a_form_sent_twice_makes_one_entry(client, in_clinic, waitlist_data):
    data = waitlist_data()

    statuses = [client.post(URL, data).status_code for _ in range(2)]

    assert statuses == [302, 302]
    assert WaitlistEntry.objects.count() == 1


def test_the_request_forms_rate_limit_applies(
    client, in_clinic, waitlist_data, form_data, settings
):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 1
    client.post("/consultation/", form_data())

    response = client.post(URL, waitlist_data())

    assert response.status_code == 429
    assert "Too many forms came from your connection" in response.text
    assert not WaitlistEntry.objects.exists()


def test_days_page_tag_renders_a_fresh_form(in_clinic, privacy_page):
    request = RequestFactory().get("/consultation/book/in-clinic-consultation/")
    template = Template("{% load waitlist %}{% waitlist_form consultation_type %}")

    html = template.render(
        Context({"consultation_type": in_clinic, "request": request})
    )

    assert 'action="/consultation/book/in-clinic-consultation/waitlist/"' in html
    assert 'name="form_token" value="' in html
    assert 'name="first_day"' in html


# Offering a freed time


def test_freed_time_goes_to_the_longest_waiting_first(in_clinic, freed_time, settings):
    settings.BOOKINGS_WAITLIST_OFFERS = 2
    today = timezone.localdate()
    last = today + timedelta(days=10)
    newest = make_entry(in_clinic, today, last, days_old=1)
    oldest = make_entry(in_clinic, today, last, days_old=9)
    middle = make_entry(in_clinic, today, last, days_old=5)

    offered = WaitlistEntry.objects.offer_freed_time(freed_time)

    assert offered == [oldest, middle]
    oldest.refresh_from_db()
    assert oldest.offered_for == freed_time.starts_at
    assert oldest.offered_at is not None
    newest.refresh_from_db()
    assert newest.offered_at is None


def test_the_next_freed_time_goes_to_the_next_in_line(
    in_clinic, make_booking, settings
):
    settings.BOOKINGS_WAITLIST_OFFERS = 1
    calendar = in_clinic.calendars.get()
    today = timezone.localdate()
    first = make_entry(in_clinic, today, today + timedelta(days=10), days_old=9)
    second = make_entry(in_clinic, today, today + timedelta(days=10), days_old=5)

    offers = [
        WaitlistEntry.objects.offer_freed_time(
            cancelled(make_booking(in_clinic, calendar, at_nine(days)))
        )
        for days in (2, 3, 4)
    ]

    assert offers == [[first], [second], [first]]


def test_entries_of_other_days_or_types_are_not_offered(
    in_clinic, freed_time, make_consultation_type, make_calendar
):
    phone = make_consultation_type("Phone consultation", duration_minutes=15)
    make_calendar("Dr Reyes", types=[phone], hours=EVERY_DAY)
    day = timezone.localtime(freed_time.starts_at).date()
    make_entry(in_clinic, day + timedelta(days=1), day + timedelta(days=5))
    make_entry(in_clinic, day - timedelta(days=3), day - timedelta(days=1))
    make_entry(phone, day, day)
    waiting = make_entry(in_clinic, day, day)

    assert WaitlistEntry.objects.offer_freed_time(freed_time) == [waiting]


def test_a_time_patients_cannot_book_is_not_offered(in_clinic, make_booking):
    calendar = in_clinic.calendars.get()
    today = timezone.localdate()
    make_entry(in_clinic, today, today + timedelta(days=10))
    inside_notice = cancelled(
        make_booking(in_clinic, calendar, timezone.now() + timedelta(hours=1))
    )
    still_booked = make_booking(in_clinic, calendar, at_nine(3))
    retaken = make_booking(
        in_clinic, calendar, at_nine(3), status=Booking.Status.CANCELLED
    )
    off_grid = cancelled(
        make_booking(in_clinic, calendar, at_nine(4) + timedelta(minutes=10))
    )

    for booking in (inside_notice, still_booked, retaken, off_grid):
        assert WaitlistEntry.objects.offer_freed_time(booking) == []

    in_clinic.is_offered_online = False
    in_clinic.save()
    of_a_type_not_offered = cancelled(make_booking(in_clinic, calendar, at_nine(5)))
    assert WaitlistEntry.objects.offer_freed_time(of_a_type_not_offered) == []
    assert not WaitlistEntry.objects.filter(offered_at__isnull=False).exists()


def test_a_moved_booking_offers_its_old_time(in_clinic, make_booking):
    calendar = in_clinic.calendars.get()
    today = timezone.localdate()
    waiting = make_entry(in_clinic, today, today + timedelta(days=10))
    moved = make_booking(in_clinic, calendar, at_nine(6))

    offered = WaitlistEntry.objects.offer_freed_time(moved, starts_at=at_nine(3))

    assert offered == [waiting]
    waiting.refresh_from_db()
    assert waiting.offered_for == at_nine(3)


# Offers queued by a cancellation or a move


def offers():
    """The waitlist offers queued, as (address, time offered), oldest first."""
    return [
        (message.waitlist_entry.email, message.offered_time)
        for message in BookingMessage.objects.filter(
            kind=BookingMessage.Kind.WAITLIST_OFFER
        ).order_by("pk")
    ]


def test_a_patient_cancelling_queues_an_offer_to_the_oldest_waiting_patient(
    client, in_clinic, make_booking, settings
):
    settings.BOOKINGS_WAITLIST_OFFERS = 1
    today = timezone.localdate()
    make_entry(in_clinic, today, today + timedelta(days=10), email="new@example.org")
    make_entry(
        in_clinic,
        today,
        today + timedelta(days=10),
        days_old=3,
        email="old@example.org",
    )
    booking = make_booking(in_clinic, in_clinic.calendars.get(), at_nine(3))

    client.post(f"{booking.get_manage_url()}cancel/")

    assert offers() == [("old@example.org", at_nine(3))]
    [message] = BookingMessage.objects.filter(kind=BookingMessage.Kind.WAITLIST_OFFER)
    assert message.booking == booking


def test_a_patient_moving_offers_the_old_time(client, in_clinic, make_booking):
    today = timezone.localdate()
    make_entry(in_clinic, today, today + timedelta(days=10), email="wait@example.org")
    booking = make_booking(in_clinic, in_clinic.calendars.get(), at_nine(3))

    client.post(
        f"{booking.get_manage_url()}move/", {"starts_at": at_nine(4).isoformat()}
    )

    booking.refresh_from_db()
    assert booking.starts_at == at_nine(4)
    assert offers() == [("wait@example.org", at_nine(3))]


def test_staff_moving_or_cancelling_in_the_admin_offer_the_freed_time(
    client, in_clinic, make_booking
):
    today = timezone.localdate()
    make_entry(in_clinic, today, today + timedelta(days=10), email="wait@example.org")
    calendar = in_clinic.calendars.get()
    moved = make_booking(in_clinic, calendar, at_nine(3))
    cancelled = make_booking(in_clinic, calendar, at_nine(4))
    staff = User.objects.create_user("frontdesk", password="a long test password 1")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_booking", "change_booking"])
    )
    client.force_login(staff)

    client.post(
        f"/admin/bookings/booking/{moved.pk}/move/",
        {"starts_at": at_nine(5).isoformat()},
    )
    client.post(f"/admin/bookings/booking/{cancelled.pk}/cancel/")

    assert offers() == [
        ("wait@example.org", at_nine(3)),
        ("wait@example.org", at_nine(4)),
    ]


def test_a_time_patients_cannot_book_is_not_e_mailed(
    client, in_clinic, make_booking, smtp_server
):
    in_clinic.notice_hours = 48
    in_clinic.save()
    today = timezone.localdate()
    make_entry(in_clinic, today, today + timedelta(days=10), email="wait@example.org")
    tomorrow = make_booking(in_clinic, in_clinic.calendars.get(), at_nine(1))

    response = client.post(f"{tomorrow.get_manage_url()}cancel/")
    run_worker()

    assert response.status_code == 302
    assert Booking.objects.get().status == Booking.Status.CANCELLED
    assert smtp_server.to("maria@example.org")
    assert smtp_server.to("wait@example.org") == []
    assert offers() == []


@pytest.fixture
def new_consultation(fibromyalgia):
    def make(email):
        return ConsultationRequest(
            treatment=fibromyalgia,
            form_token=secrets.token_hex(16),
            full_name="Sam Waiting",
            email=email,
            phone="+17705550199",
            preferred_contact=ConsultationRequest.ContactMethod.PHONE,
            consent_at=timezone.now(),
        )

    return make


def test_an_offer_is_not_sent_once_its_time_was_booked(
    in_clinic, make_booking, new_consultation, smtp_server
):
    today = timezone.localdate()
    make_entry(in_clinic, today, today + timedelta(days=10), email="wait@example.org")
    make_booking(in_clinic, in_clinic.calendars.get(), at_nine(3)).cancel()
    assert offers() == [("wait@example.org", at_nine(3))]

    Booking.objects.take(new_consultation("quick@example.org"), in_clinic, at_nine(3))
    run_worker()

    assert smtp_server.to("quick@example.org")
    assert smtp_server.to("wait@example.org") == []
    assert not BookingMessage.objects.filter(
        kind=BookingMessage.Kind.WAITLIST_OFFER, sent_at__isnull=False
    ).exists()


BOOK_LINK = re.compile(
    r"https://www\.clinic\.example(/consultation/book/in-clinic-consultation/[^/]+/)"
)
LEAVE_LINK = re.compile(
    r"https://www\.clinic\.example(/consultation/waitlist/[^/]+/leave/)"
)


def test_a_cancellation_emails_the_oldest_waiting_patient_first(
    client, in_clinic, make_booking, smtp_server, settings
):
    settings.BOOKINGS_WAITLIST_OFFERS = 1
    today = timezone.localdate()
    make_entry(in_clinic, today, today + timedelta(days=10), email="new@example.org")
    make_entry(
        in_clinic,
        today,
        today + timedelta(days=10),
        days_old=3,
        email="old@example.org",
    )
    booking = make_booking(in_clinic, in_clinic.calendars.get(), at_nine(3))

    client.post(f"{booking.get_manage_url()}cancel/")
    run_worker()

    [offer] = smtp_server.to("old@example.org")
    assert smtp_server.to("new@example.org") == []
    text = all_text(offer)
    assert offer["Subject"].startswith("A time has come free: ")
    assert "9:00 AM E" in offer["Subject"]  # EST or EDT: the zone is named
    assert "In-clinic consultation" in text
    [book_path] = set(BOOK_LINK.findall(text))
    assert book_path == reverse(
        "bookings:book_time",
        kwargs={"slug": in_clinic.slug, "starts_at": at_nine(3)},
    )
    assert client.get(book_path).status_code == 200
    [leave_path] = set(LEAVE_LINK.findall(text))
    assert "Leave the waitlist?" in client.get(leave_path).text
    for secret in (
        "Maria",
        "Lopez",
        "maria@example.org",
        "ibromyalgia",
        booking.consultation.reference,
    ):
        assert secret not in text
    assert list(offer.iter_attachments()) == []


def test_an_offer_is_sent_once_however_often_its_task_runs(
    in_clinic, make_booking, smtp_server
):
    today = timezone.localdate()
    make_entry(in_clinic, today, today + timedelta(days=10), email="wait@example.org")
    make_booking(in_clinic, in_clinic.calendars.get(), at_nine(3)).cancel()
    offer = BookingMessage.objects.get(kind=BookingMessage.Kind.WAITLIST_OFFER)

    run_worker()
    for _ in range(2):
        deliver_booking_message.enqueue(offer.pk)
    run_worker()

    assert len(smtp_server.to("wait@example.org")) == 1
    offer.refresh_from_db()
    assert offer.sent_at is not None


def test_of_two_patients_offered_a_time_the_second_to_book_it_is_refused(
    client, in_clinic, make_booking, smtp_server, form_data
):
    today = timezone.localdate()
    for address in ("first@example.org", "second@example.org"):
        make_entry(in_clinic, today, today + timedelta(days=10), email=address)
    make_booking(in_clinic, in_clinic.calendars.get(), at_nine(3)).cancel()
    run_worker()
    links = {
        address: BOOK_LINK.findall(all_text(smtp_server.to(address)[0]))[0]
        for address in ("first@example.org", "second@example.org")
    }

    second = Client().post(
        links["second@example.org"], form_data(email="second@example.org")
    )
    first = client.post(
        links["first@example.org"], form_data(email="first@example.org")
    )

    assert second.status_code == 302
    assert second.url == "/consultation/booked/"
    assert first.status_code == 409
    assert "That time was just taken." in first.text
    assert first.context["nearest_times"]
    assert Booking.objects.active().get().consultation.email == "second@example.org"


# Leaving


def test_the_leave_link_asks_then_deletes_the_entry_and_its_offers(
    client, in_clinic, make_booking
):
    today = timezone.localdate()
    entry = make_entry(in_clinic, today, today + timedelta(days=10))
    make_booking(in_clinic, in_clinic.calendars.get(), at_nine(3)).cancel()
    url = entry.get_leave_url()

    asked = client.get(url)
    left = client.post(url)

    assert asked.status_code == 200
    assert "Leave the waitlist?" in asked.text
    assert entry.email not in asked.text
    assert WaitlistEntry.objects.exists() is False
    assert offers() == []
    assert left.status_code == 200
    assert "You have left the waitlist" in left.text
    assert client.get(url).status_code == 404


def test_a_tampered_leave_link_deletes_nothing(client, in_clinic):
    today = timezone.localdate()
    entry = make_entry(in_clinic, today, today + timedelta(days=10))
    other = make_entry(in_clinic, today, today + timedelta(days=10))
    payload, _ = entry.leave_token().split(":", 1)
    _, signature = other.leave_token().split(":", 1)
    manage_salt = signing.Signer(salt=MANAGE_TOKEN_SALT).sign_object(entry.pk)

    for token in (f"{payload}:{signature}", manage_salt, payload, "x"):
        url = f"/consultation/waitlist/{token}/leave/"
        assert client.get(url).status_code == 404
        response = client.post(url)
        assert response.status_code == 404
        assert "You are not on the waitlist" in response.text

    assert WaitlistEntry.objects.count() == 2


# Keeping


def purge(*args):
    output = io.StringIO()
    call_command("purge_consultation_requests", *args, stdout=output)
    return output.getvalue()


def test_entries_go_when_their_days_are_over_or_after_the_retention_period(
    in_clinic,
):
    today = timezone.localdate()
    make_entry(in_clinic, today - timedelta(days=5), today - timedelta(days=1))
    make_entry(in_clinic, today, today + timedelta(days=400), days_old=31)
    current = make_entry(in_clinic, today - timedelta(days=5), today, days_old=29)

    assert "Would delete 2 waitlist entries" in purge("--days", "30", "--dry-run")
    assert WaitlistEntry.objects.count() == 3
    assert "Deleted 2 waitlist entries." in purge("--days", "30")

    assert list(WaitlistEntry.objects.all()) == [current]


def test_days_page_offers_the_waitlist(client, starter_content):
    response = client.get("/consultation/book/free-phone-consultation/")

    assert response.status_code == 200
    assert 'action="/consultation/book/free-phone-consultation/waitlist/"' in (
        response.text
    )
    assert "E-mail me when a time frees up" in response.text

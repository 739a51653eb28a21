"""Booking e-mail through a real SMTP server on loopback, delivered by the worker."""

import re
import secrets
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from bookings.calendar_files import calendar_feed
from bookings.management.commands.db_worker import Worker
from bookings.models import Booking, BookingMessage, ConsultationRequest
from bookings.tasks import deliver_booking_message
from tests.bookings.conftest import run_worker
from tests.bookings.test_mail import all_text, body_text

MANAGE_LINK = re.compile(r"https://www\.clinic\.example/consultation/booking/[^/]+/")
STAFF = "frontdesk@clinic.example"
PATIENT = "maria@example.org"
NAME_AND_HEALTH_DATA = ("Maria", "Lopez", "ibromyalgia", "flares every winter")
# Monday 11 January 2027, 9:00 and 11:00 in New York (EST, UTC-5).
NINE = datetime(2027, 1, 11, 14, 0, tzinfo=UTC)
ELEVEN = NINE + timedelta(hours=2)
A_WEEK_BEFORE = NINE - timedelta(days=7)


@pytest.fixture
def clinic_type(make_consultation_type):
    return make_consultation_type(
        duration_minutes=45,
        buffer_minutes=15,
        preparation="Please arrive ten minutes early.",
    )


@pytest.fixture
def calendar(make_calendar, clinic_type):
    return make_calendar(
        types=[clinic_type], hours=[(day, "09:00", "12:00") for day in range(7)]
    )


@pytest.fixture
def book(fibromyalgia, clinic_type, calendar):
    def take(starts_at=NINE, now=A_WEEK_BEFORE, **fields):
        fields = {
            "form_token": secrets.token_hex(16),
            "full_name": "Maria Lopez",
            "email": PATIENT,
            "phone": "+17705550188",
            "preferred_contact": "phone",
            "treatment": fibromyalgia,
            "message": "My fibromyalgia flares every winter.",
            "consent_at": now,
        } | fields
        consultation = ConsultationRequest(**fields)
        return Booking.objects.take(consultation, clinic_type, starts_at, now=now)

    return take


def invitation(message):
    [attachment] = [part for part in message.iter_attachments() if part.get_filename()]
    assert attachment.get_filename() == "consultation.ics"
    assert attachment.get_content_type() == "text/calendar"
    return attachment.get_content(), Calendar.from_ical(attachment.get_content())


def event_of(calendar):
    [event] = calendar.walk("VEVENT")
    return event


def subjects(messages):
    return [str(message["Subject"]) for message in messages]


def time_passes_until_reminders_are_due():
    now = timezone.now()
    BookingMessage.objects.filter(kind=BookingMessage.Kind.REMINDER).update(due_at=now)
    DBTaskResult.objects.filter(status="READY").update(run_after=now)


def test_booking_sends_the_patient_a_confirmation_with_its_ics_and_staff_a_notice(
    book, smtp_server, client
):
    booking = book()
    reference = booking.consultation.reference
    run_worker()

    [patient_mail] = smtp_server.to(PATIENT)
    [staff_mail] = smtp_server.to(STAFF)
    assert patient_mail["Subject"] == (
        f"Consultation booked: Mon, Jan 11, 9:00 AM EST ({reference})"
    )
    text = body_text(patient_mail)
    assert "In-clinic consultation" in text
    assert "100 Example Street" in text
    assert "Please arrive ten minutes early." in text
    [manage_url] = set(MANAGE_LINK.findall(text))
    manage_page = client.get(manage_url.removeprefix("https://www.clinic.example"))
    assert reference in manage_page.text

    raw, ics = invitation(patient_mail)
    event = event_of(ics)
    assert ics["METHOD"] == "REQUEST"
    assert event["UID"] == f"booking-{booking.pk}@www.clinic.example"
    assert event.decoded("DTSTART") == NINE
    assert event.decoded("DTEND") == NINE + timedelta(minutes=45)
    assert event["SEQUENCE"] == 0
    assert event["SUMMARY"] == "Consultation with Roswell Infusions"
    assert reference in event["DESCRIPTION"]
    assert manage_url in event["DESCRIPTION"]
    for secret in NAME_AND_HEALTH_DATA:
        assert secret not in raw
        assert secret not in all_text(patient_mail)

    assert staff_mail["Subject"] == (
        f"New booking {reference}: Mon, Jan 11, 9:00 AM EST"
    )
    staff_text = all_text(staff_mail)
    assert "Clinic team" in staff_text
    assert "In-clinic consultation" in staff_text
    assert (
        f"https://www.clinic.example/admin/bookings/consultationrequest/"
        f"{booking.consultation.pk}/change/" in staff_text
    )
    for secret in (*NAME_AND_HEALTH_DATA, PATIENT, "555-0188", "5550188"):
        assert secret not in staff_text
    assert list(staff_mail.iter_attachments()) == []


def test_staff_notice_names_the_patient_only_when_turned_on(
    book, smtp_server, settings
):
    settings.BOOKINGS_EMAIL_CONTACT_DETAILS = True
    book()
    run_worker()

    [staff_mail] = smtp_server.to(STAFF)
    text = all_text(staff_mail)
    assert "Maria Lopez" in text
    assert "+17705550188" in text
    for secret in ("ibromyalgia", "flares every winter"):
        assert secret not in text


def test_urgent_booking_is_marked_in_the_staff_subject(book, smtp_server):
    booking = book(message="Some days I want to die.")
    run_worker()

    [staff_mail] = smtp_server.to(STAFF)
    assert staff_mail["Subject"].startswith(
        f"URGENT: New booking {booking.consultation.reference}"
    )
    assert "die" not in all_text(staff_mail)


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        # 9:00 on the spring change day is EDT (UTC-4), on the autumn one EST.
        (date(2027, 3, 14), 13),
        (date(2027, 11, 7), 14),
        (date(2026, 12, 31), 14),
    ],
)
def test_ics_times_are_right_in_utc_on_change_days(book, smtp_server, day, utc_hour):
    starts_at = datetime(day.year, day.month, day.day, utc_hour, tzinfo=UTC)
    book(starts_at=starts_at, now=starts_at - timedelta(days=3))
    run_worker()

    [patient_mail] = smtp_server.to(PATIENT)
    raw, ics = invitation(patient_mail)
    event = event_of(ics)
    assert event.decoded("DTSTART") == starts_at
    assert event.decoded("DTEND") == starts_at + timedelta(minutes=45)
    assert f"DTSTART:{starts_at:%Y%m%dT%H%M%S}Z" in raw
    assert "9:00 AM" in patient_mail["Subject"]


def test_a_move_and_a_cancel_send_ics_with_the_same_uid_and_a_raised_sequence(
    book, smtp_server
):
    booking = book()
    run_worker()
    booking.move_to(ELEVEN, now=A_WEEK_BEFORE)
    run_worker()
    booking.cancel(now=A_WEEK_BEFORE)
    run_worker()

    confirmation, change, cancellation = smtp_server.to(PATIENT)
    reference = booking.consultation.reference
    assert change["Subject"] == (
        f"Consultation moved to Mon, Jan 11, 11:00 AM EST ({reference})"
    )
    assert "Monday, January 11, 2027, 11:00 AM EST" in body_text(change)
    assert cancellation["Subject"] == (
        f"Consultation cancelled: Mon, Jan 11, 11:00 AM EST ({reference})"
    )
    events = [
        (ics["METHOD"], event_of(ics))
        for ics in (
            invitation(mail)[1] for mail in (confirmation, change, cancellation)
        )
    ]
    assert [method for method, _ in events] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [event["SEQUENCE"] for _, event in events] == [0, 1, 2]
    assert len({event["UID"] for _, event in events}) == 1
    assert [event.decoded("DTSTART") for _, event in events] == [NINE, ELEVEN, ELEVEN]
    assert events[2][1]["STATUS"] == "CANCELLED"
    assert subjects(smtp_server.to(STAFF)) == [
        f"New booking {reference}: Mon, Jan 11, 9:00 AM EST",
        f"Booking {reference} moved to Mon, Jan 11, 11:00 AM EST",
        f"Booking {reference} cancelled (Mon, Jan 11, 11:00 AM EST)",
    ]


def test_the_reminder_waits_until_it_is_due_and_is_sent_once(book, smtp_server):
    booking = book()
    run_worker()
    assert len(smtp_server.to(PATIENT)) == 1
    [reminder] = BookingMessage.objects.filter(kind=BookingMessage.Kind.REMINDER)
    assert reminder.due_at == NINE - timedelta(hours=24)

    time_passes_until_reminders_are_due()
    # A second copy of its task, as a worker that died would leave.
    DBTaskResult.objects.create(
        **{
            field: getattr(DBTaskResult.objects.get(status="READY"), field)
            for field in ("args_kwargs", "task_path", "queue_name", "backend_name")
        },
        priority=0,
        run_after=timezone.now(),
    )
    run_worker()
    run_worker()

    confirmation, reminder_mail = smtp_server.to(PATIENT)
    assert reminder_mail["Subject"] == (
        "Reminder: consultation on Mon, Jan 11, 9:00 AM EST "
        f"({booking.consultation.reference})"
    )
    assert list(reminder_mail.iter_attachments()) == []
    assert len(smtp_server.to(STAFF)) == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_a_reminder_once(book, smtp_server):
    book()
    time_passes_until_reminders_are_due()
    reminder = BookingMessage.objects.get(kind=BookingMessage.Kind.REMINDER)
    for _ in range(3):
        deliver_booking_message.enqueue(reminder.pk)
    barrier = threading.Barrier(2)

    def work(n):
        # manage.py db_worker's worker, without the signal handlers that only
        # the main thread may install.
        worker = Worker(
            queue_names=["default"],
            excluded_queue_names=[],
            interval=0.1,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"worker-{n}",
        )
        barrier.wait()
        try:
            worker.run()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    reminders = [
        mail for mail in smtp_server.to(PATIENT) if "Reminder" in mail["Subject"]
    ]
    assert len(reminders) == 1
    assert len(smtp_server.to(STAFF)) == 1


def test_no_reminder_after_a_cancellation(book, smtp_server):
    booking = book()
    booking.cancel(now=A_WEEK_BEFORE)
    time_passes_until_reminders_are_due()
    run_worker()

    everything = [message for _, message in smtp_server.messages]
    assert not any("Reminder" in subject for subject in subjects(everything))
    # Sent only what is true now: the cancellation, not the confirmation before it.
    [patient_mail] = smtp_server.to(PATIENT)
    assert patient_mail["Subject"].startswith("Consultation cancelled")


def test_a_moved_booking_gets_one_reminder_for_its_new_time(book, smtp_server):
    booking = book()
    run_worker()
    booking.move_to(ELEVEN, now=A_WEEK_BEFORE)
    time_passes_until_reminders_are_due()
    run_worker()

    reminders = [
        mail for mail in smtp_server.to(PATIENT) if "Reminder" in mail["Subject"]
    ]
    assert len(reminders) == 1
    assert "11:00 AM EST" in reminders[0]["Subject"]


def test_no_reminder_for_a_booking_made_less_than_a_day_ahead(book, smtp_server):
    book(now=NINE - timedelta(hours=5))

    assert not BookingMessage.objects.filter(kind=BookingMessage.Kind.REMINDER).exists()


def test_mail_server_down_loses_nothing_and_a_retry_delivers_it_once(book, smtp_server):
    smtp_server.stop()
    book()
    run_worker()

    assert BookingMessage.objects.filter(sent_at__isnull=False).count() == 0
    failed = BookingMessage.objects.exclude(kind=BookingMessage.Kind.REMINDER)
    assert [message.attempts for message in failed] == [1, 1]
    assert all("ConnectionRefusedError" in message.last_error for message in failed)

    smtp_server.start()
    DBTaskResult.objects.filter(status="READY").exclude(
        args_kwargs__args=[
            BookingMessage.objects.get(kind=BookingMessage.Kind.REMINDER).pk
        ]
    ).update(run_after=timezone.now())
    run_worker()

    assert len(smtp_server.to(PATIENT)) == 1
    assert len(smtp_server.to(STAFF)) == 1
    assert list(BookingMessage.objects.not_sent()) == [
        BookingMessage.objects.get(kind=BookingMessage.Kind.REMINDER)
    ]


def test_staff_calendar_feed_holds_reference_type_and_time_only(
    book, calendar, make_booking, clinic_type
):
    booking = book()
    booking.cancel(now=A_WEEK_BEFORE)
    other = book(starts_at=ELEVEN)

    raw = calendar_feed(calendar, Booking.objects.filter(calendar=calendar))

    feed = Calendar.from_ical(raw)
    events = {event["UID"]: event for event in feed.walk("VEVENT")}
    event = events[f"booking-{other.pk}@www.clinic.example"]
    assert event["SUMMARY"] == (
        f"In-clinic consultation ({other.consultation.reference})"
    )
    assert event.decoded("DTSTART") == ELEVEN
    assert events[f"booking-{booking.pk}@www.clinic.example"]["STATUS"] == ("CANCELLED")
    for secret in (*NAME_AND_HEALTH_DATA, PATIENT, "7705550188"):
        assert secret not in raw.decode()

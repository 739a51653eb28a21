"""E-mail through a real SMTP server on loopback."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bookings.models import BlockedSender, ConsultationRequest
from tests.bookings.conftest import run_worker

URL = "/consultation/"
STAFF = "frontdesk@clinic.example"
PATIENT = "maria@example.org"
HEALTH_DATA = ("fibromyalgia", "flares every winter", "Fibromyalgia")
CONTACT_DETAILS = ("Maria", "Lopez", PATIENT, "555-0188", "5550188")


def body_text(message):
    parts = [message.get_body(("plain",)), message.get_body(("html",))]
    return "\n".join(part.get_content() for part in parts if part is not None)


def all_text(message):
    return str(message["Subject"]) + "\n" + body_text(message)


def submit(client, form_data, **overrides):
    client.post(URL, form_data(**overrides))
    return ConsultationRequest.objects.latest("created_at")


def test_staff_and_patient_mail_arrive_and_carry_no_health_data(
    client, form_data, smtp_server
):
    consultation = submit(client, form_data)
    run_worker()

    [staff_mail] = smtp_server.to(STAFF)
    [patient_mail] = smtp_server.to(PATIENT)

    assert staff_mail["Subject"] == f"New consultation request {consultation.reference}"
    staff_body = body_text(staff_mail)
    assert "A new consultation request arrived" in staff_body
    assert "Phone call" in staff_body
    assert "Monday, Wednesday" in staff_body
    assert "Morning" in staff_body
    assert (
        f"https://www.clinic.example/admin/bookings/consultationrequest/{consultation.pk}/change/"
        in staff_body
    )
    assert staff_mail["Reply-To"] is None or PATIENT not in staff_mail["Reply-To"]
    for secret in HEALTH_DATA + CONTACT_DETAILS:
        assert secret not in all_text(staff_mail)

    assert consultation.reference in patient_mail["Subject"]
    assert patient_mail.get_body(("plain",)) is not None
    assert patient_mail.get_body(("html",)) is not None
    patient_text = body_text(patient_mail)
    assert consultation.reference in patient_text
    assert "(770) 555-0123" in patient_text
    assert "info@example.com" in patient_text
    for secret in HEALTH_DATA:
        assert secret not in all_text(patient_mail)
    assert patient_mail["Reply-To"] == "info@example.com"


def test_contact_details_in_staff_mail_only_when_turned_on(
    client, form_data, smtp_server, settings
):
    settings.BOOKINGS_EMAIL_CONTACT_DETAILS = True
    submit(client, form_data)
    run_worker()

    [staff_mail] = smtp_server.to(STAFF)
    text = all_text(staff_mail)
    assert "Maria Lopez" in text
    assert PATIENT in text
    assert "+17705550188" in text
    for secret in HEALTH_DATA:
        assert secret not in text


def test_urgent_request_is_marked_in_the_staff_subject(client, form_data, smtp_server):
    consultation = submit(client, form_data, message="I think about suicide a lot.")
    run_worker()

    [staff_mail] = smtp_server.to(STAFF)
    assert staff_mail["Subject"] == (
        f"URGENT: New consultation request {consultation.reference}"
    )
    assert "suicide" not in all_text(staff_mail)


def test_line_breaks_in_any_field_cannot_inject_headers(
    client, form_data, smtp_server, settings
):
    settings.BOOKINGS_EMAIL_CONTACT_DETAILS = True
    rejected = client.post(
        URL, form_data(email="maria@example.org\r\nBcc: victim@evil.example")
    )
    assert "Please enter an e-mail address like" in rejected.text
    submit(
        client,
        form_data,
        full_name="Maria\r\nBcc: victim@evil.example",
        message="hi\r\nBcc: victim@evil.example",
    )
    run_worker()

    recipients = [address for rcpt, _ in smtp_server.messages for address in rcpt]
    assert "victim@evil.example" not in recipients
    for _, message in smtp_server.messages:
        assert message["Bcc"] is None


def time_passes_until_the_next_retry():
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def test_mail_server_down_keeps_the_request_and_a_later_retry_delivers_it(
    client, form_data, smtp_server
):
    smtp_server.stop()

    response = client.post(URL, form_data(), follow=True)
    assert "Thank you, we have your request" in response.text
    run_worker()

    consultation = ConsultationRequest.objects.get()
    assert consultation.staff_notified_at is None
    assert consultation.notification_attempts == 1
    assert "ConnectionRefusedError" in consultation.notification_last_error
    assert consultation.notification_last_attempt_at is not None
    assert list(ConsultationRequest.objects.not_delivered()) == [consultation]
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    smtp_server.start()
    time_passes_until_the_next_retry()
    run_worker()

    consultation.refresh_from_db()
    assert consultation.staff_notified_at is not None
    assert consultation.patient_confirmed_at is not None
    assert len(smtp_server.to(STAFF)) == 1
    assert len(smtp_server.to(PATIENT)) == 1
    assert not ConsultationRequest.objects.not_delivered().exists()


def test_retries_back_off_and_stop_after_the_configured_tries(
    client, form_data, smtp_server
):
    smtp_server.stop()
    submit(client, form_data)

    run_worker()
    retry = DBTaskResult.objects.get(status="READY")
    wait = retry.run_after - timezone.now()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)

    waits = [wait]
    while DBTaskResult.objects.filter(status="READY").exists():
        retry = DBTaskResult.objects.get(status="READY")
        waits.append(retry.run_after - retry.enqueued_at)
        time_passes_until_the_next_retry()
        run_worker()

    consultation = ConsultationRequest.objects.get()
    assert consultation.notification_attempts == 6
    assert waits[1:] == sorted(waits[1:])
    assert waits[-1] >= timedelta(minutes=59)


def test_retry_schedule_spans_at_least_an_hour(settings):
    delays = settings.BOOKINGS_NOTIFY_RETRY_DELAYS

    assert len(delays) >= 5
    assert sum(delays) >= 3600
    assert delays == sorted(delays)


@pytest.mark.parametrize("already_sent", ["staff", "patient"])
def test_a_retry_never_sends_the_same_mail_twice(
    client, form_data, smtp_server, already_sent
):
    consultation = submit(client, form_data)
    field = "staff_notified_at" if already_sent == "staff" else "patient_confirmed_at"
    ConsultationRequest.objects.filter(pk=consultation.pk).update(
        **{field: timezone.now()}
    )

    run_worker()

    assert len(smtp_server.messages) == 1


def test_a_run_finding_the_delivery_claimed_sends_nothing_and_looks_again_later(
    client, form_data, smtp_server, settings
):
    consultation = submit(client, form_data)
    ConsultationRequest.objects.filter(pk=consultation.pk).update(
        delivery_started_at=timezone.now()
    )

    run_worker()

    assert smtp_server.messages == []
    later = DBTaskResult.objects.get(status="READY")
    timeout = timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT)
    assert timeout < later.run_after - timezone.now() <= timeout + timedelta(seconds=1)


def test_a_claim_older_than_the_timeout_is_taken_over(
    client, form_data, smtp_server, settings
):
    consultation = submit(client, form_data)
    expired = timezone.now() - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT + 1)
    ConsultationRequest.objects.filter(pk=consultation.pk).update(
        delivery_started_at=expired
    )

    run_worker()

    assert len(smtp_server.to(STAFF)) == 1
    assert len(smtp_server.to(PATIENT)) == 1
    consultation.refresh_from_db()
    assert consultation.delivery_started_at is None


@pytest.mark.parametrize(
    "looks_like_spam",
    ["blocked address", "blocked domain", "honeypot", "too fast"],
)
def test_urgent_request_reaches_staff_whatever_it_looks_like(
    client, form_data, smtp_server, settings, looks_like_spam
):
    overrides = {"message": "Some days I want to die."}
    if looks_like_spam == "blocked address":
        BlockedSender.objects.create(value=PATIENT)
    elif looks_like_spam == "blocked domain":
        BlockedSender.objects.create(value="example.org")
    elif looks_like_spam == "honeypot":
        overrides["website"] = "https://example.net"
    else:
        settings.BOOKINGS_MIN_FILL_SECONDS = 60

    consultation = submit(client, form_data, **overrides)
    run_worker()

    assert consultation.status == "new"
    assert consultation.spam_reason
    [staff_mail] = smtp_server.to(STAFF)
    assert staff_mail["Subject"] == (
        f"URGENT: New consultation request {consultation.reference}"
    )


def test_request_from_a_blocked_sender_that_is_not_urgent_stays_spam(
    client, form_data, smtp_server
):
    BlockedSender.objects.create(value="example.org")

    consultation = submit(client, form_data)
    run_worker()

    assert consultation.status == "spam"
    assert smtp_server.messages == []

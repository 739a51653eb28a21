from datetime import timedelta

from django.conf import settings
from django.tasks import default_task_backend, task
from django.utils import timezone

from . import notifications
from .models import BookingMessage, ConsultationRequest


@task
def deliver_consultation_emails(consultation_id):
    """
    E-mail staff and the patient about a new request, each at most once.

    This may run more than once for one request: a double enqueue, the admin's
    re-send, or a worker that died and whose task went back to the queue. A run
    that finds another holding the delivery claim looks again when the claim
    expires (see notifications.deliver_consultation_emails).

    A crash in the instant between the mail server accepting a message and the
    commit of its record means the next run sends that one message again: staff
    may be told twice (or, if the crash came later, the patient confirmed twice),
    never both. A duplicate is the lesser harm: it costs a moment of someone's
    attention, while a request nobody hears of is a patient, maybe one in
    crisis, who is never called back.

    When the mail server fails, the failure is recorded on the request and the
    task schedules itself again, waiting longer each time, until it succeeds or
    the tries in BOOKINGS_NOTIFY_RETRY_DELAYS run out (staff can re-send from
    the admin).
    """
    consultation = ConsultationRequest.objects.filter(pk=consultation_id).first()
    if consultation is None or consultation.is_spam:
        return
    delivery = notifications.deliver_consultation_emails(consultation)
    if delivery is notifications.Delivery.CLAIMED_ELSEWHERE:
        run_again_after(
            deliver_consultation_emails,
            consultation.pk,
            consultation.delivery_claim_expires_at(),
        )
    elif delivery is notifications.Delivery.FAILED:
        schedule_retry(
            deliver_consultation_emails,
            consultation.pk,
            consultation.notification_attempts,
        )


@task
def deliver_booking_message(message_id):
    """
    Send one e-mail about a booking (see notifications.deliver_booking_message),
    at most once however many times this runs, and not at all once the booking
    changed since it was queued. Retried like deliver_consultation_emails.
    """
    message = (
        BookingMessage.objects.select_related(
            "booking__consultation",
            "booking__consultation_type",
            "booking__calendar",
            "waitlist_entry",
        )
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return
    if message.due_at > timezone.now():
        run_again_after(deliver_booking_message, message.pk, message.due_at)
        return
    delivery = notifications.deliver_booking_message(message)
    if delivery is notifications.Delivery.CLAIMED_ELSEWHERE:
        run_again_after(deliver_booking_message, message.pk, message.claim_expires_at())
    elif delivery is notifications.Delivery.FAILED:
        schedule_retry(deliver_booking_message, message.pk, message.attempts)


@task
def deliver_booking_messages(message_ids):
    """
    Send these e-mails about a booking, queued together by one change (e.g. the
    patient's confirmation and the staff notice), each as deliver_booking_message
    does, which retries each failed one on its own. An error in one leaves the
    others to be sent all the same.
    """
    errors = []
    for message_id in message_ids:
        try:
            deliver_booking_message.call(message_id)
        except Exception as error:  # raised again below, once the others are sent
            errors.append(error)
    if errors:
        raise errors[0]


def schedule_retry(delivery_task, object_id, attempts):
    """Run the task again after the delay for the number of failed attempts."""
    delays = settings.BOOKINGS_NOTIFY_RETRY_DELAYS
    retries_done = attempts - 1
    if retries_done < len(delays):
        run_again_after(
            delivery_task,
            object_id,
            timezone.now() + timedelta(seconds=delays[retries_done]),
        )


def run_again_after(delivery_task, object_id, run_after):
    if default_task_backend.supports_defer:
        delivery_task.using(run_after=run_after).enqueue(object_id)

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import default_task_backend, task
from django.utils import timezone

from .models import ConsultationRequest

logger = logging.getLogger(__name__)


@task
def deliver_notifications(consultation_id):
    """
    E-mail staff and the patient about a new request, each at most once.

    This may run more than once for one request: a double enqueue, the admin's
    re-send, or a worker that died and whose task went back to the queue. A
    claim on the request lets one run send at a time (another run waits until
    the claim expires and looks again), each e-mail is recorded the moment the
    mail server accepts it, and no lock is held while talking to the server.

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
    if not consultation.claim_delivery():
        if default_task_backend.supports_defer:
            run_after = consultation.delivery_claim_expires_at()
            deliver_notifications.using(run_after=run_after).enqueue(consultation.pk)
        return
    try:
        send_pending(consultation)
    except Exception as error:  # noqa: BLE001 - any failure is retried
        consultation.record_delivery_failure(error)
        logger.warning(
            "Notification for %s failed (attempt %d): %s",
            consultation.reference,
            consultation.notification_attempts,
            type(error).__name__,
        )
        schedule_retry(consultation)
    finally:
        consultation.release_delivery()


def send_pending(consultation):
    if consultation.staff_notified_at is None:
        consultation.send_staff_notification()
        consultation.staff_notified_at = timezone.now()
        consultation.save(update_fields=["staff_notified_at"])
    if consultation.patient_confirmed_at is None:
        consultation.send_patient_confirmation()
        consultation.patient_confirmed_at = timezone.now()
        consultation.save(update_fields=["patient_confirmed_at"])


def schedule_retry(consultation):
    delays = settings.BOOKINGS_NOTIFY_RETRY_DELAYS
    retries_done = consultation.notification_attempts - 1
    if retries_done >= len(delays) or not default_task_backend.supports_defer:
        return
    run_after = timezone.now() + timedelta(seconds=delays[retries_done])
    deliver_notifications.using(run_after=run_after).enqueue(consultation.pk)

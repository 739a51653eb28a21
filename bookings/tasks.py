import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import default_task_backend, task
from django.utils import timezone

from .models import ConsultationRequest

logger = logging.getLogger(__name__)


@task
def deliver_notifications(request_id):
    """
    E-mail staff and the patient about a new request, each at most once.

    When the mail server fails, the failure is recorded on the request and the
    task schedules itself again, waiting longer each time, until it succeeds or
    the tries in BOOKINGS_NOTIFY_RETRY_DELAYS run out (staff can re-send from
    the admin).
    """
    with transaction.atomic():
        request = (
            ConsultationRequest.objects.select_for_update()
            .filter(pk=request_id)
            .first()
        )
        if request is None or request.is_spam:
            return
        try:
            send_pending(request)
        except Exception as error:  # noqa: BLE001 - any failure is retried
            request.record_delivery_failure(error)
            logger.warning(
                "Notification for %s failed (attempt %d): %s",
                request.reference,
                request.notification_attempts,
                type(error).__name__,
            )
            schedule_retry(request)


def send_pending(request):
    if request.staff_notified_at is None:
        request.send_staff_notification()
        request.staff_notified_at = timezone.now()
        request.save(update_fields=["staff_notified_at"])
    if request.patient_confirmed_at is None:
        request.send_patient_confirmation()
        request.patient_confirmed_at = timezone.now()
        request.save(update_fields=["patient_confirmed_at"])


def schedule_retry(request):
    delays = settings.BOOKINGS_NOTIFY_RETRY_DELAYS
    retries_done = request.notification_attempts - 1
    if retries_done >= len(delays) or not default_task_backend.supports_defer:
        return
    run_after = timezone.now() + timedelta(seconds=delays[retries_done])
    deliver_notifications.using(run_after=run_after).enqueue(request.pk)

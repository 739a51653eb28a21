from django.tasks import task

from bookings.tasks import run_again_after, schedule_retry

from . import notifications
from .models import ReviewMessage


@task
def deliver_review_message(message_id):
    """
    Send one e-mail of the review workflow (see
    notifications.deliver_review_message), at most once however many times this
    runs, retried as the bookings' e-mail is when the mail server fails.
    """
    message = (
        ReviewMessage.objects.select_related("recipient", "article")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return
    delivery = notifications.deliver_review_message(message)
    if delivery is notifications.Delivery.CLAIMED_ELSEWHERE:
        run_again_after(deliver_review_message, message.pk, message.claim_expires_at())
    elif delivery is notifications.Delivery.FAILED:
        schedule_retry(deliver_review_message, message.pk, message.attempts)

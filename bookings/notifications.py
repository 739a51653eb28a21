"""
Every e-mail of the bookings app, composed, sent and recorded in one place.
Tasks (bookings/tasks.py) only call these functions; the claim on a
consultation and its delivery record are the consultation's own state, kept
by its model methods.
"""

import enum
import logging

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from pages.models import ClinicDetails

logger = logging.getLogger(__name__)


class Delivery(enum.Enum):
    SENT = "sent"
    CLAIMED_ELSEWHERE = "claimed elsewhere"
    FAILED = "failed"


def deliver_consultation_emails(consultation):
    """
    Send what is missing of a consultation's e-mail (the staff notification,
    then the patient's confirmation), each recorded the moment the mail server
    accepts it.

    A claim on the consultation lets one run send at a time, and no lock is held
    while talking to the server. Returns Delivery.CLAIMED_ELSEWHERE, having sent
    nothing, while another run holds the claim; Delivery.FAILED, with the failure
    recorded on the consultation, when the mail server failed.
    """
    if not consultation.claim_delivery():
        return Delivery.CLAIMED_ELSEWHERE
    try:
        send_missing(consultation)
    except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
        consultation.record_delivery_failure(error)
        logger.warning(
            "Notification for %s failed (attempt %d): %s",
            consultation.reference,
            consultation.notification_attempts,
            type(error).__name__,
        )
        return Delivery.FAILED
    finally:
        consultation.release_delivery()
    return Delivery.SENT


def send_missing(consultation):
    if consultation.staff_notified_at is None:
        send_staff_notification(consultation)
        consultation.staff_notified_at = timezone.now()
        consultation.save(update_fields=["staff_notified_at"])
    if consultation.patient_confirmed_at is None:
        send_patient_confirmation(consultation)
        consultation.patient_confirmed_at = timezone.now()
        consultation.save(update_fields=["patient_confirmed_at"])


def staff_recipients():
    return settings.BOOKINGS_NOTIFY_EMAILS or [ClinicDetails.load().email]


def send_staff_notification(consultation):
    """Tell staff a request arrived: when, and how to call back; no health data."""
    context = {
        "consultation": consultation,
        "admin_url": settings.SITE_URL + consultation.get_admin_url(),
        "include_contact_details": settings.BOOKINGS_EMAIL_CONTACT_DETAILS,
    }
    subject = f"New consultation request {consultation.reference}"
    if consultation.is_urgent:
        subject = f"URGENT: {subject}"
    EmailMessage(
        subject=subject,
        body=render_to_string("bookings/email/staff_notification.txt", context),
        to=staff_recipients(),
    ).send()


def send_patient_confirmation(consultation):
    """Confirm receipt to the patient: the reference and how to reach us, only."""
    clinic = ClinicDetails.load()
    context = {"reference": consultation.reference, "clinic": clinic}
    message = EmailMultiAlternatives(
        subject=f"We received your request ({consultation.reference})",
        body=render_to_string("bookings/email/confirmation.txt", context),
        to=[consultation.email],
        reply_to=[clinic.email] if clinic.email else None,
    )
    message.attach_alternative(
        render_to_string("bookings/email/confirmation.html", context), "text/html"
    )
    message.send()

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
from django.urls import reverse
from django.utils import dateformat, timezone

from pages.models import ClinicDetails

from .calendar_files import booking_invitation
from .models import BookingMessage

logger = logging.getLogger(__name__)


class Delivery(enum.Enum):
    SENT = "sent"
    # Sent before, or out of date: the booking changed since it was queued.
    NOT_NEEDED = "not needed"
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


def deliver_booking_message(message):
    """
    Send one e-mail about a booking and record it the moment the mail server
    accepts it, under a claim on the message as for a consultation's e-mail.
    Returns Delivery.NOT_NEEDED, having sent nothing, when it was sent before
    or the booking changed since it was queued (its later message tells what
    is true now), and for a reminder once the booking has started.
    """
    if not message.claim():
        if message.sent_at is not None:
            return Delivery.NOT_NEEDED
        return Delivery.CLAIMED_ELSEWHERE
    try:
        if message.is_out_of_date():
            return Delivery.NOT_NEEDED
        if message.is_for_staff:
            send_staff_booking_notice(message)
        elif message.is_waitlist_offer:
            send_waitlist_offer(message)
        else:
            send_patient_booking_mail(message)
        message.record_sent()
    except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
        message.record_failure(error)
        logger.warning(
            "Booking e-mail %s (%s) failed (attempt %d): %s",
            message.pk,
            message.kind,
            message.attempts,
            type(error).__name__,
        )
        return Delivery.FAILED
    finally:
        message.release()
    return Delivery.SENT


STAFF_SUBJECTS = {
    BookingMessage.Kind.STAFF_BOOKED: "New booking {reference}: {when}",
    BookingMessage.Kind.STAFF_MOVED: "Booking {reference} moved to {when}",
    BookingMessage.Kind.STAFF_CANCELLED: "Booking {reference} cancelled ({when})",
}

# Short: Python's e-mail package folds a subject near 78 characters before its
# first word, which some programs then show with a leading space.
PATIENT_SUBJECTS = {
    BookingMessage.Kind.CONFIRMATION: "Consultation booked: {when}",
    BookingMessage.Kind.CHANGE: "Consultation moved to {when}",
    BookingMessage.Kind.CANCELLATION: "Consultation cancelled: {when}",
    BookingMessage.Kind.REMINDER: "Reminder: consultation on {when}",
}


def local_time(moment, short=False):
    """
    In the clinic's time zone, named: Monday, January 11, 2027, 9:00 AM EST, or
    Mon, Jan 11, 9:00 AM EST for a subject.
    """
    moment = timezone.localtime(moment, timezone.get_default_timezone())
    return dateformat.format(
        moment, "D, M j, g:i A T" if short else "l, F j, Y, g:i A T"
    )


def send_staff_booking_notice(message):
    """Tell staff of a booking, a new time or a cancellation; no health data."""
    booking = message.booking
    consultation = booking.consultation
    context = {
        "message": message,
        "booking": booking,
        "consultation": consultation,
        "when": local_time(booking.starts_at),
        "admin_url": settings.SITE_URL + consultation.get_admin_url(),
        "include_contact_details": settings.BOOKINGS_EMAIL_CONTACT_DETAILS,
    }
    subject = STAFF_SUBJECTS[message.kind].format(
        reference=consultation.reference, when=local_time(booking.starts_at, short=True)
    )
    if consultation.is_urgent:
        subject = f"URGENT: {subject}"
    EmailMessage(
        subject=subject,
        body=render_to_string("bookings/email/booking_staff.txt", context),
        to=staff_recipients(),
    ).send()


def send_patient_booking_mail(message):
    """
    The patient's confirmation, new time, cancellation or reminder: when, what
    and where, how to prepare, the manage link, and (but for a reminder) the
    .ics; never their treatment or message.
    """
    booking = message.booking
    consultation = booking.consultation
    clinic = ClinicDetails.load()
    context = {
        "kind": message.kind,
        "booking": booking,
        "reference": consultation.reference,
        "when": local_time(booking.starts_at),
        "clinic": clinic,
        "by_phone": booking.consultation_type.location
        == booking.consultation_type.Location.PHONE,
        "manage_url": settings.SITE_URL + booking.get_manage_url(),
        "can_change": booking.can_be_changed_by_patient(),
    }
    email = EmailMultiAlternatives(
        subject=PATIENT_SUBJECTS[message.kind].format(
            when=local_time(booking.starts_at, short=True)
        )
        + f" ({consultation.reference})",
        body=render_to_string("bookings/email/booking_patient.txt", context),
        to=[consultation.email],
        reply_to=[clinic.email] if clinic.email else None,
    )
    email.attach_alternative(
        render_to_string("bookings/email/booking_patient.html", context), "text/html"
    )
    if message.kind != BookingMessage.Kind.REMINDER:
        cancelled = message.kind == BookingMessage.Kind.CANCELLATION
        email.attach(
            "consultation.ics",
            booking_invitation(booking, cancelled=cancelled),
            "text/calendar",
        )
    email.send()


def send_waitlist_offer(message):
    """
    Offer a freed time to a patient on the waitlist: the type, the time, the
    link to book it and how to leave the list; nothing of the booking it came
    from or of its patient.
    """
    entry = message.waitlist_entry
    consultation_type = message.booking.consultation_type
    clinic = ClinicDetails.load()
    book_url = reverse(
        "bookings:book_time",
        kwargs={"slug": consultation_type.slug, "starts_at": message.offered_time},
    )
    context = {
        "consultation_type": consultation_type,
        "when": local_time(message.offered_time),
        "book_url": settings.SITE_URL + book_url,
        "leave_url": settings.SITE_URL + entry.get_leave_url(),
        "entry": entry,
        "clinic": clinic,
    }
    when = local_time(message.offered_time, short=True)
    email = EmailMultiAlternatives(
        subject=f"A time has come free: {when}",
        body=render_to_string("bookings/email/waitlist_offer.txt", context),
        to=[entry.email],
        reply_to=[clinic.email] if clinic.email else None,
    )
    email.attach_alternative(
        render_to_string("bookings/email/waitlist_offer.html", context), "text/html"
    )
    email.send()

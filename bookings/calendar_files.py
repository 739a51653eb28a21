"""
Calendar files (RFC 5545, with the icalendar package): the invitation attached
to a patient's booking e-mail, and each calendar's feed for staff.

Neither ever holds a patient's name or health data: a calendar program copies
events to phones and to other people's screens. Times are in UTC, which every
program shows in its own zone, so no VTIMEZONE is needed.
"""

from datetime import UTC
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress

from pages.models import ClinicDetails

PRODUCT_ID = "-//Roswell Infusions//Bookings//EN"


def booking_uid(booking):
    """The same for every version of one booking, so programs update their copy."""
    return f"booking-{booking.pk}@{urlsplit(settings.SITE_URL).hostname}"


def booking_invitation(booking, *, cancelled=False):
    """The .ics for the patient: METHOD:REQUEST, or CANCEL when cancelled."""
    clinic = ClinicDetails.load()
    calendar = new_calendar()
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = booking_event(booking)
    event.add("summary", f"Consultation with {clinic.name}")
    event.add("description", patient_description(booking, clinic))
    event.add("location", where(booking, clinic))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if clinic.email:
        organizer = vCalAddress(f"mailto:{clinic.email}")
        organizer.params["cn"] = clinic.name
        event.add("organizer", organizer)
    calendar.add_component(event)
    return calendar.to_ical()


def calendar_feed(staff_calendar, bookings):
    """A staff calendar's subscription feed: reference, type and time only."""
    calendar = new_calendar()
    calendar.add("x-wr-calname", f"Bookings: {staff_calendar.name}")
    for booking in bookings:
        event = booking_event(booking)
        reference = booking.consultation.reference
        event.add("summary", f"{booking.consultation_type.name} ({reference})")
        event.add(
            "description",
            f"Reference: {reference}\n"
            f"{settings.SITE_URL}{booking.consultation.get_admin_url()}",
        )
        event.add(
            "status",
            "CANCELLED" if booking.status == booking.Status.CANCELLED else "CONFIRMED",
        )
        calendar.add_component(event)
    return calendar.to_ical()


def new_calendar():
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    return calendar


def booking_event(booking):
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", booking.starts_at.astimezone(UTC))
    event.add("dtend", booking.ends_at.astimezone(UTC))
    event.add("sequence", booking.sequence)
    return event


def where(booking, clinic):
    if booking.consultation_type.location == booking.consultation_type.Location.PHONE:
        return "By phone: we will call you"
    return ", ".join(line.strip() for line in clinic.address.splitlines() if line)


def patient_description(booking, clinic):
    return "\n".join(
        [
            f"Reference: {booking.consultation.reference}",
            booking.consultation_type.name,
            where(booking, clinic),
            f"To change or cancel: {settings.SITE_URL}{booking.get_manage_url()}",
            f"Questions: {clinic.phone}",
        ]
    )

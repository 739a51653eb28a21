"""
The patients' part of the admin's "Needs attention now": urgent requests nobody
has tried to contact, those waiting longest, today's and tomorrow's bookings,
and e-mail that did not go out. Each line links to the admin list it counts.

Waiting times count business hours: the weekly hours of the open calendars
together (the clinic is open when any of them is), without the days the whole
clinic is closed; DEFAULT_BUSINESS_HOURS when no calendar has weekly hours.
"""

from datetime import datetime, time, timedelta
from typing import NamedTuple

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.http import urlencode

from .models import (
    Booking,
    BookingMessage,
    ClosedDates,
    ConsultationRequest,
    WeeklyHours,
    local_day,
)

# Monday to Friday, 9:00 to 17:00.
DEFAULT_BUSINESS_HOURS = {weekday: [(time(9), time(17))] for weekday in range(5)}
# How many requests each line lists; the link leads to all of them.
LISTED = 5
# A request's e-mail still unsent this long after it came in is late: the worker
# sends it within seconds.
DELIVERY_GRACE = timedelta(minutes=15)


class Item(NamedTuple):
    text: str
    url: str


class Line(NamedTuple):
    """One thing needing attention: how many, where to see them, the first few."""

    text: str
    url: str
    items: tuple[Item, ...] | list[Item] = ()
    is_alarm: bool = False


def may_see_patients(user):
    return user.has_perm("bookings.view_consultationrequest") or user.has_perm(
        "bookings.change_consultationrequest"
    )


def merged(periods):
    """Overlapping or touching periods of a day as one."""
    result = []
    for starts, ends in sorted(periods):
        if result and starts <= result[-1][1]:
            result[-1] = (result[-1][0], max(ends, result[-1][1]))
        else:
            result.append((starts, ends))
    return result


class BusinessHours:
    """The clinic's opening hours, to count how long someone has been waiting."""

    def __init__(self, weekly, closed_days=()):
        self.weekly = {weekday: merged(periods) for weekday, periods in weekly.items()}
        self.closed_days = set(closed_days)

    @classmethod
    def load(cls, since):
        """The open calendars' weekly hours, and the whole clinic's closed days."""
        weekly = {}
        for weekday, starts, ends in WeeklyHours.objects.filter(
            calendar__is_active=True
        ).values_list("weekday", "starts", "ends"):
            weekly.setdefault(weekday, []).append((starts, ends))
        closed_days = set()
        for first_day, last_day in ClosedDates.objects.filter(
            calendar__isnull=True, last_day__gte=since
        ).values_list("first_day", "last_day"):
            closed_days.update(
                first_day + timedelta(days=n)
                for n in range((last_day - first_day).days + 1)
            )
        return cls(weekly or DEFAULT_BUSINESS_HOURS, closed_days)

    def between(self, start, end):
        """The business time from start to end (aware datetimes)."""
        zone = timezone.get_default_timezone()
        total = timedelta()
        day = local_day(start)
        while day <= local_day(end):
            if day not in self.closed_days:
                for starts, ends in self.weekly.get(day.weekday(), []):
                    opens = datetime.combine(day, starts).replace(tzinfo=zone)
                    closes = datetime.combine(day, ends).replace(tzinfo=zone)
                    overlap = min(closes, end) - max(opens, start)
                    total += max(overlap, timedelta())
            day += timedelta(days=1)
        return total


def business_time_text(duration):
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def changelist(model_name, **query):
    url = reverse(f"admin:bookings_{model_name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def undelivered_booking_messages(now=None):
    """
    Booking e-mail that failed and has not gone out since; reminders of
    bookings that have started no longer matter.
    """
    now = now or timezone.now()
    return (
        BookingMessage.objects.not_sent()
        .filter(attempts__gt=0)
        .exclude(kind=BookingMessage.Kind.REMINDER, booking__starts_at__lte=now)
    )


def undelivered_requests(now):
    """Requests whose staff e-mail failed, or is late."""
    return ConsultationRequest.objects.not_delivered().filter(
        Q(notification_attempts__gt=0) | Q(created_at__lt=now - DELIVERY_GRACE)
    )


def patient_lines(now=None):
    now = now or timezone.now()
    awaiting = ConsultationRequest.objects.awaiting_first_contact()
    # One count of each rule's requests, in one query.
    counts = ConsultationRequest.objects.aggregate(
        **{
            name: Count("pk", filter=Q(pk__in=requests.values("pk")))
            for name, requests in (
                ("awaiting", awaiting),
                ("urgent", awaiting.filter(is_urgent=True)),
                ("undelivered", undelivered_requests(now)),
            )
        }
    )
    urgent = list(awaiting.filter(is_urgent=True).order_by("created_at")[:LISTED])
    longest = list(awaiting.order_by("created_at")[:LISTED])
    oldest = min((each.created_at for each in longest), default=now)
    hours = BusinessHours.load(since=local_day(oldest))
    return [
        urgent_line(counts["urgent"], urgent, hours, now),
        waiting_line(counts["awaiting"], longest, hours, now),
        *booking_lines(now),
        mail_line(counts["undelivered"], undelivered_booking_messages(now).count()),
    ]


def waiting_item(consultation, hours, now):
    received = dateformat.format(
        timezone.localtime(consultation.created_at), "D j M, H:i"
    )
    waited = business_time_text(hours.between(consultation.created_at, now))
    return Item(
        f"{consultation.reference}, received {received}: waiting {waited} "
        "in business hours",
        consultation.get_admin_url(),
    )


def plural(count, word, words=None):
    return f"{count} {word if count == 1 else words or word + 's'}"


def urgent_line(count, urgent, hours, now):
    return Line(
        f"{plural(count, 'urgent request')} not yet contacted",
        changelist("consultationrequest", contact="awaiting", is_urgent__exact=1),
        [waiting_item(each, hours, now) for each in urgent],
        is_alarm=bool(count),
    )


def waiting_line(count, longest, hours, now):
    return Line(
        f"{plural(count, 'request')} waiting for a first contact, longest first",
        changelist("consultationrequest", contact="awaiting"),
        [waiting_item(each, hours, now) for each in longest],
    )


def booking_lines(now):
    today = local_day(now)
    zone = timezone.get_default_timezone()
    bookings = (
        Booking.objects.active()
        .filter(
            starts_at__gte=datetime.combine(today, time()).replace(tzinfo=zone),
            starts_at__lt=datetime.combine(today + timedelta(days=2), time()).replace(
                tzinfo=zone
            ),
        )
        .select_related("consultation", "consultation_type")
        .order_by("starts_at")
    )
    by_day = {today: [], today + timedelta(days=1): []}
    for booking in bookings:
        by_day[local_day(booking.starts_at)].append(booking)
    lines = []
    for name, (day, day_bookings) in zip(
        ("today", "tomorrow"), by_day.items(), strict=True
    ):
        url = reverse("admin:bookings_booking_day")
        lines.append(
            Line(
                f"{plural(len(day_bookings), 'booking')} {name}",
                f"{url}?{urlencode({'date': day.isoformat()})}",
                [
                    Item(
                        f"{timezone.localtime(booking.starts_at):%H:%M} "
                        f"{booking.consultation_type}: {booking.get_status_display()}, "
                        f"{booking.consultation.reference}",
                        reverse("admin:bookings_booking_change", args=[booking.pk]),
                    )
                    for booking in day_bookings[:LISTED]
                ],
            )
        )
    return lines


def mail_line(requests, booking_messages):
    items = []
    if booking_messages:
        items.append(
            Item(
                f"{plural(booking_messages, 'booking e-mail')} failed and not sent "
                "since",
                changelist("booking", mail="failed"),
            )
        )
    return Line(
        f"{plural(requests, 'request')} whose staff e-mail was not delivered",
        changelist("consultationrequest", notified="no"),
        items,
        is_alarm=bool(requests or booking_messages),
    )

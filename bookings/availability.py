"""
The free times of a consultation type: which times patients can book.

Times are laid out in the clinic's wall-clock time (settings.TIME_ZONE) and
converted to UTC, so a daylight-saving change neither shifts nor duplicates a
time: a wall-clock time that does not exist that day (spring) is left out, and
one that happens twice (autumn) is offered once, the first time.

A fixed number of queries whatever the data (see Schedule): the calendars'
weekly and extra hours, the closed dates, and the bookings of the range.
"""

from bisect import bisect_left
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import NamedTuple

from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property

from .models import Booking, ClosedDates, ExtraHours, StaffCalendar, WeeklyHours


class Slot(NamedTuple):
    starts_at: datetime
    ends_at: datetime
    calendar: StaffCalendar


def free_slots(
    consultation_type,
    first_day,
    last_day,
    now=None,
    calendar=None,
    *,
    by_staff=False,
    ignoring=None,
):
    """
    The free times of this type from first_day to last_day (local dates), one
    Slot per calendar that offers the time, sorted by time; only those of
    `calendar` if given. Leaves out past times and, unless by_staff, times
    inside the minimum notice and days past the horizon. The time of the
    booking `ignoring` (one being moved) counts as free.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, timezone.get_default_timezone()).date()
    first_day = max(first_day, today)
    if not by_staff:
        horizon = today + timedelta(days=consultation_type.horizon_days)
        last_day = min(last_day, horizon)
    if first_day > last_day:
        return []

    schedule = Schedule(
        consultation_type, first_day, last_day, calendar=calendar, ignoring=ignoring
    )
    earliest = (
        now if by_staff else now + timedelta(hours=consultation_type.notice_hours)
    )
    slots = [
        slot
        for slot in schedule.slots()
        if slot.starts_at >= earliest and schedule.is_free(slot)
    ]
    return sorted(slots, key=lambda slot: (slot.starts_at, slot.calendar.name))


def is_free(consultation_type, calendar, starts_at, now=None):
    """Whether patients can book this time of this calendar for this type."""
    day = timezone.localtime(starts_at, timezone.get_default_timezone()).date()
    return any(
        slot.starts_at == starts_at
        for slot in free_slots(consultation_type, day, day, now, calendar=calendar)
    )


def nearest_free_slots(consultation_type, wanted, count=3, now=None, **options):
    """
    The `count` free times nearest to `wanted` (before or after), by time;
    options as for free_slots.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, timezone.get_default_timezone()).date()
    last_day = today + timedelta(days=consultation_type.horizon_days)
    slots = free_slots(consultation_type, today, last_day, now, **options)
    nearest = sorted(slots, key=lambda slot: abs(slot.starts_at - wanted))[:count]
    return sorted(nearest, key=lambda slot: (slot.starts_at, slot.calendar.name))


class Schedule:
    """
    The calendars taking a type from first_day to last_day (local dates), with
    their hours, closed days and active bookings, each loaded once: at most
    four queries whatever the data. Only `calendar` if given; the booking
    `ignoring` (one being moved) leaves its time free. No rule of notice or
    horizon here: free_slots and Booking.objects.take apply them.
    """

    def __init__(
        self, consultation_type, first_day, last_day, *, calendar=None, ignoring=None
    ):
        self.consultation_type = consultation_type
        self.first_day, self.last_day = first_day, last_day
        self.ignoring = ignoring
        self.zone = timezone.get_default_timezone()
        self.hours = hours_by_calendar(consultation_type, first_day, last_day, calendar)
        self.calendars = list(self.hours)
        self.closures = (
            closed_days(self.calendars, first_day, last_day)
            if self.calendars
            else set()
        )

    @cached_property
    def busy(self):
        return BusyTimes(
            self.consultation_type,
            self.calendars,
            self.first_day,
            self.last_day,
            self.zone,
            self.ignoring,
        )

    def slots(self):
        """Every time of the type in the calendars' open hours, booked or not."""
        return [
            slot
            for day in days_between(self.first_day, self.last_day)
            for calendar in self.calendars
            for slot in self.open_slots(calendar, day)
        ]

    def slots_at(self, starts_at):
        """The slots at starts_at, one per calendar open then, booked or not."""
        day = timezone.localtime(starts_at, self.zone).date()
        return [
            slot
            for calendar in self.calendars
            for slot in self.open_slots(calendar, day)
            if slot.starts_at == starts_at
        ]

    def is_free(self, slot):
        """Whether the slot is neither over the day's cap nor overlapping a booking."""
        day = timezone.localtime(slot.starts_at, self.zone).date()
        return not (self.busy.is_full(slot.calendar, day) or self.busy.overlaps(slot))

    def open_slots(self, calendar, day):
        """The calendar's slots that day, none if it is closed."""
        if (calendar.pk, day) in self.closures or (None, day) in self.closures:
            return []
        periods = self.hours[calendar].on(day)
        return day_slots(self.consultation_type, calendar, periods, day, self.zone)


class CalendarHours(NamedTuple):
    """A calendar's weekly hours and extra hours."""

    weekly: list
    extra: list

    def on(self, day):
        """The periods of that day."""
        return [hours for hours in self.weekly if hours.weekday == day.weekday()] + [
            hours for hours in self.extra if hours.day == day
        ]


def hours_by_calendar(consultation_type, first_day, last_day, calendar=None):
    """
    The weekly hours and the range's extra hours of the calendars taking the
    type, by calendar in name order: two queries, each bringing its calendars.
    A calendar with no hours in the range offers nothing and is left out.
    """
    calendars = StaffCalendar.objects.taking(consultation_type)
    if calendar is not None:
        calendars = calendars.filter(pk=calendar.pk)
    weekly_hours = WeeklyHours.objects.filter(calendar__in=calendars)
    extra_hours = ExtraHours.objects.filter(
        calendar__in=calendars, day__range=(first_day, last_day)
    )
    hours = defaultdict(lambda: CalendarHours([], []))
    for each in weekly_hours.select_related("calendar"):
        hours[each.calendar].weekly.append(each)
    for each in extra_hours.select_related("calendar"):
        hours[each.calendar].extra.append(each)
    return {
        calendar: hours[calendar]
        for calendar in sorted(hours, key=lambda calendar: calendar.name)
    }


def closed_days(calendars, first_day, last_day):
    """(calendar pk, day) for each closed day in the range; pk None: whole clinic."""
    closures = ClosedDates.objects.filter(
        Q(calendar__in=calendars) | Q(calendar=None),
        first_day__lte=last_day,
        last_day__gte=first_day,
    ).values_list("calendar_id", "first_day", "last_day")
    return {
        (calendar_id, day)
        for calendar_id, first, last in closures
        for day in days_between(max(first, first_day), min(last, last_day))
    }


def days_between(first_day, last_day):
    return [
        first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)
    ]


def local_to_utc(day, time, zone):
    """The UTC time of a wall-clock time that day, or None if it does not exist."""
    wall_clock = datetime.combine(day, time)
    # fold=0: an autumn time that happens twice is taken the first time.
    instant = wall_clock.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall_clock:
        return None
    return instant


def day_slots(consultation_type, calendar, periods, day, zone):
    """Every time of the type in the calendar's periods of that day, booked or not."""
    duration, step = (
        consultation_type.duration,
        (consultation_type.duration + consultation_type.buffer),
    )
    starts_at = set()
    for period in periods:
        period_ends = datetime.combine(day, period.ends)
        wall_clock = datetime.combine(day, period.starts)
        free_from = None
        while wall_clock + duration <= period_ends:
            instant = local_to_utc(day, wall_clock.time(), zone)
            # free_from: after a spring change, the next wall-clock time can start
            # before the previous one (and its break) has really ended.
            if instant is not None and (free_from is None or instant >= free_from):
                starts_at.add(instant)
                free_from = instant + step
            wall_clock += step
    return [Slot(start, start + duration, calendar) for start in sorted(starts_at)]


class BusyTimes:
    """The active bookings of the calendars around the range, in one query."""

    def __init__(
        self, consultation_type, calendars, first_day, last_day, zone, ignoring=None
    ):
        self.consultation_type = consultation_type
        self.zone = zone
        # A day's last time and its break can run past midnight: a day either side.
        range_starts = local_midnight(first_day - timedelta(days=1), zone)
        range_ends = local_midnight(last_day + timedelta(days=2), zone)
        bookings = Booking.objects.active()
        if ignoring is not None:
            bookings = bookings.exclude(pk=ignoring.pk)
        bookings = (
            bookings.filter(
                calendar__in=calendars,
                starts_at__lt=range_ends,
                blocked_until__gt=range_starts,
            )
            .order_by("starts_at")
            .values_list(
                "calendar_id", "consultation_type_id", "starts_at", "blocked_until"
            )
        )
        self.starts = defaultdict(list)
        blocked_until = defaultdict(list)
        self.per_day = Counter()
        for calendar_id, type_id, starts_at, until in bookings:
            self.starts[calendar_id].append(starts_at)
            blocked_until[calendar_id].append(until)
            if type_id == consultation_type.pk:
                self.per_day[
                    calendar_id, timezone.localtime(starts_at, zone).date()
                ] += 1
        # The latest end so far, so one look finds any booking still running.
        self.latest_end = {
            calendar_id: list(accumulate(ends, max))
            for calendar_id, ends in blocked_until.items()
        }

    def is_full(self, calendar, day):
        cap = self.consultation_type.daily_cap
        return cap is not None and self.per_day[calendar.pk, day] >= cap

    def overlaps(self, slot):
        """Whether the slot, with its break, overlaps an active booking."""
        slot_blocked_until = slot.ends_at + self.consultation_type.buffer
        starts = self.starts[slot.calendar.pk]
        # Bookings that start before the slot (and its break) ends...
        before = bisect_left(starts, slot_blocked_until)
        # ...overlap it if one of them is still running when it starts.
        return (
            before > 0
            and self.latest_end[slot.calendar.pk][before - 1] > slot.starts_at
        )


def local_midnight(day, zone):
    return datetime.combine(day, datetime.min.time()).replace(tzinfo=zone)

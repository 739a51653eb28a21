from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from bookings.availability import free_slots, is_free, nearest_free_slots
from bookings.models import (
    Booking,
    ClosedDates,
    ConsultationRequest,
    ConsultationType,
    WeeklyHours,
)

MONDAY = date(2027, 1, 11)
TUESDAY, WEDNESDAY, THURSDAY = (MONDAY + timedelta(days=n) for n in (1, 2, 3))
SATURDAY = MONDAY + timedelta(days=5)
WEEKDAYS = [WeeklyHours.Weekday.MONDAY + n for n in range(5)]


def at(day, hh_mm):
    """A wall-clock time in the clinic's zone, as an aware datetime."""
    wall_clock = datetime.combine(day, time.fromisoformat(hh_mm))
    return wall_clock.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


# A week before, so neither notice nor horizon matters unless a test says so.
NOW = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


def a_week_before(day):
    return datetime.combine(day - timedelta(days=7), time(12), tzinfo=UTC)


def local_times(slots):
    return [f"{timezone.localtime(slot.starts_at):%H:%M}" for slot in slots]


def local_days(slots):
    return sorted({timezone.localtime(slot.starts_at).date() for slot in slots})


@pytest.fixture
def in_clinic(make_consultation_type):
    return make_consultation_type(duration_minutes=45, buffer_minutes=15)


@pytest.fixture
def phone_call(make_consultation_type):
    return make_consultation_type(
        "Free phone consultation",
        duration_minutes=15,
        location=ConsultationType.Location.PHONE,
    )


def test_slots_fill_several_periods_a_day_stepping_by_length_and_break(
    make_calendar, in_clinic
):
    make_calendar(
        types=[in_clinic], hours=[(0, "09:00", "12:00"), (0, "13:00", "15:00")]
    )

    slots = free_slots(in_clinic, MONDAY, MONDAY, now=NOW)

    assert local_times(slots) == ["09:00", "10:00", "11:00", "13:00", "14:00"]
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=45) for slot in slots)
    assert all(slot.starts_at.utcoffset() == timedelta(0) for slot in slots)


@pytest.mark.parametrize(
    ("buffer_minutes", "expected"),
    [(0, ["09:00", "09:30", "10:00", "10:30"]), (15, ["09:00", "09:45", "10:30"])],
)
def test_the_break_after_each_consultation_is_kept_free(
    make_calendar, make_consultation_type, buffer_minutes, expected
):
    half_hour = make_consultation_type(
        duration_minutes=30, buffer_minutes=buffer_minutes
    )
    make_calendar(types=[half_hour], hours=[(0, "09:00", "11:00")])

    assert local_times(free_slots(half_hour, MONDAY, MONDAY, now=NOW)) == expected


def test_times_inside_the_minimum_notice_are_left_out(
    make_calendar, make_consultation_type
):
    hour = make_consultation_type(duration_minutes=60, notice_hours=4)
    make_calendar(types=[hour], hours=[(0, "09:00", "17:00")])

    slots = free_slots(hour, MONDAY, MONDAY, now=at(MONDAY, "08:00"))

    assert local_times(slots) == ["12:00", "13:00", "14:00", "15:00", "16:00"]


def test_days_past_the_horizon_and_past_days_are_left_out(
    make_calendar, make_consultation_type
):
    hour = make_consultation_type(duration_minutes=60, horizon_days=2, notice_hours=0)
    make_calendar(types=[hour], hours=[(day, "09:00", "10:00") for day in WEEKDAYS])

    slots = free_slots(
        hour, MONDAY - timedelta(days=7), THURSDAY, now=at(MONDAY, "06:00")
    )

    assert local_days(slots) == [MONDAY, TUESDAY, WEDNESDAY]


def test_a_day_with_the_cap_of_bookings_of_the_type_offers_no_more(
    make_calendar, make_booking, make_consultation_type, phone_call
):
    capped = make_consultation_type(duration_minutes=60, daily_cap=2)
    hours = [(day, "09:00", "17:00") for day in WEEKDAYS]
    calendar = make_calendar(types=[capped, phone_call], hours=hours)
    other = make_calendar("Dr Rivera", types=[capped], hours=hours)
    make_booking(capped, calendar, at(MONDAY, "09:00"))
    make_booking(capped, calendar, at(MONDAY, "10:00"))
    make_booking(capped, calendar, at(TUESDAY, "09:00"), status="cancelled")
    make_booking(phone_call, calendar, at(TUESDAY, "10:00"))
    make_booking(phone_call, calendar, at(TUESDAY, "11:00"))

    slots = free_slots(capped, MONDAY, TUESDAY, now=NOW)

    assert local_days([s for s in slots if s.calendar == calendar]) == [TUESDAY]
    assert local_days([s for s in slots if s.calendar == other]) == [MONDAY, TUESDAY]


def test_closed_dates_of_one_calendar_and_of_the_whole_clinic(make_calendar, in_clinic):
    hours = [(day, "09:00", "10:00") for day in WEEKDAYS]
    team = make_calendar(types=[in_clinic], hours=hours)
    rivera = make_calendar("Dr Rivera", types=[in_clinic], hours=hours)
    ClosedDates.objects.create(calendar=rivera, first_day=TUESDAY, last_day=WEDNESDAY)
    ClosedDates.objects.create(first_day=THURSDAY, last_day=THURSDAY)

    slots = free_slots(in_clinic, MONDAY, THURSDAY, now=NOW)

    assert local_days([s for s in slots if s.calendar == team]) == [
        MONDAY,
        TUESDAY,
        WEDNESDAY,
    ]
    assert local_days([s for s in slots if s.calendar == rivera]) == [MONDAY]


def test_extra_hours_add_times_on_their_date_only(make_calendar, in_clinic):
    calendar = make_calendar(types=[in_clinic], hours=[(0, "09:00", "10:00")])
    calendar.extra_hours.create(day=SATURDAY, starts="10:00", ends="12:00")
    calendar.extra_hours.create(day=MONDAY, starts="16:00", ends="17:00")

    slots = free_slots(in_clinic, MONDAY, SATURDAY + timedelta(days=7), now=NOW)

    assert [f"{timezone.localtime(s.starts_at):%a %H:%M}" for s in slots] == [
        "Mon 09:00",
        "Mon 16:00",
        "Sat 10:00",
        "Sat 11:00",
        "Mon 09:00",
    ]


def test_an_active_booking_and_both_breaks_block_times(
    make_calendar, make_booking, in_clinic, phone_call, make_consultation_type
):
    calendar = make_calendar(
        types=[in_clinic, phone_call], hours=[(0, "09:00", "14:00")]
    )
    other = make_calendar("Dr Rivera", types=[in_clinic], hours=[(0, "09:00", "10:00")])
    long_break = make_consultation_type(
        "Review", duration_minutes=15, buffer_minutes=30
    )
    # 09:00 is free with its break until 10:00, but 10:00's break reaches 10:50.
    make_booking(phone_call, calendar, at(MONDAY, "10:50"))
    # Busy with its break until 12:45: 12:00 and its break are not free.
    make_booking(long_break, calendar, at(MONDAY, "12:00"))
    make_booking(in_clinic, calendar, at(MONDAY, "09:00"), status="cancelled")

    slots = free_slots(in_clinic, MONDAY, MONDAY, now=NOW)

    assert local_times([s for s in slots if s.calendar == calendar]) == [
        "09:00",
        "13:00",
    ]
    assert local_times([s for s in slots if s.calendar == other]) == ["09:00"]


def test_a_time_offered_by_two_calendars_is_one_slot_each(make_calendar, in_clinic):
    first = make_calendar("A team", types=[in_clinic], hours=[(0, "09:00", "10:00")])
    second = make_calendar("B team", types=[in_clinic], hours=[(0, "09:00", "10:00")])
    make_calendar("Not taking it", hours=[(0, "09:00", "10:00")])
    inactive = make_calendar("Away", types=[in_clinic], hours=[(0, "09:00", "10:00")])
    inactive.is_active = False
    inactive.save()

    slots = free_slots(in_clinic, MONDAY, MONDAY, now=NOW)

    assert [slot.calendar for slot in slots] == [first, second]
    assert slots[0].starts_at == slots[1].starts_at == at(MONDAY, "09:00")


# The Sundays the clocks change in America/New_York, and the wall-clock times of
# a 30-minute consultation from midnight to 04:00 and from 09:00 to 10:00.
NIGHT = ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "03:30"]
SPRING_NIGHT = [t for t in NIGHT if not t.startswith("02:")]
CHANGE_DAYS = [
    (date(2026, 3, 8), SPRING_NIGHT, -5, -4),
    (date(2026, 11, 1), NIGHT, -4, -5),
    (date(2027, 3, 14), SPRING_NIGHT, -5, -4),
    (date(2027, 11, 7), NIGHT, -4, -5),
]


@pytest.mark.parametrize(("day", "night", "offset_before", "offset_after"), CHANGE_DAYS)
def test_clock_change_days_neither_shift_drop_nor_duplicate_a_time(
    settings,
    make_calendar,
    make_consultation_type,
    day,
    night,
    offset_before,
    offset_after,
):
    settings.TIME_ZONE = "America/New_York"
    half_hour = make_consultation_type(duration_minutes=30)
    sunday = WeeklyHours.Weekday.SUNDAY
    make_calendar(
        types=[half_hour],
        hours=[(sunday, "00:00", "04:00"), (sunday, "09:00", "10:00")],
    )

    slots = free_slots(half_hour, day, day, now=a_week_before(day))

    assert local_times(slots) == [*night, "09:00", "09:30"]
    assert len({slot.starts_at for slot in slots}) == len(slots)
    offsets = [
        timezone.localtime(slot.starts_at).utcoffset() / timedelta(hours=1)
        for slot in slots
    ]
    assert offsets[0] == offset_before
    assert offsets[-3:] == [offset_after] * 3
    # Each really lasts 30 minutes and none overlaps the next.
    for slot, after in zip(slots, slots[1:], strict=False):
        assert slot.ends_at - slot.starts_at == timedelta(minutes=30)
        assert slot.ends_at <= after.starts_at


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2027, 3, 14)])
def test_a_time_in_the_spring_gap_is_left_out_not_moved_an_hour_later(
    settings, make_calendar, make_consultation_type, day
):
    settings.TIME_ZONE = "America/New_York"
    half_hour = make_consultation_type(duration_minutes=30)
    make_calendar(
        types=[half_hour], hours=[(WeeklyHours.Weekday.SUNDAY, "01:45", "03:45")]
    )

    slots = free_slots(half_hour, day, day, now=a_week_before(day))

    # 02:15 and 02:45 do not exist; read as 03:15 and 03:45 they would shift
    # and the last would run past the end of the hours.
    assert local_times(slots) == ["01:45", "03:15"]


@pytest.mark.parametrize(
    ("zone", "utc_times"),
    [
        ("America/Phoenix", ["16:00", "16:30"]),
        ("Asia/Tokyo", ["00:00", "00:30"]),
    ],
)
def test_zone_without_daylight_saving_keeps_one_offset_all_year(
    settings, make_calendar, make_consultation_type, zone, utc_times
):
    settings.TIME_ZONE = zone
    half_hour = make_consultation_type(duration_minutes=30)
    make_calendar(types=[half_hour], hours=[(6, "09:00", "10:00")])

    for sunday in (date(2026, 3, 8), date(2026, 11, 1), date(2027, 7, 4)):
        slots = free_slots(half_hour, sunday, sunday, now=a_week_before(sunday))

        assert local_times(slots) == ["09:00", "09:30"]
        assert [f"{slot.starts_at:%H:%M}" for slot in slots] == utc_times
        assert all(timezone.localtime(s.starts_at).date() == sunday for s in slots)


def test_is_free_only_for_a_free_time_on_the_grid(
    make_calendar, make_booking, in_clinic, phone_call
):
    calendar = make_calendar(types=[in_clinic], hours=[(0, "09:00", "12:00")])
    other = make_calendar(
        "Phone only", types=[phone_call], hours=[(0, "09:00", "12:00")]
    )
    make_booking(in_clinic, calendar, at(MONDAY, "10:00"))

    assert is_free(in_clinic, calendar, at(MONDAY, "09:00"), now=NOW)
    assert not is_free(in_clinic, calendar, at(MONDAY, "10:00"), now=NOW)
    assert not is_free(in_clinic, calendar, at(MONDAY, "09:30"), now=NOW)
    assert not is_free(in_clinic, other, at(MONDAY, "09:00"), now=NOW)
    assert not is_free(
        in_clinic, calendar, at(MONDAY, "09:00"), now=at(MONDAY, "07:00")
    )


def test_nearest_free_times_to_a_wanted_time(make_calendar, make_booking, in_clinic):
    calendar = make_calendar(types=[in_clinic], hours=[(0, "09:00", "12:00")])
    make_booking(in_clinic, calendar, at(MONDAY, "10:00"))

    nearest = nearest_free_slots(in_clinic, at(MONDAY, "10:00"), count=2, now=NOW)

    assert [slot.starts_at for slot in nearest] == [
        at(MONDAY, "09:00"),
        at(MONDAY, "11:00"),
    ]


def booked_times(calendars, first_day):
    """Each hour on the hour of the calendars' weekday hours, from first_day on."""
    day = first_day
    while True:
        if day.weekday() < 5:
            for hour in (9, 10, 11, 13, 14, 15, 16):
                for calendar in calendars:
                    yield calendar, at(day, f"{hour:02}:00")
        day += timedelta(days=1)


def make_bookings(consultation_type, calendars, count, first_day, fibromyalgia):
    """count bookings on free times from first_day on, in two queries."""
    consultations = ConsultationRequest.objects.bulk_create(
        ConsultationRequest(
            form_token=f"token-{n}",
            full_name="Maria Lopez",
            email="maria@example.org",
            phone="+17705550188",
            preferred_contact="phone",
            treatment=fibromyalgia,
            consent_at=NOW,
            status=ConsultationRequest.Status.BOOKED,
        )
        for n in range(count)
    )
    Booking.objects.bulk_create(
        Booking(
            consultation=consultation,
            consultation_type=consultation_type,
            calendar=calendar,
            starts_at=starts_at,
            ends_at=starts_at + consultation_type.duration,
            blocked_until=starts_at
            + consultation_type.duration
            + consultation_type.buffer,
        )
        for consultation, (calendar, starts_at) in zip(
            consultations, booked_times(calendars, first_day), strict=False
        )
    )


@pytest.mark.parametrize("bookings", [0, 500])
def test_free_slots_take_a_fixed_number_of_queries(
    make_calendar, in_clinic, fibromyalgia, django_assert_max_num_queries, bookings
):
    in_clinic.horizon_days = 90
    in_clinic.save()
    periods = [("09:00", "12:00"), ("13:00", "17:00")]
    hours = [(day, *period) for day in WEEKDAYS for period in periods]
    calendars = [
        make_calendar(f"Calendar {n}", types=[in_clinic], hours=hours) for n in range(3)
    ]
    for n, calendar in enumerate(calendars):
        calendar.extra_hours.create(day=SATURDAY, starts="09:00", ends="12:00")
        leave = MONDAY + timedelta(days=7 + n)
        ClosedDates.objects.create(calendar=calendar, first_day=leave, last_day=leave)
    holiday = THURSDAY + timedelta(days=7)
    ClosedDates.objects.create(first_day=holiday, last_day=holiday)
    make_bookings(
        in_clinic, calendars, bookings, MONDAY + timedelta(days=14), fibromyalgia
    )

    # The weekly and extra hours with their calendars, the closed dates, the
    # bookings.
    with django_assert_max_num_queries(4):
        slots = free_slots(in_clinic, MONDAY, MONDAY + timedelta(days=59), now=NOW)

    # 3 calendars x (44 weekdays x 7 times + 3 on the Saturday with extra hours),
    # less each calendar's day of leave and the clinic's holiday (7 times each),
    # less one time per booking.
    assert len(slots) == 3 * (44 * 7 + 3) - 3 * 2 * 7 - bookings

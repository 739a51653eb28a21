"""Taking, moving and cancelling a time: Booking.objects.take, move_to, cancel."""

import secrets
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection
from django.utils import timezone

from bookings.availability import free_slots
from bookings.models import (
    Booking,
    ClosedDates,
    ConsultationRequest,
    SlotTaken,
    is_overlap_refused,
)

# Monday 4 January 2027, 7:00 in New York; the bookable Monday is a week later.
NOW = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
MONDAY = date(2027, 1, 11)
NINE = datetime(2027, 1, 11, 14, 0, tzinfo=UTC)
TEN = NINE + timedelta(hours=1)
ELEVEN = NINE + timedelta(hours=2)


@pytest.fixture
def clinic_type(make_consultation_type):
    return make_consultation_type(duration_minutes=45, buffer_minutes=15)


@pytest.fixture
def calendar(make_calendar, clinic_type):
    return make_calendar(types=[clinic_type], hours=[(0, "09:00", "12:00")])


@pytest.fixture
def new_consultation(fibromyalgia):
    def make(**fields):
        fields = {
            "form_token": secrets.token_hex(16),
            "full_name": "Maria Lopez",
            "email": "maria@example.org",
            "phone": "+17705550188",
            "preferred_contact": "phone",
            "treatment": fibromyalgia,
            "consent_at": NOW,
        } | fields
        return ConsultationRequest(**fields)

    return make


def free_times(consultation_type, now=NOW):
    return [
        slot.starts_at for slot in free_slots(consultation_type, MONDAY, MONDAY, now)
    ]


def test_take_books_the_time_and_marks_the_request_booked(
    new_consultation, clinic_type, calendar
):
    booking = Booking.objects.take(new_consultation(), clinic_type, TEN, now=NOW)

    booking.refresh_from_db()
    assert booking.calendar == calendar
    assert (booking.starts_at, booking.ends_at) == (TEN, TEN + timedelta(minutes=45))
    assert booking.blocked_until == TEN + timedelta(hours=1)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.sequence == 0
    assert booking.consultation.status == ConsultationRequest.Status.BOOKED
    assert free_times(clinic_type) == [NINE, ELEVEN]


@pytest.mark.parametrize(
    ("wanted", "code"),
    [
        (NOW - timedelta(hours=1), "in_the_past"),
        (NOW + timedelta(hours=2), "too_soon"),
        (NINE + timedelta(days=35), "too_far"),
        (NINE + timedelta(minutes=30), "not_a_slot"),
        (NINE + timedelta(days=1), "not_a_slot"),
    ],
)
def test_take_refuses_a_time_patients_cannot_book(
    new_consultation, clinic_type, calendar, wanted, code
):
    with pytest.raises(ValidationError) as refused:
        Booking.objects.take(new_consultation(), clinic_type, wanted, now=NOW)

    assert refused.value.code == code
    assert refused.value.messages[0]
    assert not ConsultationRequest.objects.exists()


def test_take_refuses_a_closed_day(new_consultation, clinic_type, calendar):
    ClosedDates.objects.create(first_day=MONDAY, last_day=MONDAY, reason="Holiday")

    with pytest.raises(ValidationError) as refused:
        Booking.objects.take(new_consultation(), clinic_type, NINE, now=NOW)

    assert refused.value.code == "not_a_slot"


def test_take_refuses_a_type_not_offered_online_or_taken_by_no_calendar(
    new_consultation, clinic_type, calendar, make_consultation_type
):
    clinic_type.is_offered_online = False
    clinic_type.save()
    nobody_takes = make_consultation_type("Phone call", location="phone")

    for consultation_type in (clinic_type, nobody_takes):
        with pytest.raises(ValidationError) as refused:
            Booking.objects.take(new_consultation(), consultation_type, NINE, now=NOW)
        assert refused.value.code == "not_offered"
    assert not ConsultationRequest.objects.exists()


def test_a_taken_time_raises_slot_taken_with_the_nearest_free_times(
    new_consultation, clinic_type, calendar, make_booking
):
    make_booking(clinic_type, calendar, TEN)

    with pytest.raises(SlotTaken) as taken:
        Booking.objects.take(new_consultation(), clinic_type, TEN, now=NOW)

    nearest = [slot.starts_at for slot in taken.value.nearest]
    assert {NINE, ELEVEN} <= set(nearest)
    assert TEN not in nearest
    assert len(nearest) == 3
    assert Booking.objects.count() == 1
    assert ConsultationRequest.objects.count() == 1


def test_take_uses_the_next_calendar_when_the_first_is_taken(
    new_consultation, clinic_type, calendar, make_calendar, make_booking
):
    other = make_calendar(
        "Dr Rivera", types=[clinic_type], hours=[(0, "09:00", "12:00")]
    )
    make_booking(clinic_type, calendar, TEN)

    booking = Booking.objects.take(new_consultation(), clinic_type, TEN, now=NOW)

    assert booking.calendar == other


def test_spam_is_stored_as_spam_with_no_booking(
    new_consultation, clinic_type, calendar
):
    consultation = new_consultation(spam_reason="honeypot field filled in")

    assert Booking.objects.take(consultation, clinic_type, TEN, now=NOW) is None

    consultation.refresh_from_db()
    assert consultation.status == ConsultationRequest.Status.SPAM
    assert not Booking.objects.exists()
    assert free_times(clinic_type) == [NINE, TEN, ELEVEN]


def test_urgent_message_books_even_when_it_looks_like_spam(
    new_consultation, clinic_type, calendar
):
    consultation = new_consultation(
        spam_reason="form filled in too fast", message="Some days I want to die."
    )

    booking = Booking.objects.take(consultation, clinic_type, TEN, now=NOW)

    assert booking.consultation.is_urgent
    assert booking.consultation.status == ConsultationRequest.Status.BOOKED


def test_moving_frees_the_old_time_and_raises_the_sequence(
    clinic_type, calendar, make_booking
):
    booking = make_booking(clinic_type, calendar, NINE)

    booking.move_to(ELEVEN, now=NOW)

    booking.refresh_from_db()
    assert booking.starts_at == ELEVEN
    assert booking.blocked_until == ELEVEN + timedelta(hours=1)
    assert booking.sequence == 1
    assert free_times(clinic_type) == [NINE, TEN]


def test_moving_within_a_full_day_counts_its_own_booking_as_free(
    clinic_type, calendar, make_booking
):
    clinic_type.daily_cap = 1
    clinic_type.save()
    booking = make_booking(clinic_type, calendar, NINE)

    booking.move_to(TEN, now=NOW)

    assert Booking.objects.get().starts_at == TEN


def test_moving_to_a_taken_time_keeps_the_booking_as_it_was(
    clinic_type, calendar, make_booking
):
    booking = make_booking(clinic_type, calendar, NINE)
    make_booking(clinic_type, calendar, TEN)

    with pytest.raises(SlotTaken):
        booking.move_to(TEN, now=NOW)

    assert booking.starts_at == NINE
    booking.refresh_from_db()
    assert (booking.starts_at, booking.sequence) == (NINE, 0)


def test_staff_may_move_inside_the_notice_but_only_onto_the_grid(
    clinic_type, calendar, make_booking
):
    booking = make_booking(clinic_type, calendar, ELEVEN)
    # Monday 9:00 in New York, an hour from now: inside the 4 hours' notice.
    now = NINE - timedelta(hours=1)

    with pytest.raises(ValidationError) as refused:
        booking.move_to(NINE, now=now)
    assert refused.value.code == "too_soon"
    with pytest.raises(ValidationError) as refused:
        booking.move_to(NINE + timedelta(minutes=20), by_staff=True, now=now)
    assert refused.value.code == "not_a_slot"

    booking.move_to(NINE, by_staff=True, now=now)
    assert Booking.objects.get().starts_at == NINE


def test_patient_cannot_move_or_cancel_after_the_cutoff(
    clinic_type, calendar, make_booking, settings
):
    settings.BOOKINGS_CHANGE_CUTOFF_HOURS = 2
    booking = make_booking(clinic_type, calendar, ELEVEN)
    now = ELEVEN - timedelta(hours=1, minutes=59)

    assert booking.can_be_changed_by_patient(ELEVEN - timedelta(hours=2, minutes=1))
    assert not booking.can_be_changed_by_patient(now)
    with pytest.raises(ValidationError) as refused:
        booking.cancel(now=now)
    assert refused.value.code == "past_cutoff"

    booking.cancel(by_staff=True, now=now)
    assert Booking.objects.get().status == Booking.Status.CANCELLED


def test_cancelling_frees_the_time_and_raises_the_sequence(
    clinic_type, calendar, make_booking
):
    booking = make_booking(clinic_type, calendar, TEN)

    booking.cancel(now=NOW)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.sequence == 1
    assert free_times(clinic_type) == [NINE, TEN, ELEVEN]
    with pytest.raises(ValidationError) as refused:
        booking.move_to(NINE, now=NOW)
    assert refused.value.code == "not_confirmed"


def test_outcome_is_attended_or_no_show_only(clinic_type, calendar, make_booking):
    booking = make_booking(clinic_type, calendar, TEN)

    booking.set_outcome(Booking.Status.NO_SHOW)
    assert Booking.objects.get().status == Booking.Status.NO_SHOW
    with pytest.raises(ValueError, match="Not an outcome"):
        booking.set_outcome(Booking.Status.CANCELLED)


def race(count, action):
    """Run action(n) in `count` threads at once, each on its own connection."""
    barrier = threading.Barrier(count)
    outcomes = []

    def run(n):
        barrier.wait()
        try:
            outcomes.append(action(n))
        except SlotTaken:
            outcomes.append("taken")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_bookings_of_one_time_give_exactly_one(
    new_consultation, clinic_type, calendar
):
    consultations = [new_consultation() for _ in range(20)]

    outcomes = race(
        20,
        lambda n: Booking.objects.take(consultations[n], clinic_type, TEN, now=NOW),
    )

    assert outcomes.count("taken") == 19
    assert Booking.objects.filter(starts_at=TEN).count() == 1
    assert ConsultationRequest.objects.count() == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_staff_move_and_a_patient_booking_racing_for_one_time_give_one(
    new_consultation, clinic_type, calendar, make_booking
):
    for attempt in range(5):
        moving = make_booking(clinic_type, calendar, NINE)
        patient = new_consultation()

        def act(n, moving=moving, patient=patient):
            if n == 0:
                return moving.move_to(TEN, by_staff=True, now=NOW)
            return Booking.objects.take(patient, clinic_type, TEN, now=NOW)

        outcomes = race(2, act)

        assert outcomes.count("taken") == 1, attempt
        assert Booking.objects.active().filter(starts_at=TEN).count() == 1
        Booking.objects.all().delete()
        ConsultationRequest.objects.all().delete()


def test_now_defaults_to_the_clock(new_consultation, clinic_type, calendar):
    wanted = timezone.now() - timedelta(minutes=1)

    with pytest.raises(ValidationError) as refused:
        Booking.objects.take(new_consultation(), clinic_type, wanted)

    assert refused.value.code == "in_the_past"


class PostgresError(Exception):
    def __init__(self, pgcode):
        super().__init__(pgcode)
        self.pgcode = pgcode


@pytest.mark.parametrize(
    ("pgcode", "refused"),
    [("40P01", True), ("57P01", False), (None, False)],
)
def test_a_deadlock_between_two_bookings_counts_as_the_time_taken(pgcode, refused):
    """PostgreSQL aborts one of two overlapping inserts with a deadlock."""
    error = OperationalError("deadlock detected" if refused else "other")
    error.__cause__ = PostgresError(pgcode)

    assert is_overlap_refused(error) is refused

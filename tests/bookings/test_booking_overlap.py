from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from bookings.models import Booking

NINE = datetime(2027, 1, 11, 14, 0, tzinfo=UTC)


@pytest.fixture
def clinic_type(make_consultation_type):
    return make_consultation_type(duration_minutes=45, buffer_minutes=15)


@pytest.mark.postgresql
def test_database_refuses_overlapping_active_bookings_of_one_calendar(
    make_calendar, make_booking, clinic_type
):
    calendar = make_calendar(types=[clinic_type])
    make_booking(clinic_type, calendar, NINE)

    # 09:50 starts inside the first booking's break after it (until 10:00).
    with pytest.raises(IntegrityError), transaction.atomic():
        make_booking(clinic_type, calendar, NINE + timedelta(minutes=50))

    assert Booking.objects.count() == 1


@pytest.mark.postgresql
def test_cancelled_bookings_and_other_calendars_do_not_clash(
    make_calendar, make_booking, clinic_type
):
    calendar = make_calendar(types=[clinic_type])
    other = make_calendar("Dr Rivera", types=[clinic_type])
    make_booking(clinic_type, calendar, NINE, status=Booking.Status.CANCELLED)

    make_booking(clinic_type, calendar, NINE)
    make_booking(clinic_type, other, NINE)
    # Right after the break: ranges include their start, not their end.
    make_booking(clinic_type, calendar, NINE + timedelta(hours=1))

    assert Booking.objects.active().count() == 3

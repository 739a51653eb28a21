"""Two patients sending the same time at the same moment, through HTTP."""

import re
import threading
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from bookings.models import Booking, ConsultationRequest, ConsultationType

# Monday 11 January 2027, 8:00 in New York; Tuesday 9:00 is free.
NOW = datetime(2027, 1, 11, 13, 0, tzinfo=UTC)
URL = "/consultation/book/free-phone-consultation/20270112T1400Z/"


@pytest.fixture
def phone_call(make_consultation_type, make_calendar):
    consultation_type = make_consultation_type(
        "Free phone consultation",
        duration_minutes=30,
        location=ConsultationType.Location.PHONE,
    )
    make_calendar(types=[consultation_type], hours=[(1, "09:00", "11:00")])
    return consultation_type


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_browsers_racing_for_one_time_get_one_booking_and_a_just_taken_page(
    phone_call, form_data
):
    names = ["Maria Lopez", "Ana Ruiz"]
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        browsers = [Client() for _ in names]
        sent = [
            form_data(
                full_name=name,
                form_token=browser.get(URL).context["form"]["form_token"].value(),
            )
            for name, browser in zip(names, browsers, strict=True)
        ]
        barrier = threading.Barrier(len(browsers))
        responses = {}

        def book(n):
            barrier.wait()
            try:
                responses[names[n]] = browsers[n].post(URL, sent[n])
            finally:
                connection.close()

        threads = [threading.Thread(target=book, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    statuses = sorted(response.status_code for response in responses.values())
    assert statuses == [302, 409]
    booking = Booking.objects.get()
    winner = booking.consultation.full_name
    [loser] = [name for name in names if name != winner]
    taken = responses[loser].text
    assert "That time was just taken" in taken
    assert f'value="{loser}"' in taken
    assert len(re.findall(r'formaction="([^"]+)"', taken)) == 3
    assert ConsultationRequest.objects.count() == 1

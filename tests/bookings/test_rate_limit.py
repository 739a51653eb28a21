import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from bookings.models import ConsultationRequest, SubmissionCount

URL = "/consultation/"
HOUR = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
ADDRESS = "203.0.113.7"


@pytest.fixture
def clock():
    """The time the site reads, set by the test: `clock.now = ...`."""
    clock = mock.Mock(now=HOUR)
    with mock.patch("django.utils.timezone.now", lambda: clock.now):
        yield clock


def statuses(client, form_data, count):
    return [client.post(URL, form_data()).status_code for _ in range(count)]


def test_limit_holds_for_the_whole_clock_hour(form_data, settings, clock):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 5
    patient = Client(REMOTE_ADDR=ADDRESS)

    clock.now = HOUR + timedelta(minutes=1)
    assert statuses(patient, form_data, 5) == [302] * 5
    for minutes in (10, 30, 59):
        clock.now = HOUR + timedelta(minutes=minutes, seconds=59)
        assert statuses(patient, form_data, 1) == [429], minutes
    clock.now = HOUR + timedelta(hours=1)
    assert statuses(patient, form_data, 1) == [302]

    assert ConsultationRequest.objects.count() == 6


def test_counts_of_earlier_hours_are_removed(db):
    SubmissionCount.objects.over_limit(ADDRESS, now=HOUR)
    SubmissionCount.objects.over_limit("198.51.100.9", now=HOUR)

    SubmissionCount.objects.over_limit(ADDRESS, now=HOUR + timedelta(hours=1))

    assert list(SubmissionCount.objects.values_list("hour_start", "submissions")) == [
        (HOUR + timedelta(hours=1), 1)
    ]


def test_counting_a_submission_costs_one_query(db, django_assert_num_queries):
    # The first count of an hour in each process also removes older hours.
    SubmissionCount.objects.over_limit(ADDRESS, now=HOUR + timedelta(days=1))

    with django_assert_num_queries(1):
        SubmissionCount.objects.over_limit("198.51.100.9", now=HOUR + timedelta(days=1))


def test_client_address_is_not_stored(form_data):
    Client(REMOTE_ADDR=ADDRESS).post(URL, form_data())

    (client,) = SubmissionCount.objects.values_list("client", flat=True)
    assert ADDRESS not in client
    assert len(client) == 32


def test_flooding_the_page_cache_leaves_the_rate_limit_intact(
    form_data, settings, make_page
):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 2
    settings.CACHES = {
        alias: config | {"OPTIONS": {"MAX_ENTRIES": 20}}
        if config["BACKEND"].endswith("DatabaseCache")
        else config
        for alias, config in settings.CACHES.items()
    }
    make_page("Medical disclaimer")
    patient = Client(REMOTE_ADDR=ADDRESS)
    assert statuses(patient, form_data, 2) == [302, 302]

    for number in range(100):
        assert Client().get(f"/medical-disclaimer/?f={number}").status_code == 200

    assert statuses(patient, form_data, 1) == [429]
    assert ConsultationRequest.objects.count() == 2


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_simultaneous_posts_from_one_address_store_at_most_the_limit(
    form_data, settings
):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 5
    forms = [form_data() for _ in range(12)]
    barrier = threading.Barrier(len(forms))
    answers = []

    def submit(data):
        client = Client(REMOTE_ADDR=ADDRESS)
        barrier.wait()
        try:
            answers.append(client.post(URL, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(data,)) for data in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [302] * 5 + [429] * 7
    assert ConsultationRequest.objects.count() == 5

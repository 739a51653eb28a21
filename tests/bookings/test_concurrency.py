import threading

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from bookings.models import ConsultationRequest
from tests.bookings.conftest import handed_out_token


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_of_one_form_create_one_request(form_data):
    # A double click: one browser, with the cookie it was given with the form.
    browser = Client()
    token = handed_out_token(browser)
    data = form_data(form_token=token)
    barrier = threading.Barrier(2)
    statuses = []

    def submit():
        client = Client()
        client.cookies.update(browser.cookies)
        barrier.wait()
        try:
            statuses.append(client.post("/consultation/", data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302, 302]
    assert ConsultationRequest.objects.count() == 1
    assert DBTaskResult.objects.count() == 1

"""The booking pages name the clinic as staff entered it in the clinic details."""

import pytest

from pages.models import ClinicDetails

NEW_NAME = "Willow Creek Pain Clinic"


@pytest.fixture(autouse=True)
def renamed_clinic(clinic):
    ClinicDetails.objects.filter(pk=clinic.pk).update(name=NEW_NAME)


def test_consultation_form_asks_consent_for_the_clinic_by_name(client, form_data):
    html = client.get("/consultation/").text

    assert f"I agree that {NEW_NAME} may contact me about this request" in html
    assert "Roswell Infusions" not in html.replace(
        'alt" content="Roswell Infusions:', ""
    )


def test_a_form_sent_back_with_errors_still_names_the_clinic(client, form_data):
    html = client.post("/consultation/", form_data(email="not an address")).text

    assert f"I agree that {NEW_NAME} may contact me" in html
    assert '<span class="required">(required)</span>' in html


def test_waitlist_and_booking_pages_name_the_clinic(
    client, make_consultation_type, make_calendar, privacy_page
):
    every_day = [(weekday, "09:00", "17:00") for weekday in range(7)]
    make_calendar(types=[make_consultation_type()], hours=every_day)

    types_page = client.get("/consultation/book/").text
    days_page = client.get("/consultation/book/in-clinic-consultation/").text
    waitlist_page = client.get(
        "/consultation/book/in-clinic-consultation/waitlist/"
    ).text

    assert f"Book a consultation with {NEW_NAME} online" in types_page
    assert f"The free times of this consultation at {NEW_NAME}." in days_page
    for html in (days_page, waitlist_page):
        assert f"I agree that {NEW_NAME} may e-mail me when a time frees up" in html

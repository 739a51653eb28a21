"""A form sent again is thanked only in the browser that was given the form."""

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from bookings.models import ConsultationRequest
from tests.bookings.conftest import handed_out_token, run_worker

URL = "/consultation/"
THANKS_URL = "/consultation/thanks/"
URGENT = "Some days I want to die from this pain."


def crisis_guidance_shown(html):
    return "hidden" not in html.split("data-crisis-guidance", 1)[1].split(">", 1)[0]


@pytest.fixture
def sent_by_patient(form_data):
    """A patient's urgent request, and the data their browser sent."""
    patient = Client(REMOTE_ADDR="203.0.113.7")
    data = form_data(form_token=handed_out_token(patient), message=URGENT)
    assert patient.post(URL, data).status_code == 302
    return ConsultationRequest.objects.get(), data


@pytest.mark.parametrize("visited_the_form", [False, True])
def test_token_sent_again_from_another_browser_gets_the_form_not_the_thanks(
    sent_by_patient, visited_the_form
):
    consultation, data = sent_by_patient
    other = Client(REMOTE_ADDR="198.51.100.9")
    if visited_the_form:
        handed_out_token(other)

    response = other.post(
        URL, data | {"full_name": "Someone Else", "message": "Just curious."}
    )

    assert response.status_code == 200
    assert "This form was sent before" in response.text
    assert 'value="Someone Else"' in response.text
    assert response.context["form"]["form_token"].value() != data["form_token"]
    assert consultation.reference not in response.text
    assert not crisis_guidance_shown(response.text)
    assert "bookings_thanks" not in response.cookies
    thanks = other.get(THANKS_URL)
    assert thanks.status_code == 302
    assert consultation.reference not in thanks.text
    assert ConsultationRequest.objects.count() == 1
    assert DBTaskResult.objects.count() == 1


def test_token_sent_again_from_another_browser_over_the_rate_limit_gets_no_thanks(
    sent_by_patient, form_data, settings
):
    consultation, data = sent_by_patient
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 1
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert other.post(URL, form_data()).status_code == 302

    response = other.post(URL, data)

    assert "This form was sent before" in response.text
    assert consultation.reference not in response.text
    assert "bookings_thanks" not in response.cookies
    assert ConsultationRequest.objects.count() == 2


def test_the_fresh_form_given_to_another_browser_can_be_sent(sent_by_patient):
    _, data = sent_by_patient
    other = Client(REMOTE_ADDR="198.51.100.9")
    fresh_token = (
        other.post(URL, data | {"message": "Just curious."})
        .context["form"]["form_token"]
        .value()
    )

    response = other.post(URL, data | {"form_token": fresh_token}, follow=True)

    assert "Thank you, we have your request" in response.text
    assert ConsultationRequest.objects.count() == 2


def test_double_click_in_the_same_browser_is_thanked_with_one_request_and_mail(
    client, form_data, smtp_server
):
    data = form_data(form_token=handed_out_token(client), message=URGENT)

    first = client.post(URL, data)
    second = client.post(URL, data, follow=True)

    consultation = ConsultationRequest.objects.get()
    assert first.status_code == 302
    assert consultation.reference in second.text
    assert "If you are thinking about ending your life" in second.text
    run_worker()
    assert len(smtp_server.to("frontdesk@clinic.example")) == 1
    assert len(smtp_server.to("maria@example.org")) == 1


def test_a_form_from_an_earlier_tab_is_still_thanked_in_its_browser(client, form_data):
    first_tab = handed_out_token(client)
    handed_out_token(client)
    data = form_data(form_token=first_tab)
    client.post(URL, data)

    response = client.post(URL, data, follow=True)

    assert ConsultationRequest.objects.get().reference in response.text


def test_form_key_cookie_is_scoped_to_the_form_and_hidden_from_scripts(
    client, db, settings
):
    settings.SESSION_COOKIE_SECURE = True

    cookie = client.get(URL).cookies["bookings_browser"]

    assert cookie["path"] == URL
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 24 * 3600
    assert cookie.value not in client.get(URL).text


def test_public_pages_never_get_the_form_key_cookie(client, db, make_page):
    make_page("About us")
    client.get(URL)

    for _ in range(2):  # rendered, then served from the cache
        page = client.get("/about-us/")
        assert not page.cookies
        assert "public" in page["Cache-Control"]

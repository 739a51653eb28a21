import re

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from bookings.forms import read_form_token
from bookings.models import REFERENCE_ALPHABET, BlockedSender, ConsultationRequest
from tests.bookings.conftest import handed_out_token, run_worker

URL = "/consultation/"


def test_form_page_marks_required_fields_in_words_and_shows_crisis_lines(client, db):
    html = client.get(URL).text

    assert html.count("(required)") == 7
    assert "not for emergencies" in html
    assert 'href="tel:988"' in html and 'href="tel:911"' in html
    assert 'href="/privacy-policy/"' in html


def test_valid_request_is_stored_queued_and_thanked(client, form_data, mailoutbox):
    response = client.post(URL, form_data())

    assert response.status_code == 302
    assert response["Location"] == "/consultation/thanks/"
    consultation = ConsultationRequest.objects.get()
    assert consultation.full_name == "Maria Lopez"
    assert str(consultation.phone) == "+17705550188"
    assert consultation.preferred_days == ["mon", "wed"]
    assert consultation.status == ConsultationRequest.Status.NEW
    assert consultation.consent_at is not None
    assert DBTaskResult.objects.count() == 1
    assert mailoutbox == []

    thanks = client.get(response["Location"])
    assert consultation.reference in thanks.text
    assert "What happens next" in thanks.text
    assert "(770) 555-0123" in thanks.text

    run_worker()
    assert len(mailoutbox) == 2
    consultation.refresh_from_db()
    assert consultation.staff_notified_at and consultation.patient_confirmed_at


def test_a_request_is_stored_in_a_few_queries(
    client, form_data, django_assert_max_num_queries
):
    client.post(URL, form_data(email="first@example.org"))

    # The treatment, the hourly count and the sender check, then the request
    # and its queued e-mail in one transaction.
    with django_assert_max_num_queries(7):
        response = client.post(URL, form_data())

    assert response.status_code == 302
    assert ConsultationRequest.objects.count() == 2


def test_reference_is_random_and_never_the_database_id(client, form_data, settings):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 100
    for _ in range(30):
        client.post(URL, form_data())

    consultations = list(ConsultationRequest.objects.order_by("pk"))
    references = [consultation.reference for consultation in consultations]
    assert len(references) == 30
    assert len(set(references)) == 30
    pattern = re.compile(rf"RI-[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}")
    assert all(pattern.fullmatch(reference) for reference in references)
    for consultation in consultations:
        assert str(consultation.pk) not in consultation.reference.split("-")[1:]
    # A counter (RI-0000-0001, RI-0000-0002, ...) keeps its leading characters;
    # random ones change in every position (30 draws of 32 characters each
    # give fewer than 4 different ones with a chance below 1 in 10^25).
    characters = [
        reference.replace("RI-", "").replace("-", "") for reference in references
    ]
    for position in range(8):
        assert len({chars[position] for chars in characters}) >= 4


def test_thanks_page_without_a_request_goes_back_to_the_form(client, db):
    response = client.get("/consultation/thanks/")

    assert response.status_code == 302
    assert response["Location"] == URL


def test_patient_data_never_appears_in_a_url(client, form_data):
    response = client.post(URL, form_data(), follow=True)

    for url, _ in response.redirect_chain:
        assert "maria" not in url.lower()
        assert ConsultationRequest.objects.get().reference not in url


def test_same_form_sent_twice_creates_one_request(client, form_data):
    data = form_data(form_token=handed_out_token(client))

    first = client.post(URL, data)
    second = client.post(URL, data)

    assert ConsultationRequest.objects.count() == 1
    assert DBTaskResult.objects.count() == 1
    assert first["Location"] == second["Location"] == "/consultation/thanks/"
    assert (
        ConsultationRequest.objects.get().reference
        in client.get("/consultation/thanks/").text
    )


def test_reference_reaches_only_the_thanks_page_in_a_signed_cookie(
    client, form_data, settings
):
    response = client.post(URL, form_data())

    cookie = response.cookies["bookings_thanks"]
    assert cookie.value.startswith(ConsultationRequest.objects.get().reference + ":")
    assert cookie["path"] == "/consultation/thanks/"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == settings.BOOKINGS_THANKS_MINUTES * 60
    # No session: the patient's next page views are served from the page cache.
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_after_a_request_the_patient_still_gets_cached_pages(
    client, form_data, starter_content
):
    client.post(URL, form_data())

    article = client.get("/articles/")

    assert "public" in article["Cache-Control"]


def test_forged_thanks_cookie_shows_no_reference(client, form_data):
    client.post(URL, form_data())
    reference = ConsultationRequest.objects.get().reference
    client.cookies["bookings_thanks"] = reference

    response = client.get("/consultation/thanks/")

    assert response.status_code == 302
    assert response["Location"] == URL
    assert reference not in response.text


def test_refreshing_the_thanks_page_creates_nothing(client, form_data):
    client.post(URL, form_data())
    client.get("/consultation/thanks/")
    client.get("/consultation/thanks/")

    assert ConsultationRequest.objects.count() == 1


def test_tampered_token_asks_to_send_again_and_keeps_input(client, form_data):
    response = client.post(URL, form_data(form_token="forged"))

    assert response.status_code == 200
    assert "This form had expired" in response.text
    assert 'value="Maria Lopez"' in response.text
    assert not ConsultationRequest.objects.exists()
    fresh_token = response.context["form"].data["form_token"]
    assert client.post(URL, form_data(form_token=fresh_token)).status_code == 302


def test_article_link_preselects_the_treatment(
    client, make_article, make_topic, fibromyalgia
):
    topic = make_topic("Fibromyalgia")
    make_article("Fibro", topics=[topic])

    form = client.get(URL, {"article": "fibro"}).context["form"]

    assert form.initial["treatment"].slug == "fibromyalgia"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "Please enter your name."),
        ("full_name", "   \x00\x07 ", "Please enter your name."),
        ("full_name", "x" * 101, "Please shorten your name to at most 100"),
        ("email", "", "Please enter your e-mail address."),
        ("email", "maria@", "Please enter an e-mail address like name@example.com."),
        ("email", "maria example.org", "Please enter an e-mail address like"),
        ("phone", "", "Please enter your phone number."),
        ("phone", "12345", "Please enter a phone number like (770) 555-0123"),
        ("phone", "call me maybe", "Please enter a phone number like"),
        (
            "preferred_contact",
            "",
            "Please choose how you would like us to contact you.",
        ),
        ("preferred_contact", "pigeon", "Select a valid choice."),
        ("treatment", "", "Please choose the treatment you’re interested in."),
        ("treatment", "99999", "Select a valid choice."),
        ("preferred_days", ["sun"], "Select a valid choice."),
        ("message", "x" * 1001, "Please shorten your message to at most 1000"),
        ("consent", None, "Please tick this box so that we may contact you"),
    ],
)
def test_invalid_input_gets_a_specific_message_and_keeps_everything_typed(
    client, form_data, field, value, message
):
    data = form_data(**{field: value})
    response = client.post(URL, data)

    assert response.status_code == 200
    assert message in response.text
    assert 'id="error-summary"' in response.text
    assert "autofocus" in response.text
    html = response.text
    if field != "full_name":
        assert 'value="Maria Lopez"' in html
    if field != "email":
        assert 'value="maria@example.org"' in html
    if field != "message":
        assert "My fibromyalgia flares every winter." in html
    assert not ConsultationRequest.objects.exists()


def test_error_messages_are_linked_to_their_fields(client, form_data):
    html = client.post(URL, form_data(email="nope")).text

    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_email_error' in html
    assert '<a href="#id_email">' in html


def test_text_is_trimmed_and_control_characters_removed(client, form_data):
    client.post(
        URL,
        form_data(
            full_name="  Maria\x00 \x1b[31mLopez\r\n ",
            email=" Maria@Example.ORG ",
            message="  Line one\x07\r\nLine two\x00  ",
        ),
    )

    consultation = ConsultationRequest.objects.get()
    assert consultation.full_name == "Maria [31mLopez"
    assert consultation.email == "maria@example.org"
    assert consultation.message == "Line one\nLine two"


@pytest.mark.parametrize(
    "phone", ["770-555-0188", "(770) 555 0188", "+1 770 555 0188", "7705550188"]
)
def test_phone_numbers_are_stored_in_e164(client, form_data, phone):
    client.post(URL, form_data(phone=phone))

    assert str(ConsultationRequest.objects.get().phone) == "+17705550188"


def test_risk_words_flag_the_request_urgent_and_show_crisis_guidance(client, form_data):
    response = client.post(
        URL, form_data(message="Some days I want to die from this pain."), follow=True
    )

    consultation = ConsultationRequest.objects.get()
    assert consultation.is_urgent
    assert "If you are thinking about ending your life" in response.text
    assert "988" in response.text


def test_urgency_is_never_written_to_the_patients_browser(client, form_data):
    response = client.post(URL, form_data(message="Some days I want to die."))

    consultation = ConsultationRequest.objects.get()
    assert consultation.is_urgent
    value = response.cookies["bookings_thanks"].value
    assert value.split(":")[0] == consultation.reference
    assert "urgent" not in str(response.cookies).lower()


def test_risk_words_show_crisis_guidance_on_a_form_with_errors(client, form_data):
    html = client.post(URL, form_data(message="thinking of suicide", email="x")).text

    guidance = html.split("data-crisis-guidance", 1)[1].split(">", 1)[0]
    assert "hidden" not in guidance


def test_ordinary_message_is_not_urgent(client, form_data):
    client.post(
        URL, form_data(message="I died laughing at the waiting room magazines.")
    )

    assert not ConsultationRequest.objects.get().is_urgent


def test_honeypot_stores_spam_silently(client, form_data, mailoutbox):
    response = client.post(URL, form_data(website="http://spam.example"), follow=True)

    consultation = ConsultationRequest.objects.get()
    assert consultation.status == ConsultationRequest.Status.SPAM
    assert consultation.reference in response.text
    assert DBTaskResult.objects.count() == 0


def test_form_filled_too_fast_is_spam(client, form_data, settings):
    settings.BOOKINGS_MIN_FILL_SECONDS = 60

    client.post(URL, form_data())

    consultation = ConsultationRequest.objects.get()
    assert consultation.status == ConsultationRequest.Status.SPAM
    assert consultation.spam_reason == "form filled in too fast"
    assert DBTaskResult.objects.count() == 0


@pytest.mark.parametrize("blocked", ["maria@example.org", "example.org", "EXAMPLE.org"])
def test_blocked_sender_is_stored_as_spam_silently(client, form_data, blocked):
    BlockedSender.objects.create(value=blocked)

    response = client.post(URL, form_data(), follow=True)

    consultation = ConsultationRequest.objects.get()
    assert consultation.status == ConsultationRequest.Status.SPAM
    assert consultation.reference in response.text
    assert DBTaskResult.objects.count() == 0


def test_rate_limit_per_client_address_returns_429_and_keeps_input(form_data, settings):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 2
    first_client = Client(REMOTE_ADDR="203.0.113.7")
    second_client = Client(REMOTE_ADDR="198.51.100.9")

    for _ in range(2):
        assert first_client.post(URL, form_data()).status_code == 302
    blocked = first_client.post(URL, form_data(full_name="Third Try"))

    assert blocked.status_code == 429
    assert "Too many requests came from your connection" in blocked.text
    assert 'value="Third Try"' in blocked.text
    assert "(770) 555-0123" in blocked.text
    assert second_client.post(URL, form_data()).status_code == 302
    assert ConsultationRequest.objects.count() == 3


def test_rate_limit_trusts_only_the_configured_proxy_header(form_data, settings):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 1
    proxy = "10.0.0.1"

    spoofing = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert spoofing.post(URL, form_data()).status_code == 302
    other = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert other.post(URL, form_data()).status_code == 429

    settings.CLIENT_IP_HEADER = "X-Real-IP"
    assert (
        Client(REMOTE_ADDR=proxy, HTTP_X_REAL_IP="3.3.3.3")
        .post(URL, form_data())
        .status_code
        == 302
    )
    assert (
        Client(REMOTE_ADDR=proxy, HTTP_X_REAL_IP="4.4.4.4")
        .post(URL, form_data())
        .status_code
        == 302
    )
    assert (
        Client(REMOTE_ADDR=proxy, HTTP_X_REAL_IP="4.4.4.4")
        .post(URL, form_data())
        .status_code
        == 429
    )


def test_invalid_submissions_do_not_count_towards_the_rate_limit(
    client, form_data, settings
):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 1
    for _ in range(3):
        client.post(URL, form_data(email="typo"))

    assert client.post(URL, form_data()).status_code == 302


def test_missing_csrf_token_is_refused(form_data):
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(URL, form_data()).status_code == 403
    assert not ConsultationRequest.objects.exists()


def test_form_token_is_fresh_on_every_visit(client, db):
    # The second visit is served from the booking pages' cache.
    first = handed_out_token(client)
    second = handed_out_token(client)

    assert first != second
    assert read_form_token(first) and read_form_token(second)


def test_a_query_the_form_does_not_read_never_reaches_the_next_visitor(client, db):
    canonical = '<link rel="canonical" href="https://www.clinic.example/consultation/'
    assert f'{canonical}?page=3">' in client.get(URL, {"page": "3"}).text

    html = Client().get(URL).text

    assert f'{canonical}">' in html

"""Hostile input never breaks the form and is never rendered unescaped."""

from urllib.parse import urlencode

import pytest

from bookings.models import ConsultationRequest
from tests.bookings.conftest import run_worker

URL = "/consultation/"
SCRIPT = "<script>alert('x')</script>"
PAYLOADS = [
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "Robert'); DROP TABLE bookings_consultationrequest;--",
    "' OR '1'='1",
    "x" * 100_000,
    "Zoë Ølstad-Nguyễn 山田太郎 🙂 \u202eevil",
    "line one\r\nBcc: victim@evil.example\r\n\r\nbody",
    "nul\x00byte",
    TEMPLATE_SYNTAX := "{{ request.META }}{% debug %}",
]
FIELDS = ["full_name", "email", "phone", "message", "treatment", "preferred_contact"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_hostile_text_in_any_field_never_errors_or_renders_raw(
    client, admin_client, form_data, settings, field, payload
):
    settings.BOOKINGS_EMAIL_CONTACT_DETAILS = True
    response = client.post(URL, form_data(**{field: payload}))

    assert response.status_code in (200, 302)
    assert SCRIPT not in response.text
    assert "onerror=alert" not in response.text.replace("onerror=alert(1)&gt;", "")
    assert not ran_as_template(response.text)

    for consultation in ConsultationRequest.objects.all():
        change = admin_client.get(consultation.get_admin_url())
        listing = admin_client.get("/admin/bookings/consultationrequest/")
        for page in (change, listing):
            assert page.status_code == 200
            assert SCRIPT not in page.text
            assert "<img src=x onerror" not in page.text
            assert not ran_as_template(page.text)


def ran_as_template(html):
    """What {{ request.META }} or {% debug %} would print, had they run."""
    return any(trace in html for trace in ("SERVER_NAME", "wsgi.input", "(built-in)"))


def test_template_syntax_typed_by_a_patient_is_shown_as_text(
    client, admin_client, form_data
):
    rejected = client.post(URL, form_data(email=TEMPLATE_SYNTAX))
    client.post(URL, form_data(message=TEMPLATE_SYNTAX))
    stored = admin_client.get(ConsultationRequest.objects.get().get_admin_url())

    for page in (rejected, stored):
        assert page.status_code == 200
        assert TEMPLATE_SYNTAX in page.text
        assert not ran_as_template(page.text)


@pytest.mark.parametrize(
    "overrides",
    [
        {"treatment": "abc"},
        {"treatment": ["1", "2"]},
        {"preferred_days": "mon"},
        {"preferred_days": ["mon", "mon", "xyz"]},
        {"consent": ["on", "off"]},
        {"full_name": ["Maria", "Lopez"]},
        {"form_token": ""},
        {"form_token": "x" * 10_000},
        {"preferred_time": "midnight"},
    ],
)
def test_wrong_types_get_a_form_error_not_a_crash(client, form_data, overrides):
    response = client.post(URL, form_data(**overrides))

    assert response.status_code in (200, 302)


def test_invalid_utf8_is_answered_with_the_form(client, form_data):
    body = urlencode(form_data()).replace("Maria", "%ED%A0%80%FF%FE")
    response = client.post(URL, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code in (200, 302)


def test_empty_and_odd_requests_never_crash(client, db):
    assert client.post(URL, {}).status_code == 200
    assert client.post(URL, "not a form", content_type="text/plain").status_code == 200
    assert (
        client.post(
            URL, b"\xff\xfe\x00", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_hostile_text_reaches_staff_mail_as_inert_text(
    client, form_data, smtp_server, settings
):
    settings.BOOKINGS_EMAIL_CONTACT_DETAILS = True
    client.post(URL, form_data(full_name=SCRIPT))
    run_worker()

    for _, message in smtp_server.messages:
        assert message.get_body(("html",)) is None or SCRIPT not in str(
            message.get_body(("html",))
        )
    [staff_mail] = smtp_server.to("frontdesk@clinic.example")
    assert staff_mail.get_content_type() == "text/plain"


@pytest.fixture
def bookable(make_consultation_type, make_calendar):
    consultation_type = make_consultation_type("Phone call", notice_hours=0)
    make_calendar(
        types=[consultation_type],
        hours=[(weekday, "09:00", "17:00") for weekday in range(7)],
    )
    return consultation_type


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
@pytest.mark.parametrize("parameter", ["day", "article"])
def test_hostile_query_on_the_booking_pages_never_errors_or_renders_raw(
    client, bookable, parameter, payload
):
    for url in (
        "/consultation/",
        "/consultation/book/",
        "/consultation/book/phone-call/",
        "/consultation/book/phone-call/20991231T1400Z/",
    ):
        response = client.get(url, {parameter: payload})

        assert response.status_code == 200
        assert SCRIPT not in response.text
        assert "<img src=x onerror" not in response.text
        assert not ran_as_template(response.text)


@pytest.mark.parametrize(
    "path",
    [
        "phone-call/2026-12-03T14:00Z/",
        "phone-call/20261203T1400Z/extra/",
        "phone-call/20261203T14000Z/",
        "phone-call/20261232T1400Z/",
        "phone-call/20260229T1400Z/",
        "phone-call/00000101T0000Z/",
        "phone-call/99991231T2359Z/",
        "phone-call/%3Cscript%3E/",
        "no-such-type/",
        "no-such-type/20261203T1400Z/",
        "..%2F..%2Fadmin/",
    ],
)
def test_forged_booking_paths_are_not_found(client, bookable, path):
    response = client.get(f"/consultation/book/{path}")

    assert response.status_code == 404
    assert SCRIPT not in response.text


@pytest.mark.parametrize(
    "when",
    [
        "20000101T1400Z",  # long past
        "29991231T1400Z",  # far past the horizon
        "20261203T1413Z",  # off the grid
        "20261203T0300Z",  # outside the hours
    ],
)
def test_a_time_that_cannot_be_booked_is_a_clear_page_not_an_error(
    client, bookable, when
):
    response = client.get(f"/consultation/book/phone-call/{when}/")

    assert response.status_code == 200
    assert "That time is not free" in response.text

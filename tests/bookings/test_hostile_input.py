"""Hostile input never breaks the form and is never rendered unescaped."""

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from bookings.models import Booking, ClosedDates, ConsultationRequest
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


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_hostile_text_in_a_booking_never_errors_or_renders_raw(
    client, bookable, form_data, field, payload
):
    wanted = next_free_time_path(client)
    response = client.post(wanted, form_data(**{field: payload}))

    assert response.status_code in (200, 302)
    assert SCRIPT not in response.text
    assert "onerror=alert" not in response.text.replace("onerror=alert(1)&gt;", "")
    assert not ran_as_template(response.text)


def next_free_time_path(client):
    html = client.get("/consultation/book/phone-call/").text
    return re.search(r'href="(/consultation/book/phone-call/\d{8}T\d{4}Z/)', html)[1]


def in_two_days(hh_mm):
    day = timezone.localdate() + timedelta(days=2)
    wall_clock = datetime.combine(day, time.fromisoformat(hh_mm))
    return wall_clock.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        (lambda: in_two_days("12:00") - timedelta(days=4), "That time has passed."),
        (lambda: timezone.now() + timedelta(hours=1), "That time is too soon"),
        (lambda: in_two_days("12:00") + timedelta(days=40), "too far ahead"),
        (lambda: in_two_days("12:13"), "We have no consultation at that time."),
        (lambda: in_two_days("03:00"), "We have no consultation at that time."),
        ("closed", "We have no consultation at that time."),
    ],
    ids=["past", "notice", "horizon", "off-grid", "outside-hours", "closed-day"],
)
def test_a_booking_of_a_time_that_cannot_be_booked_is_a_clear_refusal(
    client, make_consultation_type, make_calendar, form_data, wanted, message
):
    consultation_type = make_consultation_type("Clinic visit", duration_minutes=30)
    make_calendar(
        types=[consultation_type],
        hours=[(weekday, "08:00", "18:00") for weekday in range(7)],
    )
    if wanted == "closed":
        starts_at = in_two_days("12:00")
        day = starts_at.date()
        ClosedDates.objects.create(first_day=day, last_day=day)
    else:
        # On the half-hour grid, except where a test means otherwise.
        starts_at = wanted()
        if message == "That time is too soon":
            starts_at = starts_at.replace(minute=30, second=0, microsecond=0)
    path = f"/consultation/book/clinic-visit/{starts_at.astimezone(UTC):%Y%m%dT%H%MZ}/"

    response = client.post(path, form_data())

    assert response.status_code == 409
    assert message in response.text
    assert 'value="Maria Lopez"' in response.text
    assert re.search(
        r'formaction="/consultation/book/clinic-visit/\d{8}T\d{4}Z/"', response.text
    )
    assert not ConsultationRequest.objects.exists()


def test_a_booking_of_a_type_no_longer_offered_is_not_found(
    client, bookable, form_data
):
    wanted = next_free_time_path(client)
    bookable.is_offered_online = False
    bookable.save()

    assert client.post(wanted, form_data()).status_code == 404
    assert not ConsultationRequest.objects.exists()


def test_a_booking_for_a_calendar_that_does_not_take_the_type_is_ignored(
    client, bookable, make_calendar, form_data
):
    elsewhere = make_calendar(
        "Elsewhere", hours=[(weekday, "09:00", "17:00") for weekday in range(7)]
    )
    wanted = next_free_time_path(client)

    assert client.post(wanted, form_data(calendar=str(elsewhere.pk))).status_code == 302
    assert Booking.objects.get().calendar.name == "Clinic team"

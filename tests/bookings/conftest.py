import email
import io
import re
import secrets
import socket
import time
import uuid
from email import policy
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from bookings.forms import issue_form_token
from bookings.models import (
    Booking,
    ConsultationRequest,
    ConsultationType,
    StaffCalendar,
    Treatment,
)


class CollectingHandler:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted"


class LoopbackSMTPServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.handler = CollectingHandler()
        self.controller = None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.handler.messages

    def to(self, address):
        return [message for rcpt, message in self.messages if address in rcpt]


@pytest.fixture
def smtp_server(settings):
    server = LoopbackSMTPServer()
    server.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 5},
        }
    }
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def booking_settings(settings, clinic):
    settings.BOOKINGS_MIN_FILL_SECONDS = 0
    settings.BOOKINGS_NOTIFY_EMAILS = ["frontdesk@clinic.example"]
    settings.SITE_URL = "https://www.clinic.example"


@pytest.fixture
def in_memory_cache(settings):
    """The caches in the process's memory, so only the page's own queries count."""
    settings.CACHES = settings.CACHES | {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": uuid.uuid4().hex,
        }
        for alias in ("default", "public_pages")
    }


@pytest.fixture
def privacy_page(make_page):
    return make_page("Privacy policy")


@pytest.fixture
def fibromyalgia(db):
    # Created by a migration, but tests that flush the database remove it.
    treatment, _ = Treatment.objects.get_or_create(
        slug="fibromyalgia", defaults={"name": "Fibromyalgia"}
    )
    return treatment


@pytest.fixture
def form_data(fibromyalgia, privacy_page):
    def make(**overrides):
        data = {
            "full_name": "Maria Lopez",
            "email": "maria@example.org",
            "phone": "(770) 555-0188",
            "preferred_contact": "phone",
            "treatment": str(fibromyalgia.pk),
            "preferred_days": ["mon", "wed"],
            "preferred_time": "morning",
            "message": "My fibromyalgia flares every winter.",
            "heard_about": "doctor",
            "consent": "on",
            "website": "",
            "form_token": issue_form_token(),
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return make


def handed_out_token(client, url="/consultation/"):
    """The one-time token of the form this browser is given, read as a browser does."""
    html = client.get(url).text
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def run_worker():
    """Run every task that is due, as `manage.py db_worker` does in production."""
    # The worker closes connections that are not in autocommit mode, which would
    # end the test's transaction; Django's test client keeps them open likewise.
    with mock.patch("bookings.management.commands.db_worker.close_old_connections"):
        call_command(
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            stdout=io.StringIO(),
        )


def wait_until(condition, seconds=30):
    """Whether condition() came true within the given seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def make_consultation_type(db):
    def make(name="In-clinic consultation", **fields):
        fields.setdefault("slug", name.lower().replace(" ", "-"))
        fields.setdefault("duration_minutes", 45)
        fields.setdefault("location", ConsultationType.Location.CLINIC)
        return ConsultationType.objects.create(name=name, **fields)

    return make


@pytest.fixture
def make_calendar(db):
    def make(name="Clinic team", types=(), hours=()):
        """A calendar taking these types, with hours as (weekday, "09:00", "12:00")."""
        calendar = StaffCalendar.objects.create(name=name)
        calendar.consultation_types.set(types)
        for weekday, starts, ends in hours:
            calendar.weekly_hours.create(weekday=weekday, starts=starts, ends=ends)
        return calendar

    return make


@pytest.fixture
def make_booking(fibromyalgia):
    def make(consultation_type, calendar, starts_at, **fields):
        consultation = ConsultationRequest.objects.create(
            form_token=secrets.token_hex(16),
            full_name="Maria Lopez",
            email="maria@example.org",
            phone="+17705550188",
            preferred_contact="phone",
            treatment=fibromyalgia,
            consent_at=timezone.now(),
            status=ConsultationRequest.Status.BOOKED,
        )
        ends_at = starts_at + consultation_type.duration
        return Booking.objects.create(
            consultation=consultation,
            consultation_type=consultation_type,
            calendar=calendar,
            starts_at=starts_at,
            ends_at=ends_at,
            blocked_until=ends_at + consultation_type.buffer,
            **fields,
        )

    return make


@pytest.fixture
def make_consultation(fibromyalgia):
    def make(created_at, **fields):
        """A request received at created_at (auto_now_add set aside)."""
        fields.setdefault("treatment", fibromyalgia)
        consultation = ConsultationRequest.objects.create(
            form_token=secrets.token_hex(16),
            full_name="Maria Lopez",
            email="maria@example.org",
            phone="+17705550188",
            preferred_contact="phone",
            consent_at=created_at,
            **fields,
        )
        ConsultationRequest.objects.filter(pk=consultation.pk).update(
            created_at=created_at
        )
        consultation.created_at = created_at
        return consultation

    return make


@pytest.fixture
def staff_client(db):
    """A logged-in client for a new staff login with these permission codenames."""

    def make(*codenames):
        user = User.objects.create_user(
            f"staff-{secrets.token_hex(4)}", password="a long test password 1"
        )
        user.is_staff = True
        user.save()
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        client = Client()
        client.force_login(user)
        return client

    return make

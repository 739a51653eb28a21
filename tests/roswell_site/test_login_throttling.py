import io
import re

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client

from tests.bookings.conftest import run_worker

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a long and correct password"


@pytest.fixture(autouse=True)
def site_settings(settings):
    settings.SITE_URL = "https://www.clinic.example"
    # Hashing is not the point here, and these tests log in a hundred times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_user(db):
    user = User.objects.create_user(
        "receptionist",
        email="receptionist@clinic.example",
        password=PASSWORD,
        is_staff=True,
    )
    user.groups.add(Group.objects.get(name="Front desk"))
    return user


def log_in(client, password, username="receptionist"):
    return client.post(LOGIN, {"username": username, "password": password})


def page_text(response):
    """The page without what differs on every response (nonces, CSRF token)."""
    return re.sub(
        r'(nonce|name="csrfmiddlewaretoken" value)="[^"]*"', "", response.text
    )


def is_logged_in(client):
    return client.get("/admin/").status_code == 200


def test_ten_wrong_passwords_lock_the_account(staff_user):
    client = Client(REMOTE_ADDR="203.0.113.5")
    for attempt in range(10):
        response = log_in(client, f"guess number {attempt}")

    assert response.status_code == 429
    assert "Account locked" in response.text
    assert "ask a site administrator" in response.text

    locked = log_in(client, PASSWORD)
    assert locked.status_code == 429
    assert not is_logged_in(client)


def test_wrong_passwords_from_many_addresses_do_not_lock_the_owner_out(
    staff_user, mailoutbox
):
    for attempt in range(10):
        log_in(Client(REMOTE_ADDR=f"198.51.100.{attempt}"), f"guess number {attempt}")

    owner = Client(REMOTE_ADDR="192.0.2.77")
    log_in(owner, PASSWORD)
    assert is_logged_in(owner)


def test_the_owner_is_told_of_wrong_passwords_from_many_addresses(
    staff_user, mailoutbox
):
    for attempt in range(10):
        log_in(Client(REMOTE_ADDR=f"198.51.100.{attempt}"), f"guess number {attempt}")
    assert mailoutbox == []

    run_worker()

    [warning] = mailoutbox
    assert warning.to == ["receptionist@clinic.example"]
    assert "10 times in the last hour, from 10 different addresses" in warning.body
    assert "https://www.clinic.example/admin/password_change/" in warning.body
    assert "guess number" not in warning.body


def test_the_owner_is_told_once_per_lockout_period(staff_user, mailoutbox):
    for attempt in range(25):
        log_in(Client(REMOTE_ADDR=f"198.51.100.{attempt}"), "wrong password")
        run_worker()

    assert len(mailoutbox) == 1


def test_fewer_wrong_passwords_than_the_limit_tell_nobody(staff_user, mailoutbox):
    for attempt in range(9):
        log_in(Client(REMOTE_ADDR=f"198.51.100.{attempt}"), "wrong password")

    run_worker()

    assert mailoutbox == []


def test_unknown_usernames_get_the_same_answer_and_mail_nobody(staff_user, mailoutbox):
    known = [
        log_in(Client(REMOTE_ADDR=f"198.51.100.{n}"), "wrong", "receptionist")
        for n in range(10)
    ]
    unknown = [
        log_in(Client(REMOTE_ADDR=f"203.0.113.{n}"), "wrong", "nobody")
        for n in range(10)
    ]

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert page_text(known[-1]).replace("receptionist", "nobody") == page_text(
        unknown[-1]
    )
    run_worker()
    assert [message.to for message in mailoutbox] == [["receptionist@clinic.example"]]


def test_ten_wrong_passwords_from_one_address_lock_it_for_every_account(staff_user, db):
    User.objects.create_user("nurse", password=PASSWORD, is_staff=True)
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for attempt in range(10):
        log_in(attacker, "wrong password", username=f"guess{attempt}")

    assert log_in(attacker, PASSWORD, username="nurse").status_code == 429
    assert not is_logged_in(attacker)
    elsewhere = Client(REMOTE_ADDR="192.0.2.77")
    log_in(elsewhere, PASSWORD, username="nurse")
    assert is_logged_in(elsewhere)


def test_nine_wrong_passwords_then_the_right_one_gets_in(staff_user):
    client = Client()
    for _ in range(9):
        assert log_in(client, "wrong password").status_code == 200

    log_in(client, PASSWORD)

    assert is_logged_in(client)


def test_superuser_unlocks_the_account(staff_user):
    client = Client()
    for _ in range(10):
        log_in(client, "wrong password")

    call_command("axes_reset_username", "receptionist", stdout=io.StringIO())

    log_in(client, PASSWORD)
    assert is_logged_in(client)


def test_superuser_sees_and_clears_lockouts_in_the_admin(staff_user, admin_client):
    for _ in range(10):
        log_in(Client(), "wrong password")

    page = admin_client.get("/admin/axes/accessattempt/")

    assert page.status_code == 200
    assert "receptionist" in page.text


def test_weak_passwords_are_refused(db):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("password123", "12345678901234", "receptionist1", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak, User(username="receptionist"))

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a long and correct password"


@pytest.fixture
def staff_user(db):
    return User.objects.create_user(
        "receptionist", password=PASSWORD, is_staff=True, is_superuser=True
    )


def log_in(client, password, username="receptionist"):
    return client.post(LOGIN, {"username": username, "password": password})


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


def test_lockout_follows_the_account_to_another_address(staff_user):
    for attempt in range(10):
        log_in(Client(REMOTE_ADDR=f"198.51.100.{attempt}"), "wrong password")

    other_place = Client(REMOTE_ADDR="192.0.2.77")
    assert log_in(other_place, PASSWORD).status_code == 429
    assert not is_logged_in(other_place)


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

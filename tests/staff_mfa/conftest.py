import re
import time
from base64 import b32decode

import pytest
from django.contrib.auth.models import Group, User
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "a long and correct password"
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def second_step_required(settings):
    """As in production; the rest of the suite runs without it (pyproject.toml)."""
    settings.STAFF_MFA_REQUIRED = True
    # Hashing is not the point here, and these tests log in many times.
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


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(
        "director", email="director@clinic.example", password=PASSWORD
    )


def make_app(user):
    return TOTPDevice.objects.create(user=user, name="Authenticator app")


def code_for(device, steps_ahead=1):
    """
    What the app shows, steps_ahead periods of 30 s from now: a code is good
    once, and the one for the next period is accepted already.
    """
    code = totp(device.bin_key, device.step, device.t0, drift=steps_ahead)
    return f"{code:06d}"


def code_for_secret(secret, steps_ahead=0):
    """What an app set up with the key typed from the page shows."""
    return f"{totp(b32decode(secret.replace(' ', '')), drift=steps_ahead):06d}"


def secret_on(page_html):
    return re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page_html)[1]


def log_in(client, password=PASSWORD, username="receptionist"):
    return client.post(LOGIN, {"username": username, "password": password})


def log_in_verified(client, user, device):
    """A session that passed both steps, as after a real login."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def wait_for_throttle(seconds=1.1):
    """django-otp refuses codes for a second after a wrong one (then 2, 4, ...)."""
    time.sleep(seconds)

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

PASSWORD = "a long and correct password"


@pytest.fixture
def clock():
    """The time as Django sees it, moved forward by the test."""

    class Clock:
        now = timezone.now()

        def advance(self, **duration):
            self.now += timedelta(**duration)

    moving = Clock()
    with mock.patch("django.utils.timezone.now", lambda: moving.now):
        yield moving


@pytest.fixture
def front_desk(client, db, clock):
    user = User.objects.create_user("frontdesk", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Front desk"))
    client.post(
        "/admin/login/?next=/admin/", {"username": "frontdesk", "password": PASSWORD}
    )
    return client


def busy_for(client, clock, *, minutes):
    """The status of a request every 25 minutes, within the 30-minute idle timeout."""
    statuses = []
    for _ in range(minutes // 25):
        clock.advance(minutes=25)
        statuses.append(client.get("/admin/").status_code)
    return statuses


def test_a_busy_staff_session_lasts_until_twelve_hours_after_login(front_desk, clock):
    assert set(busy_for(front_desk, clock, minutes=11 * 60 + 40)) == {200}


def test_a_busy_staff_session_ends_twelve_hours_after_login(front_desk, clock):
    busy_for(front_desk, clock, minutes=11 * 60 + 40)
    clock.advance(minutes=25)

    response = front_desk.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert front_desk.get("/admin/").status_code == 302


def test_the_session_lifetime_is_a_setting(front_desk, clock, settings):
    settings.STAFF_SESSION_MAX_HOURS = 2

    assert busy_for(front_desk, clock, minutes=150) == [200, 200, 200, 200, 302, 302]

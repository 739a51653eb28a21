import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.bookings.conftest import run_worker
from tests.staff_mfa.conftest import (
    code_for,
    code_for_secret,
    log_in,
    log_in_verified,
    make_app,
    secret_on,
)

SET_UP = "/admin/two-factor/set-up/"
VERIFY = "/admin/two-factor/verify/"


def test_the_password_alone_does_not_open_the_admin(staff_user):
    client = Client()
    log_in(client)

    response = client.get("/admin/bookings/")

    assert response.status_code == 302
    assert response["Location"] == f"{SET_UP}?next=%2Fadmin%2Fbookings%2F"


def test_staff_set_up_an_app_and_get_recovery_codes_once(staff_user):
    client = Client()
    log_in(client)
    page = client.get(f"{SET_UP}?next=/admin/bookings/")
    assert "<svg" in page.text
    secret = secret_on(page.text)

    response = client.post(
        SET_UP, {"code": code_for_secret(secret), "next": "/admin/bookings/"}
    )

    assert response.status_code == 200
    codes = StaticToken.objects.filter(device__user=staff_user)
    assert codes.count() == 10
    assert all(code.token in response.text for code in codes)
    assert 'href="/admin/bookings/"' in response.text
    assert client.get("/admin/bookings/").status_code == 200
    device = TOTPDevice.objects.get(user=staff_user)
    assert device.confirmed
    assert codes.first().token not in client.get("/admin/two-factor/").text


def test_the_secret_stays_the_same_until_confirmed(staff_user):
    client = Client()
    log_in(client)

    first = secret_on(client.get(SET_UP).text)
    second = secret_on(client.get(SET_UP).text)

    assert first == second
    assert TOTPDevice.objects.filter(user=staff_user).count() == 1


def test_a_wrong_code_at_set_up_says_so_and_keeps_the_admin_closed(staff_user):
    client = Client()
    log_in(client)
    client.get(SET_UP)

    response = client.post(SET_UP, {"code": "000000"})

    assert response.status_code == 200
    assert "That code is not right" in response.text
    assert 'value="000000"' in response.text
    assert client.get("/admin/").status_code == 302
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


def test_staff_with_an_app_log_in_with_password_and_code(staff_user):
    device = make_app(staff_user)
    client = Client()

    log_in(client)
    assert client.get("/admin/")["Location"] == f"{VERIFY}?next=%2Fadmin%2F"
    response = client.post(VERIFY, {"code": code_for(device), "next": "/admin/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_shows_a_clear_message(staff_user):
    make_app(staff_user)
    client = Client()
    log_in(client)

    response = client.post(VERIFY, {"code": "123 456"})

    assert response.status_code == 200
    assert "That code is not right" in response.text
    assert "recovery codes" in response.text
    assert client.get("/admin/").status_code == 302


def test_a_code_works_only_once(staff_user):
    device = make_app(staff_user)
    code = code_for(device)
    first = Client()
    log_in(first)
    first.post(VERIFY, {"code": code})
    second = Client()
    log_in(second)

    response = second.post(VERIFY, {"code": code})

    assert "That code is not right" in response.text


def test_a_recovery_code_logs_in_once(staff_user):
    make_app(staff_user)
    recovery = StaticDevice.objects.create(user=staff_user, name="Recovery codes")
    recovery.token_set.create(token="abcd2345")
    client = Client()
    log_in(client)

    client.post(VERIFY, {"code": "ABCD 2345"})

    assert client.get("/admin/").status_code == 200
    again = Client()
    log_in(again)
    assert "That code is not right" in again.post(VERIFY, {"code": "abcd2345"}).text


def test_the_session_key_changes_with_the_second_step(staff_user):
    device = make_app(staff_user)
    client = Client()
    log_in(client)
    before = client.cookies["sessionid"].value

    client.post(VERIFY, {"code": code_for(device)})

    assert client.cookies["sessionid"].value != before


def test_ten_wrong_codes_lock_out_like_wrong_passwords(staff_user):
    make_app(staff_user)
    client = Client(REMOTE_ADDR="203.0.113.5")
    log_in(client)
    for attempt in range(10):
        response = client.post(VERIFY, {"code": f"{attempt:06d}"})

    assert response.status_code == 429
    assert "Account locked" in response.text
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert log_in(client).status_code == 429


def test_the_right_password_does_not_wipe_out_wrong_codes(staff_user):
    make_app(staff_user)
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(2):
        log_in(client)
        for attempt in range(5):
            response = client.post(VERIFY, {"code": f"{attempt:06d}"})
        client.post("/admin/logout/")

    assert response.status_code == 429
    assert log_in(client).status_code == 429


def test_a_complete_login_forgets_earlier_failures(staff_user):
    device = make_app(staff_user)
    client = Client(REMOTE_ADDR="203.0.113.5")
    for attempt in range(5):
        log_in(client, password=f"wrong {attempt}")
    log_in(client)
    client.post(VERIFY, {"code": code_for(device)})
    client.post("/admin/logout/")

    for attempt in range(9):
        log_in(client, password=f"wrong again {attempt}")
    log_in(client)

    assert client.get("/admin/").status_code == 302  # to the second step, not locked


def test_a_locked_out_address_cannot_take_the_second_step(staff_user):
    device = make_app(staff_user)
    client = Client(REMOTE_ADDR="203.0.113.5")
    log_in(client)
    for attempt in range(10):
        log_in(Client(REMOTE_ADDR="203.0.113.5"), password=f"wrong {attempt}")

    response = client.post(VERIFY, {"code": code_for(device)})

    assert response.status_code == 429
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_next_outside_the_site_is_ignored(staff_user):
    device = make_app(staff_user)
    client = Client()
    log_in(client)

    response = client.post(
        VERIFY, {"code": code_for(device), "next": "https://evil.example/"}
    )

    assert response["Location"] == "/admin/"


def test_logging_out_works_before_the_second_step(staff_user):
    make_app(staff_user)
    client = Client()
    log_in(client)

    client.post("/admin/logout/")

    assert client.get(VERIFY)["Location"].startswith("/admin/login/")


def test_staff_without_a_device_skip_it_when_not_required(settings, staff_user):
    settings.STAFF_MFA_REQUIRED = False
    client = Client()
    log_in(client)

    assert client.get("/admin/").status_code == 200


def test_staff_with_a_device_are_asked_even_when_not_required(settings, staff_user):
    settings.STAFF_MFA_REQUIRED = False
    make_app(staff_user)
    client = Client()
    log_in(client)

    assert client.get("/admin/")["Location"] == f"{VERIFY}?next=%2Fadmin%2F"


def test_staff_see_add_and_remove_their_devices(staff_user):
    device = make_app(staff_user)
    client = log_in_verified(Client(), staff_user, device)
    other = make_app(staff_user)

    page = client.get("/admin/two-factor/")
    assert page.text.count("Remove “Authenticator app”") == 2
    response = client.post("/admin/two-factor/remove/", {"device": other.persistent_id})

    assert response["Location"] == "/admin/two-factor/"
    assert list(TOTPDevice.objects.filter(user=staff_user)) == [device]


def test_staff_cannot_remove_someone_elses_device(staff_user, superuser):
    device = make_app(staff_user)
    theirs = make_app(superuser)
    client = log_in_verified(Client(), staff_user, device)

    response = client.post(
        "/admin/two-factor/remove/", {"device": theirs.persistent_id}
    )

    assert response.status_code == 404
    assert TOTPDevice.objects.filter(pk=theirs.pk).exists()


def test_new_recovery_codes_replace_the_old(staff_user):
    device = make_app(staff_user)
    recovery = StaticDevice.objects.create(user=staff_user, name="Recovery codes")
    recovery.token_set.create(token="oldcode1")
    client = log_in_verified(Client(), staff_user, device)

    response = client.post("/admin/two-factor/recovery-codes/")

    tokens = set(StaticToken.objects.values_list("token", flat=True))
    assert len(tokens) == 10
    assert "oldcode1" not in tokens
    assert all(token in response.text for token in tokens)
    assert response["Cache-Control"].startswith("max-age=0, no-cache, no-store")


def test_adding_an_app_needs_the_second_step_first(staff_user):
    make_app(staff_user)
    client = Client()
    log_in(client)

    assert client.get(SET_UP)["Location"].startswith(VERIFY)


def test_superuser_resets_someone_elses_devices(staff_user, superuser):
    make_app(staff_user)
    StaticDevice.objects.create(user=staff_user, name="Recovery codes")
    client = log_in_verified(Client(), superuser, make_app(superuser))

    response = client.post(
        "/admin/auth/user/",
        {"action": "reset_two_factor", "_selected_action": [staff_user.pk]},
        follow=True,
    )

    assert "Two-factor login reset for 1 user(s)" in response.text
    assert not TOTPDevice.objects.filter(user=staff_user).exists()
    assert not StaticDevice.objects.filter(user=staff_user).exists()
    assert TOTPDevice.objects.filter(user=superuser).exists()
    again = Client()
    log_in(again)
    assert again.get("/admin/")["Location"].startswith(SET_UP)


def test_only_superusers_may_reset_devices(staff_user):
    staff_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    device = make_app(staff_user)
    client = log_in_verified(Client(), staff_user, device)

    page = client.get("/admin/auth/user/")
    response = client.post(
        "/admin/auth/user/",
        {"action": "reset_two_factor", "_selected_action": [staff_user.pk]},
    )

    assert page.status_code == 200
    assert "reset_two_factor" not in page.text
    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=staff_user).exists()


@pytest.mark.parametrize("model", ["otp_totp/totpdevice", "otp_static/staticdevice"])
def test_nobody_sees_other_peoples_secrets_in_the_admin(superuser, model):
    client = log_in_verified(Client(), superuser, make_app(superuser))

    assert client.get(f"/admin/{model}/").status_code == 404


def test_the_only_app_cannot_be_removed_where_staff_need_one(staff_user):
    device = make_app(staff_user)
    client = log_in_verified(Client(), staff_user, device)

    response = client.post(
        "/admin/two-factor/remove/", {"device": device.persistent_id}, follow=True
    )

    assert "is your only app or passkey" in response.text
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_removing_the_app_used_to_log_in_keeps_the_session_open(staff_user):
    old_phone = make_app(staff_user)
    make_app(staff_user)
    client = log_in_verified(Client(), staff_user, old_phone)

    client.post("/admin/two-factor/remove/", {"device": old_phone.persistent_id})

    assert not TOTPDevice.objects.filter(pk=old_phone.pk).exists()
    assert client.get("/admin/").status_code == 200


def test_a_command_resets_a_superuser_who_lost_everything(superuser):
    make_app(superuser)
    out = io.StringIO()

    call_command("reset_two_factor", "director", stdout=out)

    assert "reset for director" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=superuser).exists()
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("reset_two_factor", "nobody")


def test_wrong_codes_from_many_addresses_warn_the_owner(staff_user, mailoutbox):
    make_app(staff_user)
    for attempt in range(10):
        client = Client(REMOTE_ADDR=f"198.51.100.{attempt}")
        log_in(client)
        client.post(VERIFY, {"code": f"{attempt:06d}"})

    run_worker()

    [warning] = mailoutbox
    assert warning.to == ["receptionist@clinic.example"]
    assert "wrong password or two-factor code" in warning.body
    assert "knows it and is guessing your code" in warning.body


def test_the_second_step_shows_no_menu_of_the_admin(superuser):
    make_app(superuser)
    client = Client()
    log_in(client, username="director")

    page = client.get(VERIFY)

    assert "Consultation requests" not in page.text
    assert "/admin/bookings/" not in page.text
    assert "Log out" in page.text

"""
The second step of a staff login: a code from an authenticator app, a recovery
code or a passkey, after the password.

With STAFF_MFA_REQUIRED the admin opens only for sessions that passed it, so
staff without a device set one up first; without the setting, only staff who
have a device are asked. django-axes counts wrong codes as failed logins, and
forgets a login's failures only once the login is complete: were they wiped at
the right password, someone who knows it could guess codes for ever.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"


# Noted in the session at the password step, so that no admin page has to look
# up the user's devices again.
SECOND_STEP_APPLIES = "second_step_applies"


def second_step_applies(user):
    return user.is_staff and (settings.STAFF_MFA_REQUIRED or user_has_device(user))


def second_step_pending(request):
    """A staff member who gave their password but not yet their second step."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if user.is_verified():
        return False
    if settings.STAFF_MFA_REQUIRED:
        return True
    applies = request.session.get(SECOND_STEP_APPLIES)
    return second_step_applies(user) if applies is None else applies


def login_credentials(user):
    return {"username": user.get_username()}


def forget_failures(request, user):
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(
        request, login_credentials(user)
    )


def note_password_step(sender, request, user, **kwargs):
    """The login is complete unless a second step follows."""
    applies = second_step_applies(user)
    request.session[SECOND_STEP_APPLIES] = applies
    if not applies:
        forget_failures(request, user)


def complete_login(request, device):
    """The second step passed with this device: the session may open the admin."""
    otp_login(request, device)
    # A new session key for the session's new rights, as Django does at login.
    request.session.cycle_key()
    forget_failures(request, request.user)


def is_locked_out(request, user):
    return not AxesProxyHandler.is_allowed(request, login_credentials(user))


def note_wrong_code(request, user):
    """Counted by django-axes like a wrong password, and locks out like one."""
    user_login_failed.send(
        sender=__name__, credentials=login_credentials(user), request=request
    )


def verify_code(user, code):
    """
    The device that accepts the code (and will not accept it again), or None.
    Six digits are a code from an authenticator app; anything else is tried as
    a recovery code. Each device throttles wrong codes on its own (django-otp).
    """
    code = "".join(code.split()).lower()
    kind = TOTPDevice if code.isdigit() else StaticDevice
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            if isinstance(device, kind) and device.verify_token(code):
                return device
    return None


def make_recovery_codes(user):
    """New recovery codes for the user, replacing any old ones; shown only once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_DEVICE_NAME}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=code) for code in codes
    )
    return codes


def remaining_recovery_codes(user):
    return StaticToken.objects.filter(device__user=user).count()


def second_step_devices(user):
    """The user's authenticator apps and passkeys, without the recovery codes."""
    return [
        device
        for device in devices_for_user(user)
        if not isinstance(device, StaticDevice)
    ]


def reset_devices(user):
    """Everything the user could pass the second step with, gone."""
    for device in devices_for_user(user, confirmed=None):
        device.delete()

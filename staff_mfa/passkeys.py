"""
Passkeys (django-otp-webauthn) as the second step of a staff login.

A passkey belongs to the host name the admin was opened at (its "relying
party"): the site's address in production, localhost for `make run` (browsers
offer passkeys only over https or on localhost, never on an IP address). The
host has passed ALLOWED_HOSTS, and the browser vouches for the origin it signs.
"""

from django.http.request import split_domain_port
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.views import (
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from .logins import complete_login

PASSKEY = "Passkey"


def relying_party_id(request):
    return split_domain_port(request.get_host())[0]


class PasskeyHelper(WebAuthnHelper):
    def get_allowed_origins(self):
        return [f"{self.request.scheme}://{self.request.get_host()}"]

    def create_credential(self, *args, **kwargs):
        device = super().create_credential(*args, **kwargs)
        device.name = PASSKEY
        return device


class CompletePasskeyVerificationView(CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        complete_login(self.request, device)


class CompletePasskeyRegistrationView(CompleteCredentialRegistrationView):
    """Registering a first passkey completes the login, as a first app does."""

    def post(self, *args, **kwargs):
        was_verified = self.request.user.is_verified()
        response = super().post(*args, **kwargs)
        if response.status_code == 200 and not was_verified:
            complete_login(self.request, self.request.user.otp_device)
        return response

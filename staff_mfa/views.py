"""
The admin's two-factor pages: the second step of a login, setting up an
authenticator app, and each staff member's own devices and recovery codes.
ClinicAdminSite (roswell_site/admin.py) mounts them.
"""

from base64 import b32encode

import segno
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.generic import FormView, TemplateView, View
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from . import logins
from .forms import CodeForm

AUTHENTICATOR_APP = "Authenticator app"


class AdminPageMixin:
    admin_site = None
    title = ""

    def get_context_data(self, **kwargs):
        context = self.admin_site.each_context(self.request)
        if logins.second_step_pending(self.request):
            # No menu of the admin's apps, and no links into it, until then.
            context |= {
                "available_apps": [],
                "has_permission": False,
                "is_nav_sidebar_enabled": False,
            }
        return super().get_context_data(
            **context, title=self.title, next=self.next_url(), **kwargs
        )

    def next_url(self):
        """Where the login was going, if that is on this site; else the admin."""
        url = self.request.POST.get("next") or self.request.GET.get("next")
        if url and url_has_allowed_host_and_scheme(
            url, {self.request.get_host()}, self.request.is_secure()
        ):
            return url
        return reverse("admin:index", current_app=self.admin_site.name)


class VerifyView(AdminPageMixin, FormView):
    """The second step: a code from the app, a recovery code or a passkey."""

    form_class = CodeForm
    template_name = "staff_mfa/verify.html"
    title = "Two-factor login"

    def dispatch(self, request, *args, **kwargs):
        if not logins.second_step_pending(request):
            return redirect(self.next_url())
        if not user_has_device(request.user):
            return redirect_to(request, "admin:mfa_enrol")
        if logins.is_locked_out(request, request.user):
            return self.lock_out()
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            has_passkey=WebAuthnCredential.objects.filter(
                user=user, confirmed=True
            ).exists(),
            has_app=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
            **kwargs,
        )

    def form_valid(self, form):
        user = self.request.user
        device = logins.verify_code(user, form.cleaned_data["code"])
        if device is None:
            logins.note_wrong_code(self.request, user)
            if getattr(self.request, "axes_locked_out", False):
                return self.lock_out()
            form.add_error(
                "code",
                "That code is not right. Enter the newest code your authenticator "
                "app shows (after a wrong one, wait a few seconds), or one of your "
                "recovery codes.",
            )
            return self.form_invalid(form)
        logins.complete_login(self.request, device)
        return redirect(self.next_url())

    def lock_out(self):
        credentials = logins.login_credentials(self.request.user)
        logout(self.request)
        return get_lockout_response(self.request, None, credentials)


class EnrolView(AdminPageMixin, FormView):
    """Setting up an authenticator app: scan the QR code, then type a code."""

    form_class = CodeForm
    template_name = "staff_mfa/enrol.html"
    title = "Set up two-factor login"

    def dispatch(self, request, *args, **kwargs):
        if user_has_device(request.user) and not request.user.is_verified():
            return redirect_to(request, "admin:mfa_verify")
        self.device = self.unconfirmed_device()
        return super().dispatch(request, *args, **kwargs)

    def unconfirmed_device(self):
        """The same secret on every visit, until a code confirms it."""
        user = self.request.user
        return TOTPDevice.objects.filter(
            user=user, confirmed=False
        ).first() or TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR_APP, confirmed=False
        )

    def get_context_data(self, **kwargs):
        secret = b32encode(self.device.bin_key).decode()
        return super().get_context_data(
            qr_code=segno.make(self.device.config_url, error="m").svg_inline(
                scale=4, title="QR code for your authenticator app"
            ),
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            first_device=not self.request.user.is_verified(),
            issuer=settings.OTP_TOTP_ISSUER,
            **kwargs,
        )

    def form_valid(self, form):
        code = "".join(form.cleaned_data["code"].split())
        if not self.device.verify_token(code):
            form.add_error(
                "code",
                f"That code is not right. Check that the app shows "
                f"“{settings.OTP_TOTP_ISSUER}”, wait for a new code and enter it "
                "(after a wrong one, wait a few seconds).",
            )
            return self.form_invalid(form)
        user = self.request.user
        self.device.confirmed = True
        self.device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        if user.is_verified():
            messages.success(self.request, "The authenticator app was added.")
            return redirect("admin:mfa_devices")
        logins.complete_login(self.request, self.device)
        return show_recovery_codes(self.request, self.admin_site, self.next_url())


class DevicesView(AdminPageMixin, TemplateView):
    """A staff member's own apps, passkeys and recovery codes."""

    template_name = "staff_mfa/devices.html"
    title = "Two-factor login"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            devices=logins.second_step_devices(user),
            recovery_codes_left=logins.remaining_recovery_codes(user),
            **kwargs,
        )


class RecoveryCodesView(View):
    """New recovery codes, replacing the old; shown on this one page only."""

    admin_site = None
    http_method_names = ["post"]

    def post(self, request):
        return show_recovery_codes(
            request, self.admin_site, reverse("admin:mfa_devices")
        )


class RemoveDeviceView(View):
    """
    Removes one of the user's own apps or passkeys, but not the last one where
    staff must have one. The session stays verified by one that remains.
    """

    admin_site = None
    http_method_names = ["post"]

    def post(self, request):
        user = request.user
        devices = logins.second_step_devices(user)
        device = next(
            (d for d in devices if d.persistent_id == request.POST.get("device")),
            None,
        )
        if device is None:
            raise Http404
        others = [d for d in devices if d != device]
        if not others and settings.STAFF_MFA_REQUIRED:
            messages.error(
                request,
                f"“{device.name}” is your only app or passkey, and staff logins "
                "need one: add another first.",
            )
            return redirect("admin:mfa_devices")
        logged_in_with_it = user.is_verified() and user.otp_device == device
        device.delete()
        if others and logged_in_with_it:
            otp_login(request, others[0])
        messages.success(request, f"“{device.name}” was removed.")
        return redirect("admin:mfa_devices")


def show_recovery_codes(request, admin_site, next_url):
    return TemplateResponse(
        request,
        "staff_mfa/recovery_codes.html",
        admin_site.each_context(request)
        | {
            "title": "Your recovery codes",
            "codes": logins.make_recovery_codes(request.user),
            "next": next_url,
        },
    )


def redirect_to_second_step(request):
    """From an admin page to the second step, or to setting one up."""
    url_name = (
        "admin:mfa_verify" if user_has_device(request.user) else "admin:mfa_enrol"
    )
    next_url = (
        request.get_full_path() if request.method == "GET" else reverse("admin:index")
    )
    return redirect(f"{reverse(url_name)}?{urlencode({'next': next_url})}")


def redirect_to(request, url_name):
    """The other two-factor page, keeping where the login was going."""
    return redirect(f"{reverse(url_name)}?{request.GET.urlencode()}")

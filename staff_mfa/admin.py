from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_static.admin import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from .logins import reset_devices

# django-otp's own pages show other people's secrets, QR codes and recovery
# codes; staff manage their own devices under "Two-factor login" instead, and
# superusers reset someone's from the list of users.
admin.site.unregister(StaticDevice)
admin.site.unregister(TOTPDevice)

User = get_user_model()
admin.site.unregister(User)


def has_confirmed(model):
    return Exists(model.objects.filter(user=OuterRef("pk"), confirmed=True))


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    actions = ("reset_two_factor",)
    list_display = (*UserAdmin.list_display, "two_factor")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                has_two_factor=has_confirmed(TOTPDevice)
                | has_confirmed(WebAuthnCredential)
            )
        )

    @admin.display(
        boolean=True, description="Two-factor login", ordering="-has_two_factor"
    )
    def two_factor(self, user):
        return user.has_two_factor

    def has_reset_two_factor_permission(self, request):
        return request.user.is_superuser

    @admin.action(
        permissions=["reset_two_factor"],
        description="Reset two-factor login (they set it up again at their next login)",
    )
    def reset_two_factor(self, request, queryset):
        for user in queryset:
            reset_devices(user)
        self.message_user(
            request,
            f"Two-factor login reset for {len(queryset)} user(s): their apps, "
            "passkeys and recovery codes no longer work.",
            messages.SUCCESS,
        )

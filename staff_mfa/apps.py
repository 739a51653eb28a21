from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class StaffMfaConfig(AppConfig):
    name = "staff_mfa"
    verbose_name = "Two-step login for staff"

    def ready(self):
        from .logins import note_password_step

        user_logged_in.connect(note_password_step)

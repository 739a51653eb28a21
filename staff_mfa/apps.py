from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class StaffMfaConfig(AppConfig):
    name = "staff_mfa"
    verbose_name = "Two-step login for staff"

    def ready(self):
        from .logins import forget_failures_unless_second_step

        user_logged_in.connect(forget_failures_unless_second_step)

from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.signals import user_logged_in
from django.core import checks

from .checks import check_client_address_behind_proxy
from .sessions import note_login_time


class ClinicAdminConfig(AdminConfig):
    default_site = "roswell_site.admin.ClinicAdminSite"

    def ready(self):
        super().ready()
        checks.register(check_client_address_behind_proxy, deploy=True)
        # Here, not in the middleware's module: that is imported only when the
        # first request arrives, and logins can come before (tests, the shell).
        user_logged_in.connect(note_login_time)

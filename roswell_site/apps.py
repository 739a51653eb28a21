from django.contrib.admin.apps import AdminConfig
from django.core import checks

from .checks import check_client_address_behind_proxy


class ClinicAdminConfig(AdminConfig):
    default_site = "roswell_site.admin.ClinicAdminSite"

    def ready(self):
        super().ready()
        checks.register(check_client_address_behind_proxy, deploy=True)

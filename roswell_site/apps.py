from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    default_site = "roswell_site.admin.ClinicAdminSite"

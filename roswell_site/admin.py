from django.conf import settings
from django.contrib import admin
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override

# The rich-text editor (Tiptap) adds a <style> element of its own, so the admin
# allows inline styles; scripts stay as strict as on the public site.
ADMIN_CSP = settings.SECURE_CSP | {"style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}


class ClinicAdminSite(admin.AdminSite):
    site_header = "Roswell Infusions: site administration"
    site_title = "Roswell Infusions admin"

    def admin_view(self, view, cacheable=False):
        return csp_override(ADMIN_CSP)(super().admin_view(view, cacheable))

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from reversion.models import Version
from reversion_compare.admin import CompareVersionAdmin

# The rich-text editor (Tiptap) adds a <style> element of its own, so the admin
# allows inline styles; scripts stay as strict as on the public site.
ADMIN_CSP = settings.SECURE_CSP | {"style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}


class ClinicAdminSite(admin.AdminSite):
    site_header = "Roswell Infusions: site administration"
    site_title = "Roswell Infusions admin"

    def admin_view(self, view, cacheable=False):
        return csp_override(ADMIN_CSP)(super().admin_view(view, cacheable))

    def get_urls(self):
        # Here, not at the top: the apps' admin modules import this one.
        from bookings.reports import ReportCSVView, ReportsView

        return [
            path(
                "reports/",
                self.admin_view(ReportsView.as_view(admin_site=self)),
                name="reports",
            ),
            path(
                "reports/<slug:slug>.csv",
                self.admin_view(ReportCSVView.as_view()),
                name="reports_csv",
            ),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        """The app list, under "Needs attention now" for what this login may see."""
        from bookings.dashboard import may_see_patients, patient_lines
        from pages.dashboard import may_see_articles, review_lines

        attention = []
        if may_see_patients(request.user):
            attention += patient_lines()
        if may_see_articles(request.user):
            attention += review_lines()
        extra_context = {
            **(extra_context or {}),
            "needs_attention": attention,
            "may_see_reports": request.user.has_perm("bookings.view_reports"),
        }
        return super().index(request, extra_context)


class HistoryAdmin(CompareVersionAdmin):
    """
    Revision history (django-reversion and reversion-compare) under our permissions.

    Upstream, the compare view checks no permission, and the revision and recover
    views take any version id, of any model: they would show or restore another
    model's data. Here every per-object view needs what Django's history page
    needs (view or change on that object, change to revert), and a version id is
    looked up only among the versions of that object, or for recovery among the
    deleted objects of this admin's model; any other id answers 404.
    """

    def history_object(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def history_view(self, request, object_id, extra_context=None):
        self.history_object(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def compare_view(self, request, object_id, extra_context=None):
        self.history_object(request, object_id)
        return super().compare_view(request, object_id, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        obj = self.history_object(request, object_id)
        # Checked before reversion reverts the revision, with signals live on POST.
        if request.method == "POST" and not self.has_change_permission(request, obj):
            raise PermissionDenied
        get_object_or_404(Version.objects.get_for_object(obj), pk=version_id)
        return super().revision_view(request, object_id, version_id, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        # What the recover list asks, before reversion restores anything.
        if not (
            self.has_add_permission(request) and self.has_change_permission(request)
        ):
            raise PermissionDenied
        get_object_or_404(Version.objects.get_deleted(self.model), pk=version_id)
        return super().recover_view(request, version_id, extra_context)

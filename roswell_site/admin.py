from functools import update_wrapper

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.csp import CSP
from django.utils.functional import SimpleLazyObject, lazy
from django.utils.text import format_lazy
from django.views.decorators.csp import csp_override
from reversion.models import Version
from reversion_compare.admin import CompareVersionAdmin

from pages.models import ClinicDetails
from staff_mfa import views as mfa_views
from staff_mfa.logins import second_step_pending

# The rich-text editor (Tiptap) adds a <style> element of its own, so the admin
# allows inline styles; scripts stay as strict as on the public site.
ADMIN_CSP = settings.SECURE_CSP | {"style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}


class ClinicAdminSite(admin.AdminSite):
    def each_context(self, request):
        # The name staff edit in the clinic details, read only if a page shows it.
        clinic = SimpleLazyObject(ClinicDetails.load)
        name = lazy(lambda: clinic.name, str)()
        return super().each_context(request) | {
            "site_header": format_lazy("{}: site administration", name),
            "site_title": format_lazy("{} admin", name),
        }

    def admin_view(self, view, cacheable=False, *, before_second_step=False):
        """
        Every admin page waits for the second step of the login (staff_mfa),
        but for logging out and the pages that take that step.
        """
        checked = super().admin_view(view, cacheable)
        if before_second_step:
            return csp_override(ADMIN_CSP)(checked)

        def inner(request, *args, **kwargs):
            if second_step_pending(request) and request.path != reverse(
                "admin:logout", current_app=self.name
            ):
                return mfa_views.redirect_to_second_step(request)
            return checked(request, *args, **kwargs)

        return csp_override(ADMIN_CSP)(update_wrapper(inner, checked))

    def get_urls(self):
        # Here, not at the top: the apps' admin modules import this one.
        from bookings.reports import ReportCSVView, ReportsView

        def step(view, **initkwargs):
            return self.admin_view(
                view.as_view(admin_site=self, **initkwargs), before_second_step=True
            )

        def page(view):
            return self.admin_view(view.as_view(admin_site=self))

        return [
            path("two-factor/verify/", step(mfa_views.VerifyView), name="mfa_verify"),
            path("two-factor/set-up/", step(mfa_views.EnrolView), name="mfa_enrol"),
            path("two-factor/", page(mfa_views.DevicesView), name="mfa_devices"),
            path(
                "two-factor/recovery-codes/",
                page(mfa_views.RecoveryCodesView),
                name="mfa_recovery_codes",
            ),
            path(
                "two-factor/remove/",
                page(mfa_views.RemoveDeviceView),
                name="mfa_remove",
            ),
            path("reports/", page(ReportsView), name="reports"),
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

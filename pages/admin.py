from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminFileWidget
from django.db import models
from django.utils import timezone

from bookings.reports import Cell
from roswell_site.admin import HistoryAdmin

from .dashboard import REVIEW_SOON_DAYS
from .models import Article, ClinicDetails, Page, Topic

# The article's figure on its admin page: requests that came from it lately.
ATTRIBUTION_DAYS = 90


class LabelledFileWidget(AdminFileWidget):
    """
    The admin's file input inside a <label>'s reach: Django wraps it in a
    fieldset whose legend names no input, which screen readers announce unnamed.
    """

    use_fieldset = False


class EditorMedia:
    # Names the rich-text editor after its field's label, for screen readers.
    js = ["js/admin-editor.js"]


class ReviewDueFilter(admin.SimpleListFilter):
    title = "clinical review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return (
            ("overdue", "Review overdue"),
            ("due", f"Due within {REVIEW_SOON_DAYS} days or overdue"),
            ("never", "Never reviewed"),
        )

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.review_overdue()
        if self.value() == "due":
            return queryset.review_due_within(REVIEW_SOON_DAYS)
        if self.value() == "never":
            return queryset.filter(last_reviewed__isnull=True)
        return queryset


@admin.register(Topic)
class TopicAdmin(HistoryAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(Article)
class ArticleAdmin(HistoryAdmin):
    list_display = (
        "title",
        "public_state",
        "published_at",
        "next_review_due",
        "updated_at",
    )
    list_filter = ("status", "topics", ReviewDueFilter)
    search_fields = ("title", "summary", "body")
    prepopulated_fields = {"slug": ("title",)}
    # Tick boxes rather than Django's two-list selector, which is harder to use
    # with a screen reader; there are only a few topics.
    formfield_overrides = {
        models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple},
        models.ImageField: {"widget": LabelledFileWidget},
    }
    Media = EditorMedia
    date_hierarchy = "published_at"
    readonly_fields = ("created_at", "updated_at", "requests_from_it")
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "body", "topics")}),
        ("Publishing", {"fields": ("status", "published_at")}),
        ("Picture", {"fields": ("hero_image", "hero_image_alt")}),
        (
            "Clinical review",
            {"fields": ("reviewed_by", "last_reviewed", "next_review_due")},
        ),
        ("History", {"classes": ("collapse",), "fields": ("created_at", "updated_at")}),
        ("Patients it brought", {"fields": ("requests_from_it",)}),
    )

    @admin.display(description=f"requests in the last {ATTRIBUTION_DAYS} days")
    def requests_from_it(self, article):
        """
        Consultation requests whose patient followed this article's link to the
        form; a small number shows as "<5", as in the reports.
        """
        if article.pk is None:
            return "–"
        since = timezone.now() - timedelta(days=ATTRIBUTION_DAYS)
        requests = article.consultation_requests.not_spam().filter(
            created_at__gte=since
        )
        return f"{Cell(requests.count())} (counted from the article's link to the form)"

    @admin.display(description="visible to the public")
    def public_state(self, article):
        if article.is_public:
            return "Published"
        if article.is_scheduled:
            when = timezone.localtime(article.published_at).strftime("%Y-%m-%d %H:%M")
            return f"Scheduled for {when}"
        return "Draft"


@admin.register(Page)
class PageAdmin(HistoryAdmin):
    list_display = (
        "title",
        "slug",
        "show_in_navigation",
        "navigation_order",
        "updated_at",
    )
    list_editable = ("show_in_navigation", "navigation_order")
    list_filter = ("show_in_navigation",)
    search_fields = ("title", "body")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("featured_articles",)
    Media = EditorMedia
    fieldsets = (
        (None, {"fields": ("title", "slug", "meta_description", "body")}),
        ("Menu", {"fields": ("show_in_navigation", "navigation_order")}),
        (
            "Advanced options",
            {
                "classes": ("collapse",),
                "fields": ("show_clinic_details", "featured_articles"),
            },
        ),
    )


@admin.register(ClinicDetails)
class ClinicDetailsAdmin(HistoryAdmin):
    list_display = ("name", "phone", "email")

    def has_add_permission(self, request):
        return not ClinicDetails.objects.exists() and super().has_add_permission(
            request
        )

    def has_delete_permission(self, request, obj=None):
        return False

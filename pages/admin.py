from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.db import models
from django.http import QueryDict
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from bookings.reports import Cell
from roswell_site.admin import HistoryAdmin

from . import publish_checks, seo
from .dashboard import REVIEW_SOON_DAYS
from .forms import DeletedArticleAddressForm
from .models import (
    META_DESCRIPTION_LENGTH,
    Article,
    ClinicDetails,
    Page,
    Redirect,
    Topic,
)

# Search engines show about this many characters of a page's title.
SEARCH_RESULT_TITLE_LENGTH = 60

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


class ArticleMedia:
    css = {"all": ["css/admin.css"]}
    # The editor's label, then the checks panel, counters, previews and the
    # question before leaving with unsaved changes.
    js = [*EditorMedia.js, "js/admin-article.js"]


class ArticleAdminForm(forms.ModelForm):
    """The article's form, which will not publish what the publish checks block."""

    NOT_PUBLISHED = (
        "This article cannot be published until the problems marked below are "
        "fixed. To keep your changes without publishing them, set the status to "
        "Draft and save."
    )

    def _post_clean(self):
        super()._post_clean()
        # Here the typed values are on the instance, which the checks look at.
        if self.instance.status != Article.Status.PUBLISHED:
            return
        errors = publish_checks.blocking_errors(self.instance, self.typed_topics())
        if errors:
            self.add_error(None, ValidationError(self.NOT_PUBLISHED, code="blocked"))
        for finding in errors:
            message = finding.message
            if finding.text and finding.field == "body":
                message = f"{message} (“{finding.text}”)"
            field = finding.field if finding.field in self.fields else None
            self.add_error(field, ValidationError(message, code=finding.code))

    def typed_topics(self):
        """The topics ticked on the form, or None when the form has no topics."""
        if "topics" not in self.fields:
            return None
        return list(getattr(self, "cleaned_data", {}).get("topics") or [])


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
    form = ArticleAdminForm
    # Tick boxes rather than Django's two-list selector, which is harder to use
    # with a screen reader; there are only a few topics.
    formfield_overrides = {
        models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple},
        models.ImageField: {"widget": LabelledFileWidget},
    }
    Media = ArticleMedia
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

    actions = ("delete_selected",)

    def delete_view(self, request, object_id, extra_context=None):
        """Deleting a published article asks where its address should go."""
        article = self.get_object(request, unquote(object_id))
        if article is None or not article.is_public:
            return super().delete_view(request, object_id, extra_context)
        confirmed = request.method == "POST"
        form = DeletedArticleAddressForm(
            request.POST if confirmed else None, deleted=[article]
        )
        if confirmed and form.is_valid():
            request.deleted_article_address = form
        elif confirmed:
            # Django deletes on any POST: show the confirmation again instead,
            # with what was chosen and why it is not enough.
            request.POST = QueryDict()
        return super().delete_view(
            request, object_id, (extra_context or {}) | {"address_form": form}
        )

    @admin.action(permissions=["delete"], description="Delete selected articles")
    def delete_selected(self, request, queryset):
        """Django's own action, asking first where published articles should go."""
        if not any(article.is_public for article in queryset):
            return django_delete_selected(self, request, queryset)
        confirmed = "post" in request.POST
        form = DeletedArticleAddressForm(
            request.POST if confirmed else None, deleted=queryset
        )
        if confirmed and form.is_valid():
            request.deleted_article_address = form
        elif confirmed:
            request.POST = request.POST.copy()
            del request.POST["post"]
        response = django_delete_selected(self, request, queryset)
        if response is not None:
            response.context_data["address_form"] = form
        return response

    def delete_model(self, request, obj):
        self.forward_addresses(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self.forward_addresses(request, queryset)
        super().delete_queryset(request, queryset)

    def forward_addresses(self, request, articles):
        form = getattr(request, "deleted_article_address", None)
        if form is None:
            return
        target, target_path = form.target()
        for article in articles:
            if article.is_public:
                Redirect.objects.retire(article, target, target_path)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        form = context["adminform"].form
        context |= {
            "publish_findings": self.publish_findings(form, obj),
            "preview": self.preview(form, obj),
        }
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def publish_findings(self, form, article):
        """
        What the checks find in the article as typed (a form sent back with
        errors) or as saved, as errors and warnings, each with the label and id
        of the field it points at; None for a new article not yet sent.
        """
        if form.is_bound:
            found = publish_checks.findings(form.instance, form.typed_topics())
        elif article is not None:
            found = publish_checks.findings(article)
        else:
            return None
        items = [
            {
                "finding": finding,
                "label": form.fields[finding.field].label,
                # Tick boxes have no one input to label: their group's id.
                "field_id": form[finding.field].id_for_label
                or form[finding.field].auto_id,
            }
            if finding.field in form.fields
            else {"finding": finding}
            for finding in found
        ]
        return {
            "errors": [item for item in items if item["finding"].is_error],
            "warnings": [item for item in items if not item["finding"].is_error],
        }

    @staticmethod
    def preview(form, article):
        """What the search-result and link-card previews start with."""
        instance = form.instance if form.is_bound else article
        preview = instance.hero_preview if instance else None
        return {
            "title": instance.title if instance else "",
            "summary": instance.summary if instance else "",
            "slug": instance.slug if instance else "",
            "site_url": seo.absolute_url("/"),
            "domain": seo.site_domain(),
            "path": reverse("pages:article_list"),
            "image": preview["url"] if preview else static(seo.DEFAULT_SHARE_IMAGE),
            "clinic_name": ClinicDetails.load().name,
            "title_length": SEARCH_RESULT_TITLE_LENGTH,
            "summary_length": META_DESCRIPTION_LENGTH,
        }

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


@admin.register(Redirect)
class RedirectAdmin(HistoryAdmin):
    list_display = ("old_path", "goes_to", "answer", "hits", "last_hit")
    list_filter = ("answer",)
    list_select_related = ("article", "page", "topic")
    search_fields = (
        "old_path",
        "target_path",
        "article__title",
        "page__title",
        "topic__name",
    )
    readonly_fields = ("hits", "last_hit", "created_at")
    fieldsets = (
        (None, {"fields": ("old_path", "answer")}),
        (
            "Where visitors go",
            {
                "description": "Choose one: an article, a page, a topic or another "
                "address. Leave all empty for “Removed”. An address changed on an "
                "article, page or topic is redirected without anything to do here.",
                "fields": ("article", "page", "topic", "target_path"),
            },
        ),
        ("Visits", {"fields": ("hits", "last_hit", "created_at")}),
    )

    @admin.display(description="goes to")
    def goes_to(self, redirect):
        return "(removed)" if redirect.is_gone else redirect.url

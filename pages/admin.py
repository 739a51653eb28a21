import copy
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminFileWidget, AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Case, When
from django.db.models.fields.files import FieldFile
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from reversion.models import Version

from bookings.reports import Cell
from roswell_site.admin import HistoryAdmin

from . import publish_checks, seo
from .forms import DeletedArticleAddressForm
from .models import (
    CONTENT_FIELDS,
    META_DESCRIPTION_LENGTH,
    REVIEW_DUE_SOON_DAYS,
    Article,
    ClinicDetails,
    Page,
    Redirect,
    StaffProfile,
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


WORKFLOW_FIELD = "_workflow"

WORKFLOW_ACTIONS = {
    "submit": "Submit for review",
    "approve": "Approve",
    "send_back": "Send back",
    "publish": "Publish",
    "schedule": "Schedule",
    "unpublish": "Unpublish",
}

STEP_DONE = {
    "submit": "submitted for review. The clinical reviewers are e-mailed.",
    "approve": "approved. A publisher can publish it now.",
    "send_back": "sent back to its writer with your comment.",
    "publish": "published.",
    "schedule": "scheduled.",
    "unpublish": "unpublished: it is a draft again.",
}


def state_label(article, detailed=False):
    """The article's state; in detail, where its pending changes stand too."""
    state = article.state
    label = state.label
    if state == Article.State.SCHEDULED:
        when = timezone.localtime(article.published_at).strftime("%Y-%m-%d %H:%M")
        label = f"Scheduled for {when}"
    if article.has_live_version and article.has_pending_changes:
        if state == Article.State.SCHEDULED:
            label += ", with pending changes"
        label += f" ({article.get_review_state_display().lower()})"
    if detailed and article.review_state == Article.Review.CHANGES_REQUESTED:
        label += f". The reviewer asks: “{article.review_comment}”"
    return label


class ArticleMedia:
    css = {"all": ["css/admin.css"]}
    # The editor's label, then the checks panel, counters, previews and the
    # question before leaving with unsaved changes.
    js = [*EditorMedia.js, "js/admin-article.js"]


class ReviewDueFilter(admin.SimpleListFilter):
    title = "clinical review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return (
            ("overdue", "Review overdue"),
            ("due", f"Due within {REVIEW_DUE_SOON_DAYS} days or overdue"),
            ("never", "Never reviewed"),
        )

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.review_overdue()
        if self.value() == "due":
            return queryset.review_due_within(REVIEW_DUE_SOON_DAYS)
        if self.value() == "never":
            return queryset.filter(last_reviewed__isnull=True)
        return queryset


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return Article.State.choices

    def queryset(self, request, queryset):
        if self.value() in Article.State.values:
            return queryset.in_state(self.value())
        return queryset


class WaitingForMyReviewFilter(admin.SimpleListFilter):
    title = "my reviews"
    parameter_name = "for_me"

    def lookups(self, request, model_admin):
        if request.user.has_perm("pages.approve_article"):
            return (("waiting", "Waiting for my review"),)
        return ()

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.waiting_for_review_by(request.user)
        return queryset


@admin.register(Topic)
class TopicAdmin(HistoryAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


class WorkflowButtons(forms.Widget):
    """The review and publishing steps open to this member of staff, as buttons."""

    use_fieldset = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.actions = []

    def render(self, name, value, attrs=None, renderer=None):
        if not self.actions:
            return format_html("<p>{}</p>", "Nothing to do here for you at this stage.")
        buttons = format_html_join(
            " ",
            '<button type="submit" class="button" name="{}" value="{}">{}</button>',
            (
                (WORKFLOW_FIELD, action, WORKFLOW_ACTIONS[action])
                for action in self.actions
            ),
        )
        return format_html('<div class="workflow-actions">{}</div>', buttons)

    def value_from_datadict(self, data, files, name):
        return data.get(WORKFLOW_FIELD, "")


class ArticleAdminForm(forms.ModelForm):
    """
    The article's fields; on a published article, its working copy. The steps of
    the review workflow are buttons, with the reviewer's comment and the date
    to schedule for beside them.
    """

    workflow_comment = forms.CharField(
        label="Comment for the writer",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to send the article back: what needs to change, and why.",
    )
    publish_at = forms.SplitDateTimeField(
        label="Publish on",
        required=False,
        widget=AdminSplitDateTime,
        help_text="For “Schedule”: the date and time the article goes public.",
    )
    workflow = forms.CharField(
        label="Review and publishing",
        required=False,
        widget=WorkflowButtons,
        help_text="Each step saves your edits first.",
    )

    allowed_actions = ()
    # An earlier version's fields, when reverting to it from the history.
    earlier_text = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workflow"].widget.actions = list(self.allowed_actions)
        text = self.earlier_text or self.instance.working_copy
        if text:
            picture = text["hero_image"]
            self.initial.update(
                {field: text[field] for field in CONTENT_FIELDS},
                topics=[getattr(topic, "pk", topic) for topic in text["topics"]],
                hero_image=getattr(picture, "name", picture)
                and FieldFile(
                    self.instance,
                    Article._meta.get_field("hero_image"),
                    getattr(picture, "name", picture),
                ),
            )

    def clean(self):
        cleaned_data = super().clean()
        action = self.cleaned_data.get("workflow")
        if action and action not in self.allowed_actions:
            raise ValidationError(
                "This step is not open to you at this stage.", code="step_not_allowed"
            )
        if (
            action == "send_back"
            and not cleaned_data.get("workflow_comment", "").strip()
        ):
            self.add_error(
                "workflow_comment",
                ValidationError(
                    "Please say what needs to change before sending the article back.",
                    code="comment_required",
                ),
            )
        if action == "schedule":
            publish_at = cleaned_data.get("publish_at")
            if publish_at is None or publish_at <= timezone.now():
                self.add_error(
                    "publish_at",
                    ValidationError(
                        "Please choose a publication date and time in the future.",
                        code="schedule_not_in_future",
                    ),
                )
        return cleaned_data

    def typed_topics(self):
        """The topics ticked on the form, or None when the form has no topics."""
        if "topics" not in self.fields:
            return None
        return list(getattr(self, "cleaned_data", {}).get("topics") or [])


@admin.register(Article)
class ArticleAdmin(HistoryAdmin):
    list_display = (
        "title",
        "state_column",
        "published_at",
        "next_review_due",
        "updated_at",
    )
    list_filter = (StateFilter, WaitingForMyReviewFilter, "topics", ReviewDueFilter)
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
    readonly_fields = (
        "state_description",
        "published_at",
        "reviewed_by",
        "last_reviewed",
        "next_review_due",
        "created_at",
        "updated_at",
        "requests_from_it",
    )
    actions = (
        "submit_selected",
        "approve_selected",
        "publish_selected",
        "unpublish_selected",
        "delete_selected",
    )

    def get_fieldsets(self, request, obj=None):
        workflow = ["state_description", "published_at"]
        # Only a change form has buttons: a view-only one shows the state.
        if obj and self.has_change_permission(request, obj):
            actions = obj.actions_for(request.user)
            if "send_back" in actions:
                workflow.append("workflow_comment")
            if "schedule" in actions:
                workflow.append("publish_at")
            workflow.append("workflow")
        return (
            (None, {"fields": ("title", "slug", "summary", "body", "topics")}),
            ("Review and publishing", {"fields": workflow}),
            ("Picture", {"fields": ("hero_image", "hero_image_alt")}),
            (
                "Clinical review",
                {"fields": ("reviewed_by", "last_reviewed", "next_review_due")},
            ),
            (
                "History",
                {"classes": ("collapse",), "fields": ("created_at", "updated_at")},
            ),
            ("Patients it brought", {"fields": ("requests_from_it",)}),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        actions = obj.actions_for(request.user) if obj else ()
        return type(
            form.__name__,
            (form,),
            {
                "allowed_actions": tuple(actions),
                "earlier_text": getattr(request, "earlier_text", None),
            },
        )

    def get_ordering(self, request):
        """Reviewers see what waits for review first, the longest waiting first."""
        if request.user.has_perm("pages.approve_article"):
            in_review_first = Case(
                When(review_state=Article.Review.IN_REVIEW, then=0), default=1
            )
            return (in_review_first.asc(), "submitted_at", "-created_at")
        return super().get_ordering(request)

    def has_approve_permission(self, request):
        return request.user.has_perm("pages.approve_article")

    def has_publish_permission(self, request):
        return request.user.has_perm("pages.publish_article")

    def save_model(self, request, obj, form, change):
        if change and obj.has_live_version:
            live = Article.objects.get(pk=obj.pk)
            edits = {field: form.cleaned_data[field] for field in CONTENT_FIELDS}
            topic_ids = [topic.pk for topic in form.cleaned_data["topics"]]
            live.keep_working_copy(edits, topic_ids)
        else:
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # A published article's topics wait in its working copy.
        if not (change and form.instance.has_live_version):
            super().save_related(request, form, formsets, change)
        if action := form.cleaned_data.get("workflow"):
            self.take_step(request, form.instance.pk, action, form.cleaned_data)

    def take_step(self, request, pk, action, cleaned_data):
        article = Article.objects.get(pk=pk)
        user = request.user
        steps = {
            "submit": lambda: article.submit_for_review(by=user),
            "approve": lambda: article.approve(by=user),
            "send_back": lambda: article.send_back(
                by=user, comment=cleaned_data["workflow_comment"]
            ),
            "publish": lambda: article.publish(by=user),
            "schedule": lambda: article.schedule(
                by=user, at=cleaned_data["publish_at"]
            ),
            "unpublish": lambda: article.unpublish(by=user),
        }
        try:
            steps[action]()
        except ValidationError as refusal:
            for message in refusal.messages:
                self.message_user(request, message, messages.ERROR)
            return
        self.message_user(
            request, f"“{article}”: {STEP_DONE[action]}", messages.SUCCESS
        )

    def response_change(self, request, obj):
        if request.POST.get(WORKFLOW_FIELD):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        """
        Reverting puts an earlier version's text into the editor, to be saved
        like any edit: on a published article into its working copy, needing
        approval and publication again. Unlike django-reversion's revert, no
        earlier state, approval or publication date is ever restored.
        """
        article = self.history_object(request, object_id)
        if request.method == "POST" and not self.has_change_permission(
            request, article
        ):
            raise PermissionDenied
        version = get_object_or_404(
            Version.objects.get_for_object(article), pk=version_id
        )
        request.earlier_text = version.field_dict
        context = {"title": f"Revert {version.object_repr}", "revert": True}
        with self.create_revision(request):
            response = self.changeform_view(
                request, object_id, request.path, context | (extra_context or {})
            )
        if response.status_code == 200:
            response.template_name = self._reversion_get_template_list(
                "revision_form.html"
            )
        return response

    def recover_view(self, request, version_id, extra_context=None):
        # A deleted article comes back as it was, published or not.
        if not self.has_publish_permission(request):
            raise PermissionDenied
        return super().recover_view(request, version_id, extra_context)

    @admin.display(description="state")
    def state_column(self, article):
        return state_label(article)

    @admin.display(description="state")
    def state_description(self, article):
        return state_label(article, detailed=True)

    def run_bulk_step(self, request, queryset, step, done):
        taken, refused = 0, []
        for article in queryset:
            try:
                step(article)
            except ValidationError as refusal:
                refused.append(f"“{article}”: {' '.join(refusal.messages)}")
            else:
                taken += 1
        if taken:
            self.message_user(request, f"{taken} article(s) {done}.", messages.SUCCESS)
        for refusal in refused:
            self.message_user(request, refusal, messages.ERROR)

    @admin.action(
        description="Submit selected articles for review", permissions=["change"]
    )
    def submit_selected(self, request, queryset):
        self.run_bulk_step(
            request,
            queryset,
            lambda article: article.submit_for_review(by=request.user),
            "submitted for review",
        )

    @admin.action(description="Approve selected articles", permissions=["approve"])
    def approve_selected(self, request, queryset):
        self.run_bulk_step(
            request,
            queryset,
            lambda article: article.approve(by=request.user),
            "approved",
        )

    @admin.action(description="Publish selected articles now", permissions=["publish"])
    def publish_selected(self, request, queryset):
        self.run_bulk_step(
            request,
            queryset,
            lambda article: article.publish(by=request.user),
            "published",
        )

    @admin.action(description="Unpublish selected articles", permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        self.run_bulk_step(
            request,
            queryset,
            lambda article: article.unpublish(by=request.user),
            "unpublished",
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
        article = self.article_as_shown(form, obj)
        context |= {
            "publish_findings": self.publish_findings(form, article),
            "preview": self.preview(article),
        }
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    @staticmethod
    def article_as_shown(form, article):
        """
        The article as the form shows it, as publishing would make it public:
        as typed (a form sent back with errors), else as saved with its working
        copy applied; None for a new article not yet sent.
        """
        if form.is_bound:
            typed = copy.copy(form.instance)
            # The typed text, not a stored working copy, is what would go public.
            typed.working_copy = None
            return typed
        return article.to_be_published() if article is not None else None

    def publish_findings(self, form, article):
        """
        What the checks find in the article as shown, as errors and warnings,
        each with the label and id of the field it points at; None for a new
        article not yet sent.
        """
        if article is None:
            return None
        topics = form.typed_topics() if form.is_bound else None
        found = publish_checks.findings(article, topics)
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
    def preview(instance):
        """What the search-result and link-card previews start with."""
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


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    """
    My profile: each member of staff sees and edits their own name and
    credentials, the byline of the articles they approve; superusers, anyone's.
    """

    list_display = ("byline", "user")
    search_fields = ("display_name", "user__username")

    def is_staff(self, request):
        return request.user.is_active and request.user.is_staff

    def is_own(self, request, profile):
        return profile is None or profile.user_id == request.user.pk

    def has_module_permission(self, request):
        return self.is_staff(request)

    def has_view_permission(self, request, obj=None):
        return self.is_staff(request) and (
            request.user.is_superuser or self.is_own(request, obj)
        )

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request):
        # Asked by the menu of every admin page: whether this person already has
        # a profile is left to the pages below, which send them to it.
        return self.is_staff(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_queryset(self, request):
        profiles = super().get_queryset(request).select_related("user")
        if request.user.is_superuser:
            return profiles
        return profiles.filter(user=request.user)

    def get_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ("user", "display_name", "credentials")
        return ("display_name", "credentials")

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.user = request.user
        super().save_model(request, obj, form, change)

    def changelist_view(self, request, extra_context=None):
        """Staff go straight to their own profile, or make it."""
        if request.user.is_superuser or not self.is_staff(request):
            return super().changelist_view(request, extra_context)
        profile = StaffProfile.objects.filter(user=request.user).first()
        if profile:
            return redirect("admin:pages_staffprofile_change", profile.pk)
        return redirect("admin:pages_staffprofile_add")

    def add_view(self, request, form_url="", extra_context=None):
        """Staff who have a profile already are sent to it: one each."""
        if not request.user.is_superuser:
            profile = StaffProfile.objects.filter(user=request.user).first()
            if profile:
                return redirect("admin:pages_staffprofile_change", profile.pk)
        return super().add_view(request, form_url, extra_context)


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

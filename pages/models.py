import calendar
import functools
import hashlib
import html
import json
import re
from datetime import date, timedelta
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models import F, Q
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, slugify
from django_prose_editor.fields import ProseEditorField, create_sanitizer

from bookings.models import ClaimedMessage

from .images import HeroImageField, preview_copy, webp_renditions, without_metadata

# What the editor offers is also exactly what the server keeps: the allowlist
# of tags and attributes is generated from this list, so whatever a browser
# sends, scripts, event handlers, inline styles and javascript: links are gone.
BODY_EXTENSIONS = {
    "Blockquote": True,
    "Bold": True,
    "BulletList": True,
    "HardBreak": True,
    "Heading": {"levels": [2, 3, 4]},
    "Italic": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto", "tel"]},
    "ListItem": True,
    "OrderedList": True,
}

sanitize_body = create_sanitizer(BODY_EXTENSIONS)

META_DESCRIPTION_LENGTH = 160

# Widths of the hero image's WebP copies: phones to large screens at 2x.
HERO_IMAGE_WIDTHS = (400, 800, 1200, 1600)

# Open Graph's usual width for the copy that link previews show.
HERO_IMAGE_PREVIEW_WIDTH = 1200

TOC_HEADING = re.compile(r"<h([23])>(.*?)</h\1>", re.DOTALL)

# What staff edit in an article: on a published article, edits to these wait in
# its working copy until they are approved and published.
CONTENT_FIELDS = ("title", "slug", "summary", "body", "hero_image", "hero_image_alt")

# What a clinical reviewer approves: a change to any of these needs approval again.
APPROVED_FIELDS = ("title", "summary", "body", "hero_image", "hero_image_alt")

REVIEW_STAMP_FIELDS = ("reviewed_by", "last_reviewed", "next_review_due")

# Reviews due this soon count with the overdue ones: in the reviewers' digest,
# the admin's "Needs attention now" and its "review due" filter.
REVIEW_DUE_SOON_DAYS = 30


def body_field(help_text):
    return ProseEditorField(
        extensions=BODY_EXTENSIONS, sanitize=True, blank=True, help_text=help_text
    )


def add_months(day, months):
    """The same day of the month `months` later, or that month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def fingerprint(text):
    """A digest of what a reviewer approves, to tell when it changed since."""
    approved = {field: text[field] for field in APPROVED_FIELDS}
    return hashlib.sha256(json.dumps(approved, sort_keys=True).encode()).hexdigest()


def workflow_step(method):
    """
    A step of the review workflow, taken on the article as saved (whatever an
    older copy in memory says), locked until its transaction commits.
    """

    @functools.wraps(method)
    def step(self, *args, **kwargs):
        with transaction.atomic():
            self.refresh_from_db(from_queryset=Article.objects.select_for_update())
            return method(self, *args, **kwargs)

    return step


def validate_image_size(image):
    if image.size > settings.HERO_IMAGE_MAX_BYTES:
        raise ValidationError(
            "This image is %(size)s. Please upload an image of at most %(limit)s.",
            code="image_too_large",
            params={
                "size": filesizeformat(image.size),
                "limit": filesizeformat(settings.HERO_IMAGE_MAX_BYTES),
            },
        )


class BodyWithContents:
    """Adds heading anchors and a table of contents to a model's sanitised body."""

    @cached_property
    def _anchored_body(self):
        contents = []
        used_anchors = set()

        def add_anchor(match):
            level, inner_html = match.groups()
            text = html.unescape(strip_tags(inner_html)).strip()
            anchor = base = slugify(text) or "section"
            counter = 2
            while anchor in used_anchors:
                anchor = f"{base}-{counter}"
                counter += 1
            used_anchors.add(anchor)
            contents.append({"level": int(level), "text": text, "anchor": anchor})
            return f'<h{level} id="{anchor}">{inner_html}</h{level}>'

        anchored = TOC_HEADING.sub(add_anchor, self.body)
        return mark_safe(anchored), contents  # noqa: S308 - the body is sanitised on save

    @property
    def body_html(self):
        """The body with an id on each h2/h3, for the table of contents' links."""
        return self._anchored_body[0]

    @property
    def table_of_contents(self):
        """The body's h2 and h3 headings, in order, each with its anchor."""
        return self._anchored_body[1]


class LeavesRedirectOnMove:
    """
    A record with a public address made from its slug. Saving it with another
    slug while it is public leaves a permanent redirect at the old address, so
    that links shared and indexed keep working.
    """

    def save(self, *args, **kwargs):
        with transaction.atomic():
            old_address = self.stored_live_address(kwargs.get("update_fields"))
            super().save(*args, **kwargs)
            self.redirect_from(old_address)

    @classmethod
    def live(cls):
        """The records that visitors can see at their address."""
        return cls._default_manager.all()

    def address_with_slug(self, slug):
        return type(self)(slug=slug).get_absolute_url()

    def stored_live_address(self, update_fields):
        """The public address this record has in the database, if any."""
        if self.pk is None or (
            update_fields is not None and "slug" not in update_fields
        ):
            return None
        stored = self.live().filter(pk=self.pk).values_list("slug", flat=True).first()
        return None if stored is None else self.address_with_slug(stored)

    def redirect_from(self, old_address):
        """After a save: send the old address here if the live address changed."""
        if old_address not in (None, self.get_absolute_url(), reverse("pages:home")):
            Redirect.objects.moved(old_address, self)


class TopicQuerySet(models.QuerySet):
    def with_published_articles(self):
        """Topics the public can find: those with at least one published article."""
        return self.filter(
            pk__in=Article.objects.published()
            .filter(topics__isnull=False)
            .values("topics")
        )


class Topic(LeavesRedirectOnMove, models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text="The topic's web address, made from its name.",
    )
    description = models.TextField(
        blank=True, help_text="A sentence or two shown at the top of the topic's page."
    )

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("pages:topic", kwargs={"slug": self.slug})


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """Articles the public may read: published, and not scheduled for later."""
        return self.filter(
            status=Article.Status.PUBLISHED, published_at__lte=timezone.now()
        )

    def scheduled(self):
        """Published articles whose publication date is still to come."""
        return self.filter(
            status=Article.Status.PUBLISHED, published_at__gt=timezone.now()
        )

    def review_overdue(self):
        return self.filter(next_review_due__lt=timezone.localdate())

    def review_due_soon(self):
        """
        Published and scheduled articles whose clinical review is overdue or due
        within REVIEW_DUE_SOON_DAYS, the most urgent first.
        """
        return (
            self.filter(status=Article.Status.PUBLISHED)
            .review_due_within(REVIEW_DUE_SOON_DAYS)
            .order_by("next_review_due", "title")
        )

    def in_state(self, state):
        """Articles in one of Article.State, as the admin's list shows them."""
        now = timezone.now()
        draft = Q(status=Article.Status.DRAFT)
        public = Q(status=Article.Status.PUBLISHED, published_at__lte=now)
        conditions = {
            Article.State.DRAFT: draft & Q(review_state=Article.Review.EDITING),
            Article.State.IN_REVIEW: draft & Q(review_state=Article.Review.IN_REVIEW),
            Article.State.CHANGES_REQUESTED: draft
            & Q(review_state=Article.Review.CHANGES_REQUESTED),
            Article.State.APPROVED: draft & Q(review_state=Article.Review.APPROVED),
            Article.State.SCHEDULED: Q(
                status=Article.Status.PUBLISHED, published_at__gt=now
            ),
            Article.State.PUBLISHED: public & Q(working_copy__isnull=True),
            Article.State.PENDING_CHANGES: public & Q(working_copy__isnull=False),
        }
        return self.filter(conditions[state])

    def waiting_for_review_by(self, user):
        """Articles submitted for review by someone other than this reviewer."""
        return self.filter(review_state=Article.Review.IN_REVIEW).exclude(
            submitted_by=user
        )

    def review_due_within(self, days):
        """Articles whose review is overdue or due in the next `days` days."""
        return self.filter(
            next_review_due__lte=timezone.localdate() + timedelta(days=days)
        )

    def search(self, terms):
        """
        Articles matching the words typed, best first. PostgreSQL ranks them by
        full-text search (title above summary above body, English word stems);
        elsewhere every word must appear somewhere in the article.
        """
        if connections[self.db].vendor == "postgresql":
            query = SearchQuery(terms, config="english", search_type="websearch")
            vector = (
                SearchVector("title", weight="A", config="english")
                + SearchVector("summary", weight="B", config="english")
                + SearchVector("body", weight="C", config="english")
            )
            return (
                self.annotate(document=vector, rank=SearchRank(vector, query))
                .filter(document=query)
                .order_by("-rank", "-published_at")
            )
        matches_every_word = Q()
        for word in terms.split():
            matches_every_word &= (
                Q(title__icontains=word)
                | Q(summary__icontains=word)
                | Q(body__icontains=word)
            )
        return self.filter(matches_every_word)


class Article(LeavesRedirectOnMove, BodyWithContents, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    class Review(models.TextChoices):
        EDITING = "editing", "Being written"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"

    class State(models.TextChoices):
        """Where an article is in its way to the public, as staff see it."""

        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"
        PENDING_CHANGES = "pending_changes", "Published with pending changes"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="The article's web address, made from the title. Changing it breaks "
        "links that others have shared.",
    )
    summary = models.CharField(
        max_length=META_DESCRIPTION_LENGTH,
        help_text="One or two sentences shown under the title, in article lists and in "
        "search results (at most 160 characters).",
    )
    body = body_field("The article itself. Use headings to divide it into sections.")
    hero_image = HeroImageField(
        upload_to="articles/",
        blank=True,
        validators=[validate_image_size],
        help_text="Optional picture shown at the top of the article. Details of "
        "where and when it was taken, and of the camera, are removed when it is "
        "saved.",
    )
    hero_image_alt = models.CharField(
        "hero image description",
        max_length=250,
        blank=True,
        help_text="Describe the picture for people who cannot see it. Required when "
        "there is a picture.",
    )
    hero_image_renditions = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="The picture's WebP copies in several widths and its copy for "
        "link previews, made when it is saved.",
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="articles")
    status = models.CharField(
        max_length=10,
        choices=Status,
        default=Status.DRAFT,
        editable=False,
        help_text="Drafts are only visible to staff. Publishers publish an article "
        "once a clinical reviewer has approved it.",
    )
    published_at = models.DateTimeField(
        "publication date",
        null=True,
        blank=True,
        editable=False,
        help_text="When the article goes public: the moment it is published, or "
        "the date it is scheduled for.",
    )
    review_state = models.CharField(
        "clinical review",
        max_length=20,
        choices=Review,
        default=Review.EDITING,
        editable=False,
    )
    approved_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="A digest of the text the reviewer approved: any change to it "
        "needs approval again.",
    )
    working_copy = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="Edits to a published article, kept aside until they are "
        "approved and published; the public sees the published version meanwhile.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_comment = models.TextField(
        "reviewer's comment",
        blank=True,
        editable=False,
        help_text="What the reviewer asked to change when sending the article back.",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    reviewed_by = models.CharField(
        "medically reviewed by",
        max_length=200,
        blank=True,
        editable=False,
        help_text="The approving reviewer's name and credentials, from their staff "
        "profile, as shown on the article.",
    )
    last_reviewed = models.DateField(
        "last reviewed", null=True, blank=True, editable=False
    )
    next_review_due = models.DateField(
        "next review due",
        null=True,
        blank=True,
        editable=False,
        help_text="When the clinical content should be checked again: "
        "PAGES_REVIEW_INTERVAL_MONTHS after each approval.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hero_image="") | ~Q(hero_image_alt=""),
                name="article_hero_image_has_alt_text",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="article_published_has_date",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("summary"), META_DESCRIPTION_LENGTH),
                name="article_summary_fits_meta_description",
            ),
            models.CheckConstraint(
                condition=~Q(review_state="approved") | ~Q(approved_fingerprint=""),
                name="article_approval_records_the_text",
            ),
        ]
        permissions = [
            ("approve_article", "Can approve articles' clinical content"),
            ("publish_article", "Can publish, schedule and unpublish articles"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body = sanitize_body(self.body)
        self.date_if_published_now()
        self.forget_outdated_approval()
        if not self.hero_image:
            self.hero_image_renditions = {}
        super().save(*args, **kwargs)
        # The upload is stored by the save above, under its final name.
        if self.hero_image and self.hero_image_renditions.get("source") != str(
            self.hero_image.name
        ):
            self.hero_image_renditions = webp_renditions(
                self.hero_image, HERO_IMAGE_WIDTHS
            ) | {"preview": preview_copy(self.hero_image, HERO_IMAGE_PREVIEW_WIDTH)}
            super().save(update_fields=["hero_image_renditions"])

    def get_absolute_url(self):
        return reverse("pages:article", kwargs={"slug": self.slug})

    @classmethod
    def live(cls):
        return cls.objects.published()

    def clean(self):
        # Before the constraints are validated, so "publish now" passes them.
        self.date_if_published_now()
        if self.hero_image and not self.hero_image_alt.strip():
            message = "Please describe the picture for people who cannot see it."
            raise ValidationError(
                {"hero_image_alt": ValidationError(message, code="alt_text_required")}
            )

    def date_if_published_now(self):
        """Publishing without a publication date means publishing now."""
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()

    def forget_outdated_approval(self):
        """An approval holds only for the text approved: after a change, it is gone."""
        if self.review_state == self.Review.APPROVED and (
            self.approved_fingerprint != fingerprint(self.pending_text())
        ):
            self.review_state = self.Review.EDITING
            if self.working_copy:
                self.working_copy.pop("review", None)

    @property
    def has_live_version(self):
        """Published or scheduled: edits wait in the working copy."""
        return self.status == self.Status.PUBLISHED

    @property
    def has_pending_changes(self):
        return self.working_copy is not None

    def live_text(self):
        """The content fields as the article's own row holds them."""
        text = {field: getattr(self, field) for field in CONTENT_FIELDS}
        return text | {"hero_image": self.hero_image.name or ""}

    def pending_text(self):
        """What the next publication would make public: the working copy, if any."""
        return self.working_copy or self.live_text()

    @property
    def is_approved(self):
        """Whether a clinical reviewer approved the text that would be published."""
        return (
            self.review_state == self.Review.APPROVED
            and self.approved_fingerprint == fingerprint(self.pending_text())
        )

    @property
    def state(self):
        """Where the article is on its way to the public: one of Article.State."""
        if self.status == self.Status.PUBLISHED:
            if not self.is_public:
                return self.State.SCHEDULED
            if self.has_pending_changes:
                return self.State.PENDING_CHANGES
            return self.State.PUBLISHED
        if self.review_state == self.Review.EDITING:
            return self.State.DRAFT
        return self.State(self.review_state)

    def actions_for(self, user):
        """The steps of the review workflow open to this user at this stage."""
        actions = []
        approved = self.is_approved
        # Offered to whoever may edit: the edits made with it are saved first.
        if user.has_perm("pages.change_article"):
            if self.review_state != self.Review.IN_REVIEW:
                actions.append("submit")
        if user.has_perm("pages.approve_article"):
            # A published text, approved before, is approved again at its review.
            rereview = self.has_live_version and not self.has_pending_changes
            if not approved or rereview:
                actions.append("approve")
            if self.review_state == self.Review.IN_REVIEW:
                actions.append("send_back")
        if user.has_perm("pages.publish_article"):
            if approved and (not self.is_public or self.has_pending_changes):
                actions.append("publish")
            if approved and not self.is_public:
                actions.append("schedule")
            if self.has_live_version:
                actions.append("unpublish")
        return actions

    def stored_picture_name(self, picture):
        """
        The storage name of a picture from the admin's form: an upload is stored
        now (without its metadata, as HeroImageField does), to go public later.
        """
        if not picture:
            return ""
        if isinstance(picture, FieldFile):
            return picture.name
        content, extension = without_metadata(picture)
        field = self._meta.get_field("hero_image")
        name = field.generate_filename(
            self, str(PurePosixPath(picture.name).with_suffix(extension))
        )
        return field.storage.save(name, content)

    @workflow_step
    def keep_working_copy(self, edits, topic_ids):
        """
        Keep edits to a published article aside, leaving the public version as
        it is: `edits` has the CONTENT_FIELDS, with the picture as the admin's
        form gives it. Edits that match the public version leave nothing pending.
        """
        edits = edits | {
            "body": sanitize_body(edits["body"]),
            "hero_image": self.stored_picture_name(edits["hero_image"]),
        }
        topic_ids = sorted(topic_ids)
        live_topic_ids = sorted(self.topics.values_list("pk", flat=True))
        if edits == self.live_text() and topic_ids == live_topic_ids:
            self.working_copy = None
        else:
            review = (self.working_copy or {}).get("review")
            self.working_copy = edits | {"topics": topic_ids}
            if review:
                self.working_copy["review"] = review
        self.forget_outdated_approval()
        # Not updated_at: the public page shows when the public version changed.
        self.save(update_fields=["working_copy", "review_state"])

    def apply_working_copy(self):
        """
        Put the working copy onto the article's own fields (in memory), and
        return its topics' ids, or None without a working copy.
        """
        if not self.working_copy:
            return None
        for field in CONTENT_FIELDS:
            setattr(self, field, self.working_copy[field])
        if review := self.working_copy.get("review"):
            self.reviewed_by = review["reviewed_by"]
            self.last_reviewed = date.fromisoformat(review["last_reviewed"])
            self.next_review_due = date.fromisoformat(review["next_review_due"])
        topic_ids = self.working_copy["topics"]
        self.working_copy = None
        return topic_ids

    def preview_of_working_copy(self):
        """
        For staff preview: this article as it will look once its pending
        changes are published (an unsaved copy, topics included).
        """
        preview = Article.objects.get(pk=self.pk)
        live_picture = preview.hero_image.name
        topic_ids = preview.apply_working_copy()
        if preview.hero_image.name != live_picture:
            # The copies for the page are made when the new picture is published.
            preview.hero_image_renditions = {}
        preview._prefetched_objects_cache = {
            "topics": Topic.objects.filter(pk__in=topic_ids)
        }
        preview.shows_pending_changes = True
        return preview

    def to_be_published(self):
        """This article as publishing it would make it: its working copy applied."""
        return self.preview_of_working_copy() if self.has_pending_changes else self

    def refuse_unless_checks_pass(self):
        """Refuse to publish what the publish checks block, listing why."""
        from . import publish_checks  # publish_checks imports this module

        errors = publish_checks.blocking_errors(self.to_be_published())
        if errors:
            raise ValidationError(
                [
                    ValidationError(
                        "This article cannot be published until these problems "
                        "are fixed:",
                        code="publish_checks",
                    ),
                    *(
                        ValidationError(str(finding), code="publish_checks")
                        for finding in errors
                    ),
                ]
            )

    def refuse_unless_allowed(self, user, permission, action):
        if not user.has_perm(permission):
            raise ValidationError(
                "You may not %(action)s articles.",
                code="permission_denied",
                params={"action": action},
            )

    @workflow_step
    def submit_for_review(self, by):
        """Ask the clinical reviewers to review the text; they are e-mailed."""
        self.refuse_unless_allowed(by, "pages.change_article", "submit")
        if self.review_state == self.Review.IN_REVIEW:
            raise ValidationError(
                "This article is already waiting for review.", code="already_in_review"
            )
        if self.is_approved:
            raise ValidationError(
                "This text is already approved.", code="already_approved"
            )
        self.review_state = self.Review.IN_REVIEW
        self.submitted_by = by
        self.submitted_at = timezone.now()
        self.review_comment = ""
        self.save(
            update_fields=[
                "review_state",
                "submitted_by",
                "submitted_at",
                "review_comment",
            ]
        )
        for reviewer in reviewers().exclude(pk=by.pk):
            ReviewMessage.objects.queue(
                ReviewMessage.Kind.SUBMITTED, reviewer, article=self
            )

    @workflow_step
    def approve(self, by):
        """
        Approve the text for publication, stamped with the reviewer's name and
        credentials, today's date and the next review's date. On a published
        article with pending changes, the stamps wait with them.
        """
        self.refuse_unless_allowed(by, "pages.approve_article", "approve")
        if self.is_approved and not (
            self.has_live_version and not self.has_pending_changes
        ):
            raise ValidationError(
                "This text is already approved.", code="already_approved"
            )
        today = timezone.localdate()
        stamps = {
            "reviewed_by": StaffProfile.byline_of(by),
            "last_reviewed": today,
            "next_review_due": add_months(today, settings.PAGES_REVIEW_INTERVAL_MONTHS),
        }
        if self.has_pending_changes:
            self.working_copy["review"] = {
                field: value if field == "reviewed_by" else value.isoformat()
                for field, value in stamps.items()
            }
        else:
            for field, value in stamps.items():
                setattr(self, field, value)
        self.mark_text_approved()
        self.approved_by = by
        self.review_comment = ""
        self.save(
            update_fields=[
                *REVIEW_STAMP_FIELDS,
                "working_copy",
                "review_state",
                "approved_fingerprint",
                "approved_by",
                "review_comment",
            ]
        )
        self.tell_writer(ReviewMessage.Kind.APPROVED, by)

    def mark_text_approved(self):
        """Record the text to be published, as it is now, as the approved one."""
        self.review_state = self.Review.APPROVED
        self.approved_fingerprint = fingerprint(self.pending_text())

    @workflow_step
    def send_back(self, by, comment):
        """Return the text to its writer with what to change; they are e-mailed."""
        self.refuse_unless_allowed(by, "pages.approve_article", "send back")
        if self.review_state != self.Review.IN_REVIEW:
            raise ValidationError(
                "Only an article waiting for review can be sent back.",
                code="not_in_review",
            )
        comment = comment.strip()
        if not comment:
            raise ValidationError(
                "Please say what needs to change before sending the article back.",
                code="comment_required",
            )
        self.review_state = self.Review.CHANGES_REQUESTED
        self.review_comment = comment
        self.save(update_fields=["review_state", "review_comment"])
        self.tell_writer(ReviewMessage.Kind.SENT_BACK, by, comment=comment)

    def tell_writer(self, kind, by, comment=""):
        writer = self.submitted_by
        if writer and writer != by:
            ReviewMessage.objects.queue(kind, writer, article=self, comment=comment)

    @workflow_step
    def publish(self, by, at=None):
        """
        Make the approved text public: at once, or at `at` when that is in the
        future (scheduling). Pending changes of a published article replace its
        public version in one transaction. Refused (ValidationError) without the
        publish permission, a clinical approval of the text to be published, or
        while the publish checks find errors in it.
        """
        self.refuse_unless_allowed(by, "pages.publish_article", "publish")
        now = timezone.now()
        if not self.is_approved:
            raise ValidationError(
                "A clinical reviewer must approve this text before it is published.",
                code="not_approved",
            )
        if at and at > now and self.is_public:
            raise ValidationError(
                "This article is already public: its changes can only be "
                "published now.",
                code="already_public",
            )
        self.refuse_unless_checks_pass()
        topic_ids = self.apply_working_copy()
        if not (at or self.is_public):
            at = now
        self.status = self.Status.PUBLISHED
        self.published_at = at or self.published_at
        self.validate_unique()
        self.save()
        if topic_ids is not None:
            self.topics.set(topic_ids)

    def schedule(self, by, at):
        """Publish the approved text at a moment in the future."""
        if at is None or at <= timezone.now():
            raise ValidationError(
                "Please choose a publication date in the future.",
                code="schedule_not_in_future",
            )
        self.publish(by, at=at)

    @workflow_step
    def unpublish(self, by):
        """
        Take the article off the public site. It becomes a draft holding its
        latest text, pending changes included.
        """
        self.refuse_unless_allowed(by, "pages.publish_article", "unpublish")
        topic_ids = self.apply_working_copy()
        self.status = self.Status.DRAFT
        self.save()
        if topic_ids is not None:
            self.topics.set(topic_ids)

    @property
    def is_public(self):
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self):
        return self.status == self.Status.PUBLISHED and not self.is_public

    @cached_property
    def hero_picture(self):
        """The hero image's WebP copies for an <img>, or None without a picture."""
        renditions = self.hero_image_renditions.get("renditions")
        if not self.hero_image or not renditions:
            return None
        url = self.hero_image.storage.url
        widest = renditions[-1]
        return {
            "src": url(widest["name"]),
            "srcset": ", ".join(f"{url(r['name'])} {r['width']}w" for r in renditions),
            "width": widest["width"],
            "height": widest["height"],
        }

    @property
    def hero_preview(self):
        """The hero image's copy for link previews, with its url, or None."""
        preview = self.hero_image_renditions.get("preview")
        if not self.hero_image or not preview:
            return None
        return preview | {"url": self.hero_image.storage.url(preview["name"])}

    def related_articles(self, limit=3):
        return (
            Article.objects.published()
            .filter(topics__in=self.topics.all())
            .exclude(pk=self.pk)
            .distinct()[:limit]
        )


class PageQuerySet(models.QuerySet):
    def in_navigation(self):
        return self.filter(show_in_navigation=True).order_by(
            "navigation_order", "title"
        )


class Page(LeavesRedirectOnMove, BodyWithContents, models.Model):
    HOME_SLUG = "home"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text="The page's web address, made from the title. The page called “home” "
        "is the front page.",
    )
    meta_description = models.CharField(
        max_length=META_DESCRIPTION_LENGTH,
        blank=True,
        help_text="What search engines show under the page's title (at most 160 "
        "characters).",
    )
    body = body_field("The page's text. On the home page, the introduction.")
    show_in_navigation = models.BooleanField(
        default=False, help_text="List this page in the menu at the top of every page."
    )
    navigation_order = models.PositiveSmallIntegerField(
        default=0, help_text="Pages with smaller numbers come first in the menu."
    )
    show_clinic_details = models.BooleanField(
        default=False,
        help_text="Show the clinic's address, phone, e-mail and opening hours below "
        "the text (for the contact page).",
    )
    featured_articles = models.ManyToManyField(
        Article,
        blank=True,
        related_name="featured_on",
        help_text="Articles highlighted on this page (used on the home page).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["navigation_order", "title"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body = sanitize_body(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        if self.slug == self.HOME_SLUG:
            return reverse("pages:home")
        return reverse("pages:page", kwargs={"slug": self.slug})

    @property
    def description_for_search(self):
        """The meta description, or the start of the text when staff left it empty."""
        text = " ".join(html.unescape(strip_tags(self.body)).split())
        return self.meta_description or Truncator(text).chars(META_DESCRIPTION_LENGTH)


class ClinicDetails(models.Model):
    """The clinic's contact details: a single record, shown on every page."""

    name = models.CharField(max_length=200, default="Roswell Infusions")
    phone = models.CharField(
        max_length=40,
        help_text="As patients should see it, for example (770) 555-0123.",
    )
    email = models.EmailField("e-mail")
    address = models.TextField(help_text="One line per line of the postal address.")
    opening_hours = models.TextField(
        help_text="One line per line, for example “Monday–Friday: 9am–5pm”."
    )

    class Meta:
        verbose_name = "clinic details"
        verbose_name_plural = "clinic details"
        constraints = [
            models.CheckConstraint(
                condition=Q(pk=1), name="clinic_details_single_record"
            )
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        """The clinic's details, or unsaved placeholders before they are entered."""
        return cls.objects.filter(pk=1).first() or cls(phone="", email="", address="")

    @property
    def phone_href(self):
        """The phone number as a tel: link target: digits and a leading +."""
        digits = re.sub(r"[^\d+]", "", self.phone)
        if digits and not digits.startswith("+") and len(digits) == 10:
            digits = "+1" + digits
        return f"tel:{digits}"


class StaffProfile(models.Model):
    """How a member of staff is named on the site: on the articles they review."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    display_name = models.CharField(
        max_length=150,
        help_text="Your name as patients should read it, for example “Dr. Jane Doe”.",
    )
    credentials = models.CharField(
        max_length=100,
        blank=True,
        help_text="Degrees or licences shown after your name, for example “MD” or "
        "“RN, BSN”.",
    )

    class Meta:
        verbose_name = "staff profile"

    def __str__(self):
        return self.byline

    @property
    def byline(self):
        """The name and credentials: “Dr. Jane Doe, MD”."""
        if self.credentials:
            return f"{self.display_name}, {self.credentials}"
        return self.display_name

    @classmethod
    def byline_of(cls, user):
        """The user's byline, or their name from the user admin without a profile."""
        profile = cls.objects.filter(user=user).first()
        if profile:
            return profile.byline
        return user.get_full_name() or user.get_username()


def reviewers():
    """Active staff with an e-mail address who may approve articles."""
    return (
        get_user_model()
        .objects.with_perm(
            "pages.approve_article",
            include_superusers=False,
            backend="django.contrib.auth.backends.ModelBackend",
        )
        .filter(is_active=True, is_staff=True)
        .exclude(email="")
    )


class ReviewMessageQuerySet(models.QuerySet):
    def queue(self, kind, recipient, article=None, comment="", digest_date=None):
        """
        Record an e-mail of the review workflow and queue its delivery once the
        transaction commits. A digest is queued at most once a day per reviewer.
        """
        from .tasks import deliver_review_message  # tasks import this module

        if digest_date is not None:
            message, created = self.get_or_create(
                kind=kind, recipient=recipient, digest_date=digest_date
            )
            if not created:
                return message
        else:
            message = self.create(
                kind=kind, recipient=recipient, article=article, comment=comment
            )
        transaction.on_commit(lambda: deliver_review_message.enqueue(message.pk))
        return message


class ReviewMessage(ClaimedMessage, models.Model):
    """An e-mail of the review workflow, recorded when the step happens."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "Submitted for review, to a reviewer"
        APPROVED = "approved", "Approved, to the writer"
        SENT_BACK = "sent_back", "Sent back, to the writer"
        DIGEST = "digest", "Reviews due, to a reviewer"

    kind = models.CharField(max_length=20, choices=Kind)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    article = models.ForeignKey(
        Article,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_messages",
    )
    comment = models.TextField(blank=True)
    digest_date = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while a task is sending it."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Failed tries so far."
    )
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewMessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "digest_date"],
                condition=Q(kind="digest"),
                name="one_review_digest_per_reviewer_a_day",
            ),
            models.CheckConstraint(
                condition=Q(kind="digest", digest_date__isnull=False)
                | Q(~Q(kind="digest"), article__isnull=False),
                name="review_message_has_article_or_date",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d})"


# WordPress's addresses without "pretty" permalinks: /?p=ID for a post,
# /?page_id=ID for a page, /?cat=ID and /?tag=SLUG. No page of this site reads
# these parameters, so an address with one of them is looked up as a redirect
# even where the path (usually /, the home page) exists.
WORDPRESS_QUERY_PARAMETERS = ("p", "page_id", "cat", "tag")


def query_address(path, parameters):
    """The old address for a path and its WordPress parameter, or None."""
    for name in WORDPRESS_QUERY_PARAMETERS:
        if parameters.get(name):
            return f"{path}?{urlencode({name: parameters[name]})}"
    return None


def old_address(value):
    """An address as redirects store it: the path, and a WordPress parameter if any."""
    parts = urlsplit(value.strip())
    path = unquote(parts.path) or "/"
    if not path.startswith("/"):
        path = "/" + path
    parameters = dict(parse_qsl(parts.query))
    return query_address(path, parameters) or path


class RedirectQuerySet(models.QuerySet):
    def for_addresses(self, addresses):
        """
        The redirect stored for the first of these addresses that has one and
        leads somewhere visitors may go, or None: one query on the unique index.
        """
        # PostgreSQL cannot even compare text holding a NUL: no redirect has one.
        addresses = [address for address in addresses if "\x00" not in address]
        found = {
            redirect.old_path: redirect
            for redirect in self.filter(old_path__in=addresses).select_related(
                "article", "page", "topic"
            )
        }
        for address in addresses:
            redirect = found.get(address)
            if redirect and redirect.leads_somewhere:
                return redirect
        return None

    def moved(self, old_path, target):
        """Send old_path to target (an article, page or topic) for good."""
        # A redirect from where the target now is would send visitors round in
        # a circle, should it ever be reached.
        self.filter(old_path=target.get_absolute_url()).delete()
        self.update_or_create(
            old_path=old_path,
            defaults={"answer": Redirect.Answer.PERMANENT}
            | Redirect.target_fields(target),
        )

    def retire(self, record, target=None, target_path=""):
        """
        Before record (an article) is deleted: its address and every redirect
        to it go to target (or target_path), or answer "410 Gone" without one.
        """
        if target is None and not target_path:
            fields = {"answer": Redirect.Answer.GONE} | Redirect.target_fields()
        else:
            fields = {"answer": Redirect.Answer.PERMANENT} | Redirect.target_fields(
                target, target_path
            )
        self.filter(**{record._meta.model_name: record}).update(**fields)
        self.update_or_create(old_path=record.get_absolute_url(), defaults=fields)


class Redirect(models.Model):
    """An old address of the site, and where visitors who follow it should go."""

    class Answer(models.IntegerChoices):
        PERMANENT = 301, "Moved for good (301)"
        TEMPORARY = 302, "Moved for now (302)"
        GONE = 410, "Removed, no replacement (410 Gone)"

    old_path = models.CharField(
        "old address",
        max_length=500,
        unique=True,
        help_text="The address that no longer shows anything, starting with /, for "
        "example /old-article/ or, from WordPress, /?p=123. A full address "
        "(https://…) is cut down to its path.",
    )
    answer = models.PositiveSmallIntegerField(
        choices=Answer,
        default=Answer.PERMANENT,
        help_text="“Moved for good” tells search engines to list the new address "
        "instead; “Moved for now” keeps the old one in their results. “Removed” "
        "tells visitors the page is gone, on a page of the site.",
    )
    article = models.ForeignKey(
        Article,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="redirects",
        help_text="Send visitors to this article. They follow it if its address "
        "changes again.",
    )
    page = models.ForeignKey(
        Page,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="redirects",
        help_text="Or to this page.",
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="redirects",
        help_text="Or to this topic.",
    )
    target_path = models.CharField(
        "other address",
        max_length=500,
        blank=True,
        help_text="Or to any other address: on this site starting with /, for "
        "example /articles/, or a full address such as https://example.org/.",
    )
    hits = models.PositiveIntegerField(
        "visits",
        default=0,
        editable=False,
        help_text="How many times someone followed the old address.",
    )
    last_hit = models.DateTimeField("last visit", null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RedirectQuerySet.as_manager()

    class Meta:
        ordering = ["old_path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(old_path__startswith="/"),
                name="redirect_old_path_is_a_path",
            ),
            models.CheckConstraint(
                condition=(
                    Q(answer=410)
                    & Q(
                        article__isnull=True,
                        page__isnull=True,
                        topic__isnull=True,
                        target_path="",
                    )
                )
                | (
                    ~Q(answer=410)
                    & (
                        Q(
                            article__isnull=False,
                            page__isnull=True,
                            topic__isnull=True,
                            target_path="",
                        )
                        | Q(
                            article__isnull=True,
                            page__isnull=False,
                            topic__isnull=True,
                            target_path="",
                        )
                        | Q(
                            article__isnull=True,
                            page__isnull=True,
                            topic__isnull=False,
                            target_path="",
                        )
                        | (
                            Q(
                                article__isnull=True,
                                page__isnull=True,
                                topic__isnull=True,
                            )
                            & ~Q(target_path="")
                        )
                    )
                ),
                name="redirect_has_one_target_unless_gone",
                violation_error_message="A redirect sends visitors to one place, "
                "unless it says the page was removed.",
            ),
        ]

    def __str__(self):
        if self.answer == self.Answer.GONE:
            return f"{self.old_path} (removed)"
        return f"{self.old_path} → {self.url}"

    def save(self, *args, **kwargs):
        self.old_path = old_address(self.old_path)
        self.follow_target()
        super().save(*args, **kwargs)
        # Redirects that led to this old address now lead where it leads: one
        # hop, never a chain.
        Redirect.objects.filter(target_path=self.old_path).exclude(pk=self.pk).update(
            **self.target_fields(self.destination, self.target_path)
            | ({"answer": self.Answer.GONE} if self.is_gone else {})
        )
        # Never a redirect to its own address.
        Redirect.objects.filter(target_path=F("old_path")).delete()

    def clean(self):
        self.old_path = old_address(self.old_path)
        self.target_path = self.target_path.strip()
        self.follow_target()
        targets = [t for t in (self.destination, self.target_path) if t]
        # On fields, so that the constraint on them does not say it again.
        if self.is_gone and targets:
            raise ValidationError(
                {
                    "answer": ValidationError(
                        "A removed page sends visitors nowhere: empty the target, "
                        "or choose “Moved for good” or “Moved for now”.",
                        code="gone_with_target",
                    )
                }
            )
        if not self.is_gone and len(targets) != 1:
            raise ValidationError(
                {
                    "target_path": ValidationError(
                        "Choose one place to send visitors: an article, a page, a "
                        "topic or another address.",
                        code="one_target",
                    )
                }
            )
        if self.article and not self.article.is_public:
            raise ValidationError(
                {
                    "article": ValidationError(
                        "“%(title)s” is not published, so visitors would find "
                        "nothing there. Publish it first, or choose another target.",
                        code="unpublished_target",
                        params={"title": self.article.title},
                    )
                }
            )
        self.clean_target_path()
        if not self.is_gone and old_address(self.url) == self.old_path:
            raise ValidationError(
                "This would send visitors round in a circle back to the old address.",
                code="redirect_loop",
            )

    def clean_target_path(self):
        if not self.target_path or self.target_path.startswith(("http://", "https://")):
            return
        if not self.target_path.startswith("/"):
            raise ValidationError(
                {
                    "target_path": ValidationError(
                        "Start an address on this site with /, or give a full "
                        "address starting with https://.",
                        code="invalid_target",
                    )
                }
            )
        try:
            match = resolve(urlsplit(self.target_path).path)
        except Resolver404:
            return
        if match.view_name == "pages:article" and not (
            Article.objects.published().filter(slug=match.kwargs["slug"]).exists()
        ):
            raise ValidationError(
                {
                    "target_path": ValidationError(
                        "No published article has this address, so visitors would "
                        "find nothing there.",
                        code="unpublished_target",
                    )
                }
            )

    @staticmethod
    def target_fields(target=None, target_path=""):
        """The target fields for an article, page or topic (or an address)."""
        fields = {"article": None, "page": None, "topic": None, "target_path": ""}
        if target is not None:
            fields[target._meta.model_name] = target
        else:
            fields["target_path"] = target_path
        return fields

    @property
    def is_gone(self):
        return self.answer == self.Answer.GONE

    @property
    def destination(self):
        """The article, page or topic visitors are sent to, if any."""
        return self.article or self.page or self.topic

    @property
    def url(self):
        destination = self.destination
        return destination.get_absolute_url() if destination else self.target_path

    @property
    def leads_somewhere(self):
        """Whether following it now helps: its target is public and elsewhere."""
        if self.is_gone:
            return True
        if self.article and not self.article.is_public:
            return False
        return self.url != self.old_path

    def follow_target(self):
        """An address target that is another redirect's old address: go straight on."""
        if not self.target_path.startswith("/"):
            return
        following = (
            Redirect.objects.filter(old_path=old_address(self.target_path))
            .exclude(pk=self.pk)
            .exclude(answer=self.Answer.GONE)
            .first()
        )
        if following:
            self.article = following.article
            self.page = following.page
            self.topic = following.topic
            self.target_path = following.target_path

    def record_hit(self):
        """Count a visit, in the database: visits at the same moment all count."""
        Redirect.objects.filter(pk=self.pk).update(
            hits=F("hits") + 1, last_hit=timezone.now()
        )


class WordPressItem(models.Model):
    """
    A post, page, category or tag that `import_wordpress` brought in: what the
    export said of it and what the import wrote, so that running the import again
    changes only what changed in WordPress, and never what staff edited here.
    """

    class Kind(models.TextChoices):
        POST = "post", "Post"
        PAGE = "page", "Page"
        TERM = "term", "Category or tag"

    kind = models.CharField(max_length=4, choices=Kind)
    wordpress_id = models.PositiveBigIntegerField("WordPress id")
    article = models.OneToOneField(
        Article,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wordpress_item",
    )
    page = models.OneToOneField(
        Page,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wordpress_item",
    )
    topic = models.OneToOneField(
        Topic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wordpress_item",
    )
    source_fingerprint = models.CharField(
        max_length=64, help_text="A digest of the item as the export had it."
    )
    record_fingerprint = models.CharField(
        max_length=64, help_text="A digest of the record as the import wrote it."
    )
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "item imported from WordPress"
        verbose_name_plural = "items imported from WordPress"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "wordpress_id"], name="wordpress_item_once"
            )
        ]

    def __str__(self):
        return f"WordPress {self.get_kind_display().lower()} {self.wordpress_id}"

    @property
    def record(self):
        """The article, page or topic made from it; None once staff deleted it."""
        return self.article or self.page or self.topic


def record_fingerprint(record):
    """A digest of a record's content, to see whether staff edited it."""
    names = [
        f.attname
        for f in record._meta.concrete_fields
        if f.editable and not f.primary_key
    ]
    if isinstance(record, Article):
        # Not form fields, but what staff do: publishing, unpublishing, a
        # review, and edits waiting in the working copy.
        names += ["status", "published_at", "review_state", "working_copy"]
    values = [str(getattr(record, name)) for name in names]
    if isinstance(record, Article):
        values.append(sorted(record.topics.values_list("pk", flat=True)))
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()

import html
import re
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import connections, models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, slugify
from django_prose_editor.fields import ProseEditorField, create_sanitizer

from .images import HeroImageField, preview_copy, webp_renditions

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


def body_field(help_text):
    return ProseEditorField(
        extensions=BODY_EXTENSIONS, sanitize=True, blank=True, help_text=help_text
    )


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


class Topic(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text="The topic's web address, made from its name.",
    )
    description = models.TextField(
        blank=True, help_text="A sentence or two shown at the top of the topic's page."
    )

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


class Article(BodyWithContents, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="The article's web address, made from the title. Changing it breaks "
        "links that others have shared.",
    )
    summary = models.CharField(
        max_length=META_DESCRIPTION_LENGTH,
        validators=[MaxLengthValidator(META_DESCRIPTION_LENGTH)],
        help_text="One or two sentences shown under the title, in article lists and in "
        "search results (at most 160 characters).",
    )
    body = body_field("The article itself. Use headings to divide it into sections.")
    hero_image = HeroImageField(
        upload_to="articles/",
        blank=True,
        validators=[validate_image_size],
        help_text="Optional picture shown at the top of the article "
        "(JPEG, PNG or WebP, at most 10 MB). Details of where and when it was "
        "taken, and of the camera, are removed when it is saved.",
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
        help_text="Drafts are only visible to staff.",
    )
    published_at = models.DateTimeField(
        "publication date",
        null=True,
        blank=True,
        help_text="When the article goes public. A date in the future schedules it; "
        "left empty, it is set to the moment you publish.",
    )
    reviewed_by = models.CharField(
        "medically reviewed by",
        max_length=200,
        blank=True,
        help_text="Name and credentials, for example “Jane Doe, MD”.",
    )
    last_reviewed = models.DateField("last reviewed", null=True, blank=True)
    next_review_due = models.DateField(
        "next review due",
        null=True,
        blank=True,
        help_text="When the clinical content should be checked again.",
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
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body = sanitize_body(self.body)
        self.date_if_published_now()
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


class Page(BodyWithContents, models.Model):
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

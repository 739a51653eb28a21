"""
`manage.py import_wordpress EXPORT.xml [--uploads DIR] [--dry-run]`: bring a
WordPress site's posts, pages, categories, tags and featured images across, and
leave redirects at their old addresses (see the README, "Moving from WordPress").
"""

import html
import io
import urllib.request
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator, slugify

from pages.images import validate_image_upload
from pages.models import (
    META_DESCRIPTION_LENGTH,
    Article,
    Page,
    Redirect,
    Topic,
    WordPressItem,
    old_address,
    record_fingerprint,
    sanitize_body,
    validate_image_size,
)
from pages.wordpress import clean_content, read_export

DOWNLOAD_TIMEOUT_SECONDS = 10
WORDPRESS_FEED = "/feed/"
# WordPress's default category, which means "none".
UNCATEGORIZED = "uncategorized"


class DryRun(Exception):
    """Raised at the end of a dry run, so that its transaction is rolled back."""


def summary_for(item, body):
    text = " ".join(html.unescape(strip_tags(item.excerpt or body)).split())
    return Truncator(text).chars(META_DESCRIPTION_LENGTH)


def web_slug(value, model):
    """WordPress's slug (percent-encoded beyond ASCII) as the model's slugs are."""
    return slugify(unquote(value))[: model._meta.get_field("slug").max_length]


def slug_for(item, model):
    """The item's slug, fitting the model, where no page of the site is already."""
    slug = (
        web_slug(item.slug or item.title, model)
        or f"{item.post_type}-{item.wordpress_id}"
    )
    if model is Page and resolve(f"/{slug}/").view_name != "pages:page":
        return f"{slug[:95]}-page"  # such as "articles" or "search"
    return slug


class Command(BaseCommand):
    help = (
        "Import a WordPress export (WXR, from Tools → Export): posts as articles, "
        "pages as pages, categories and tags as topics, featured images as "
        "pictures, and redirects from the old addresses. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("export", type=Path, help="The export file (.xml).")
        parser.add_argument(
            "--uploads",
            type=Path,
            help="A copy of the old site's wp-content/uploads folder, for the "
            "pictures; without it they are downloaded from the old site.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what the import would do, and write nothing.",
        )

    def handle(self, *args, export, uploads, dry_run, **options):
        try:
            self.export = read_export(export)
        except (OSError, ValueError, SyntaxError) as error:
            raise CommandError(f"Cannot read {export}: {error}") from error
        self.uploads = uploads
        self.dry_run = dry_run
        self.counts = {"created": 0, "updated": 0, "unchanged": 0, "kept": 0}
        if dry_run:
            self.say("Dry run: nothing is written. The import would do this:")
        try:
            with transaction.atomic():
                self.import_everything()
                if dry_run:
                    raise DryRun
        except DryRun:
            pass
        self.say(
            "{created} created, {updated} updated, {unchanged} unchanged, "
            "{kept} kept as edited here.".format(**self.counts)
        )

    def say(self, line):
        self.stdout.write(line)

    def import_everything(self):
        topics = {}
        for term in self.export.terms:
            if term.taxonomy == "category" and term.slug == UNCATEGORIZED:
                continue
            topic = self.import_record(
                WordPressItem.Kind.TERM,
                term.wordpress_id,
                term.fingerprint,
                lambda term=term: self.topic_for(term),
                lambda topic, term=term: self.fill_topic(topic, term),
                f"Topic “{term.name}”",
            )
            topics[term.taxonomy, term.slug] = topic
            if topic is not None:
                for old_path in (term.old_path, term.query_path):
                    self.redirect(old_path, topic)
        for item in self.export.items:
            if item.post_type == "post":
                self.import_post(item, topics)
            else:
                self.import_page(item)
        # Feed readers keep asking for WordPress's feed.
        self.redirect(WORDPRESS_FEED, target_path=reverse("pages:article_feed"))

    def import_post(self, item, topics):
        if item.status == "trash":
            return
        article = self.import_record(
            WordPressItem.Kind.POST,
            item.wordpress_id,
            item.fingerprint,
            lambda: Article(slug=slug_for(item, Article)),
            lambda article: self.fill_article(article, item, topics),
            f"Article “{item.title}”",
        )
        if article is not None and item.status in ("publish", "future"):
            for old_path in item.old_paths:
                self.redirect(old_path, article)

    def import_page(self, item):
        if item.status != "publish":
            if item.status != "trash":
                self.say(
                    f"Page “{item.title}”: {item.status} in WordPress, not imported "
                    "(pages here are always public)."
                )
            return
        page = self.import_record(
            WordPressItem.Kind.PAGE,
            item.wordpress_id,
            item.fingerprint,
            lambda: Page(slug=slug_for(item, Page)),
            lambda page: self.fill_page(page, item),
            f"Page “{item.title}”",
        )
        if page is not None:
            for old_path in item.old_paths:
                self.redirect(old_path, page)

    def import_record(self, kind, wordpress_id, fingerprint, new, fill, label):
        """
        The record made from a WordPress item: created, updated when it changed
        there and not here, or left alone. None if there is none to redirect to.
        """
        origin = WordPressItem.objects.filter(kind=kind, wordpress_id=wordpress_id)
        origin = origin.select_related("article", "page", "topic").first()
        if origin is not None:
            record = origin.record
            if record is None:
                self.say(f"{label}: deleted here since the import, not imported again.")
                return None
            if origin.source_fingerprint == fingerprint:
                self.counts["unchanged"] += 1
                return record
            if origin.record_fingerprint != record_fingerprint(record):
                self.counts["kept"] += 1
                self.say(f"{label}: edited here since the import, left as it is.")
                return record
            action = "updated"
        else:
            record = new()
            existing = type(record).objects.filter(slug=record.slug).first()
            if existing is not None:
                self.say(
                    f"{label}: {existing.get_absolute_url()} exists already, left as "
                    "it is; the old addresses lead to it."
                )
                return existing
            origin = WordPressItem(kind=kind, wordpress_id=wordpress_id)
            action = "created"
        self.say(f"{label}: {action} at {record.get_absolute_url()}.")
        with transaction.atomic():
            fill(record)
            origin.source_fingerprint = fingerprint
            origin.record_fingerprint = record_fingerprint(record)
            setattr(origin, record._meta.model_name, record)
            origin.save()
        self.counts[action] += 1
        return record

    def topic_for(self, term):
        slug = web_slug(term.slug, Topic) or f"topic-{term.wordpress_id}"
        return Topic.objects.filter(name=term.name).first() or Topic(slug=slug)

    def fill_topic(self, topic, term):
        topic.name = term.name[:100]
        topic.description = strip_tags(term.description)
        topic.save()

    def fill_page(self, page, item):
        page.title = item.title[:200]
        page.body = sanitize_body(clean_content(item.content))
        page.meta_description = summary_for(item, page.body) if item.excerpt else ""
        page.save()

    def fill_article(self, article, item, topics):
        article.title = item.title[:200]
        article.body = sanitize_body(clean_content(item.content))
        article.summary = summary_for(item, article.body)
        if item.status in ("publish", "future"):
            article.status = Article.Status.PUBLISHED
            article.published_at = item.date or timezone.now()
            when = timezone.localdate(article.published_at).isoformat()
            self.say(
                f"  {'Scheduled for' if article.is_scheduled else 'Published'} {when}."
            )
        else:
            article.status = Article.Status.DRAFT
            article.published_at = None
            self.say(f"  Draft ({item.status} in WordPress).")
        self.add_picture(article, item)
        article.save()
        article.topics.set(
            topic for key in item.terms if (topic := topics.get(key)) is not None
        )

    def add_picture(self, article, item):
        attachment = self.export.attachments.get(item.thumbnail_id)
        if attachment is None:
            return
        name = Path(attachment.file or attachment.url).name
        # The picture an earlier run stored (storage may add a suffix to names).
        if article.hero_image and Path(article.hero_image.name).stem.startswith(
            Path(name).stem
        ):
            return
        alt_text = attachment.alt_text or attachment.caption
        if not alt_text:
            self.say(
                f"  Picture {name}: no description (alt text) in WordPress, so "
                "not imported; add it in the admin with a description."
            )
            return
        content, source = self.picture_content(attachment)
        if content is None:
            self.say(
                f"  Picture {name}: not in the uploads folder and the old site did "
                "not send it; the article is imported without it."
            )
            return
        try:
            validate_image_size(ContentFile(content))
            validate_image_upload(io.BytesIO(content))
        except ValidationError as error:
            self.say(f"  Picture {name}: {' '.join(error.messages)} Not imported.")
            return
        self.say(f"  Picture {name}: from {source}.")
        if not self.dry_run:
            article.hero_image = ContentFile(content, name=name)
            article.hero_image_alt = alt_text[:250]

    def picture_content(self, attachment):
        """The picture's bytes and where they came from, or (None, None)."""
        if self.uploads and attachment.file:
            folder = self.uploads.resolve()
            path = (folder / attachment.file).resolve()
            if path.is_relative_to(folder) and path.is_file():
                with path.open("rb") as file:
                    # One byte more than allowed is enough to refuse it.
                    content = file.read(settings.HERO_IMAGE_MAX_BYTES + 1)
                return content, "the uploads folder"
        if attachment.url.startswith(("http://", "https://")):
            try:
                with urllib.request.urlopen(  # noqa: S310 - http(s) only, checked above
                    attachment.url, timeout=DOWNLOAD_TIMEOUT_SECONDS
                ) as response:
                    content = response.read(settings.HERO_IMAGE_MAX_BYTES + 1)
            except (OSError, ValueError):
                return None, None
            return content, attachment.url
        return None, None

    def redirect(self, old_path, target=None, target_path=""):
        """Leave a redirect at an old address, unless one is there already."""
        old_path = old_address(old_path)
        if old_path == (target.get_absolute_url() if target else target_path):
            return
        redirect, created = Redirect.objects.get_or_create(
            old_path=old_path,
            defaults={"answer": Redirect.Answer.PERMANENT}
            | Redirect.target_fields(target, target_path),
        )
        if created:
            self.say(f"Redirect {old_path} → {redirect.url}.")

"""
Load the clinic's starter content into an empty database.

Safe to run any number of times: what already exists (matched by slug, by name
for the calendar, or the clinic-details record) is left exactly as staff last
saved it.
"""

from pathlib import Path

import markdown
import reversion
import yaml
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from pages.models import Article, ClinicDetails, Page, Topic

STARTER_CONTENT = Path(__file__).resolve().parents[2] / "starter_content"


def read_front_matter(path):
    """Split a Markdown file into its YAML front matter and its body as HTML."""
    _, front_matter, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(front_matter), markdown.markdown(body)


class Command(BaseCommand):
    help = (
        "Load the starter articles, pages, topics, clinic details and booking "
        "set-up, skipping any that exist."
    )

    def handle(self, *args, **options):
        # Imported here: the pages app does not depend on bookings at import time.
        from bookings.starter_content import load_booking_setup

        site = yaml.safe_load(
            (STARTER_CONTENT / "site.yaml").read_text(encoding="utf-8")
        )
        documents = [
            read_front_matter(path) for path in sorted(STARTER_CONTENT.glob("*.md"))
        ]
        with transaction.atomic(), reversion.create_revision():
            reversion.set_comment("Loaded starter content")
            self.load_clinic_details(site)
            topics = self.load_topics(site["topics"])
            for meta, body in documents:
                if meta["kind"] == "article":
                    self.load_article(meta, body, topics)
            for meta, body in documents:
                if meta["kind"] == "page":
                    self.load_page(meta, body)
            load_booking_setup(self.report)

    def report(self, model, name, created):
        state = "created" if created else "already there, left as it is"
        self.stdout.write(f"{model._meta.verbose_name.capitalize()} “{name}”: {state}")

    def load_clinic_details(self, site):
        fields = ("name", "phone", "email", "address", "opening_hours")
        details, created = ClinicDetails.objects.get_or_create(
            pk=1, defaults={field: site[field] for field in fields}
        )
        self.report(ClinicDetails, details.name, created)

    def load_topics(self, topic_data):
        topics = {}
        for key, data in topic_data.items():
            topic, created = Topic.objects.get_or_create(
                slug=data["slug"],
                defaults={"name": data["name"], "description": data["description"]},
            )
            topics[key] = topic
            self.report(Topic, topic.name, created)
        return topics

    def create_valid(self, model, slug, fields):
        """Create a record unless one has this slug; a bad starter file fails loudly."""
        record = model.objects.filter(slug=slug).first()
        if record:
            return record, False
        record = model(slug=slug, **fields)
        record.full_clean()
        record.save()
        return record, True

    def load_article(self, meta, body, topics):
        article, created = self.create_valid(
            Article,
            meta["slug"],
            {
                "title": meta["title"],
                "summary": meta["summary"],
                "body": body,
                "status": Article.Status.PUBLISHED,
                "published_at": timezone.now(),
            },
        )
        if created:
            article.topics.set(topics[key] for key in meta.get("topics", []))
            # The clinic's own published copy, approved before it came here.
            article.mark_text_approved()
            article.save(update_fields=["review_state", "approved_fingerprint"])
        self.report(Article, article.title, created)

    def load_page(self, meta, body):
        page, created = self.create_valid(
            Page,
            meta["slug"],
            {
                "title": meta["title"],
                "meta_description": meta.get("meta_description", ""),
                "body": body,
                "show_in_navigation": meta.get("show_in_navigation", False),
                "navigation_order": meta.get("navigation_order", 0),
                "show_clinic_details": meta.get("show_clinic_details", False),
            },
        )
        if created:
            featured = Article.objects.filter(slug__in=meta.get("featured", []))
            page.featured_articles.set(featured)
        self.report(Page, page.title, created)

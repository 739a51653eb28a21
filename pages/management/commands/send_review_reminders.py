"""
E-mail each clinical reviewer a digest of the published articles whose review
is overdue or due within 30 days. Run daily (deploy/systemd/
roswell-review-reminders.timer); a second run the same day sends nothing more.
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from pages.models import Article, ReviewMessage, reviewers


class Command(BaseCommand):
    help = (
        "E-mail each clinical reviewer the articles whose review is overdue or "
        "due within 30 days (once a day)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say who would be e-mailed about which articles; send nothing.",
        )

    def handle(self, *args, dry_run=False, **options):
        articles = list(Article.objects.review_due_soon())
        if not articles:
            self.stdout.write("No article's review is due within 30 days.")
            return
        today = timezone.localdate()
        for article in articles:
            state = "overdue" if article.next_review_due < today else "due"
            self.stdout.write(f"“{article}”: {state} {article.next_review_due}")
        for reviewer in reviewers():
            if dry_run:
                self.stdout.write(f"Would e-mail {reviewer.email}")
                continue
            with transaction.atomic():
                ReviewMessage.objects.queue(
                    ReviewMessage.Kind.DIGEST, reviewer, digest_date=today
                )
            self.stdout.write(f"Queued the digest for {reviewer.email}")

"""
Delete, or anonymise, consultation requests older than the retention period,
as the privacy policy promises. Run it daily (cron or a systemd timer).
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand
from django.db import transaction
from reversion.models import Version

from bookings.models import ConsultationRequest

ANONYMOUS = {
    "full_name": "(removed)",
    "email": "removed@invalid",
    "phone": "",
    "message": "",
    "internal_notes": "",
    "notification_last_error": "",
}


class Command(BaseCommand):
    help = "Delete or anonymise consultation requests older than the retention period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.BOOKINGS_RETENTION_DAYS,
            help="Keep requests received in the last DAYS days "
            "(default: BOOKINGS_RETENTION_DAYS, %(default)s).",
        )
        parser.add_argument(
            "--anonymise",
            action="store_true",
            help="Remove the personal details but keep the rest, for statistics.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many would change."
        )

    def handle(self, *args, days, anonymise, dry_run, **options):
        expired = ConsultationRequest.objects.older_than(days)
        if anonymise:
            expired = expired.exclude(full_name=ANONYMOUS["full_name"])
        count = expired.count()
        action = "anonymise" if anonymise else "delete"
        if dry_run:
            self.stdout.write(
                f"Would {action} {count} request(s) received over {days} days ago."
            )
            return
        with transaction.atomic():
            # Revision history holds copies of each request's details.
            Version.objects.filter(
                content_type=ContentType.objects.get_for_model(ConsultationRequest),
                object_id__in=[str(pk) for pk in expired.values_list("pk", flat=True)],
            ).delete()
            if anonymise:
                expired.update(**ANONYMOUS)
            else:
                expired.delete()
        self.stdout.write(f"{action.capitalize()}d {count} request(s).")

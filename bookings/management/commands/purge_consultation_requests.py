"""
Delete, or anonymise, consultation requests older than the retention period,
as the privacy policy promises, and delete waitlist entries whose last day has
passed or that are older than that period, and access log lines older than
theirs. Run it daily (cron or a systemd timer).
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from bookings.models import AccessLogEntry, ConsultationRequest, WaitlistEntry


def waitlist_entries(count):
    return f"{count} waitlist entr{pluralize(count, 'y,ies')}"


class Command(BaseCommand):
    help = (
        "Delete or anonymise consultation requests older than the retention "
        "period, and delete waitlist entries that are over or as old, and old "
        "access log lines."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.BOOKINGS_RETENTION_DAYS,
            help="Keep requests received in the last DAYS days "
            "(default: BOOKINGS_RETENTION_DAYS, %(default)s).",
        )
        parser.add_argument(
            "--access-log-days",
            type=int,
            default=settings.BOOKINGS_ACCESS_LOG_DAYS,
            help="Keep access log lines of the last DAYS days "
            "(default: BOOKINGS_ACCESS_LOG_DAYS, %(default)s).",
        )
        parser.add_argument(
            "--anonymise",
            action="store_true",
            help="Remove the personal details but keep the rest, for statistics.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many would change."
        )

    def handle(self, *args, days, access_log_days, anonymise, dry_run, **options):
        expired = ConsultationRequest.objects.older_than(days)
        if anonymise:
            expired = expired.not_anonymised()
        # Nothing in an entry is worth keeping for statistics: always deleted.
        expired_entries = WaitlistEntry.objects.expired(days)
        # A request's lines hold its reference only, so they outlive it.
        expired_lines = AccessLogEntry.objects.older_than(access_log_days)
        action = "anonymise" if anonymise else "delete"
        if dry_run:
            self.stdout.write(
                f"Would {action} {expired.count()} request(s) "
                f"received over {days} days ago."
            )
            self.stdout.write(
                f"Would delete {waitlist_entries(expired_entries.count())} whose "
                f"last day has passed or received over {days} days ago."
            )
            self.stdout.write(
                f"Would delete {expired_lines.count()} access log line(s) "
                f"over {access_log_days} days old."
            )
            return
        count = expired.anonymise() if anonymise else expired.delete_with_history()
        self.stdout.write(f"{action.capitalize()}d {count} request(s).")
        _, deleted = expired_entries.delete()
        count = deleted.get(WaitlistEntry._meta.label, 0)
        self.stdout.write(f"Deleted {waitlist_entries(count)}.")
        _, deleted = expired_lines.delete()
        count = deleted.get(AccessLogEntry._meta.label, 0)
        self.stdout.write(f"Deleted {count} access log line(s).")

"""
`make bench-reports`: how long the admin's reports page and front page take with
10,000 consultation requests and 2,000 bookings, on PostgreSQL with debug off.

Fills its own database (REPORTS_BENCH_DATABASE_URL, created if missing, filled
once, never dropped) with made-up data (bookings/management/commands/demo_data.py),
then renders each page REPORTS_BENCH_ROUNDS times in this process through
Django's test client, logged in as a staff member with the reports permission,
and prints the median and 90th percentile. Target: under 150 ms per page.
Exits non-zero when a page answers other than 200; a missed target is printed.
"""

import io
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

from database import ENCRYPTION_KEYS, ensure_database

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "REPORTS_BENCH_DATABASE_URL",
    "postgres://roswell@127.0.0.1:5432/roswell_bench_reports",
)
ROUNDS = int(os.environ.get("REPORTS_BENCH_ROUNDS", "30"))
REQUESTS, BOOKINGS = 10_000, 2_000
TARGET_MS = 150
PAGES = {
    "reports, 12 weeks": ("/admin/reports/", {}),
    "reports, 52 weeks": ("/admin/reports/", {"weeks": "52"}),
    "reports, one treatment": ("/admin/reports/", {"weeks": "52", "treatment": "1"}),
    "CSV, requests per week": ("/admin/reports/requests-per-week.csv", {}),
    "front page (Needs attention now)": ("/admin/", {}),
}


def set_up_django():
    os.environ |= {
        "DJANGO_SETTINGS_MODULE": "roswell_site.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "BOOKINGS_ENCRYPTION_KEYS": ENCRYPTION_KEYS,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        # The client logs in with force_login: what is timed is the page, not the login.
        "DJANGO_STAFF_MFA_REQUIRED": "0",
        "DJANGO_HTTPS": "0",
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_STATIC_ROOT": str(ROOT / "test-artifacts" / "bench-reports" / "static"),
    }
    os.environ.pop("DJANGO_DEBUG", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def fill_database():
    from django.core.management import call_command

    from bookings.management.commands.demo_data import DemoData
    from bookings.models import Booking, ConsultationRequest

    quiet = {"verbosity": 0, "stdout": io.StringIO()}
    call_command("migrate", "--no-input", **quiet)
    call_command("createcachetable", **quiet)
    call_command("collectstatic", "--no-input", **quiet)
    call_command("load_starter_content", **quiet)
    if (ConsultationRequest.objects.count(), Booking.objects.count()) != (
        REQUESTS,
        BOOKINGS,
    ):
        print(f"Generating {REQUESTS:,} requests and {BOOKINGS:,} bookings", flush=True)
        Booking.objects.all().delete()
        ConsultationRequest.objects.all().delete()
        DemoData(weeks=52, seed=15).create(REQUESTS, BOOKINGS)
        analyze()


def analyze():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def staff_client():
    from django.contrib.auth.models import Permission, User
    from django.test import Client

    user, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"is_staff": True}
    )
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_reports", "view_consultationrequest", "view_article"]
        )
    )
    client = Client()
    client.force_login(user)
    return client


def time_page(client, path, query):
    timings = []
    for _ in range(ROUNDS + 3):
        started = time.perf_counter()
        response = client.get(path, query)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")
    timings = sorted(timings[3:])  # the first ones warm caches up
    return statistics.median(timings), timings[int(len(timings) * 0.9) - 1]


def main():
    ensure_database(DATABASE_URL, "REPORTS_BENCH_DATABASE_URL")
    set_up_django()
    fill_database()
    client = staff_client()
    print(f"\n{'page':<36}{'median':>10}{'p90':>10}  target < {TARGET_MS} ms")
    for name, (path, query) in PAGES.items():
        median, p90 = time_page(client, path, query)
        verdict = "met" if median < TARGET_MS else "NOT met"
        print(f"{name:<36}{median:>8.1f}ms{p90:>8.1f}ms  {verdict}")
    print(f"\n{ROUNDS} rounds each, {REQUESTS:,} requests, {BOOKINGS:,} bookings.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

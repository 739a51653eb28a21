"""
The benchmark's work inside Django, run by bench/run.py with the benchmark's
environment:

    python bench/helper.py seed             200 generated articles (once)
    python bench/helper.py bookings         500 upcoming bookings, made afresh
    python bench/helper.py baseline URL OUT  the page at URL, rendered, saved to OUT
    python bench/helper.py tokens N OUT      N one-time form tokens, one a line
    python bench/helper.py treatment         the id of a treatment the form offers
    python bench/helper.py requests          how many valid consultation requests exist
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "roswell_site.settings")
django.setup()

from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings.availability import free_slots  # noqa: E402
from bookings.forms import issue_form_token  # noqa: E402
from bookings.models import (  # noqa: E402
    Booking,
    ConsultationRequest,
    ConsultationType,
    Treatment,
)
from pages.models import Article, Topic  # noqa: E402

GENERATED_ARTICLES = 200
BOOKED_TYPE = "free-phone-consultation"
BOOKINGS = 500
BOOKING_DAYS = 30
BENCH_BOOKING = "bench-booking-"
PARAGRAPH = (
    "<p>Fibromyalgia brings widespread pain, tiredness and poor sleep. This "
    "paragraph stands in for the clinic's writing, at the length of a real "
    "article's paragraph, so that pages weigh what they will weigh in use.</p>"
)


def seed():
    """Generated articles on the starter topics, older than the starter article."""
    topics = list(Topic.objects.all())
    now = timezone.now()
    for number in range(GENERATED_ARTICLES):
        body = "".join(
            f"<h2>Section {section}</h2>{PARAGRAPH * 3}" for section in range(1, 6)
        )
        article, created = Article.objects.get_or_create(
            slug=f"generated-article-{number:03}",
            defaults={
                "title": f"Generated article {number:03} about fibromyalgia",
                "summary": "A generated article for the benchmark, as long as a "
                "real summary of an article on this site.",
                "body": body,
                "status": Article.Status.PUBLISHED,
                "published_at": now - timedelta(days=number + 1),
            },
        )
        if created:
            article.topics.set(topics if number % 2 else topics[:1])
    print(Article.objects.published().count(), "published articles")


def bookings():
    """
    BOOKINGS bookings of the starter phone consultation spread over the next
    BOOKING_DAYS days, replacing those of an earlier run (their days have moved
    on), so the booking pages work on a calendar that is mostly full.
    """
    ConsultationRequest.objects.filter(form_token__startswith=BENCH_BOOKING).delete()
    consultation_type = ConsultationType.objects.get(slug=BOOKED_TYPE)
    today = timezone.localdate()
    slots = free_slots(
        consultation_type, today, today + timedelta(days=BOOKING_DAYS - 1)
    )
    if len(slots) < BOOKINGS:
        sys.exit(f"Only {len(slots)} free times for {BOOKINGS} bookings")
    chosen = [slots[n * len(slots) // BOOKINGS] for n in range(BOOKINGS)]
    treatment = Treatment.objects.filter(is_active=True).first()
    consultations = ConsultationRequest.objects.bulk_create(
        ConsultationRequest(
            form_token=f"{BENCH_BOOKING}{n}",
            full_name=f"Booked Patient {n}",
            email=f"booked-{n}@example.org",
            phone="+17705550100",
            preferred_contact=ConsultationRequest.ContactMethod.PHONE,
            treatment=treatment,
            consent_at=timezone.now(),
            status=ConsultationRequest.Status.BOOKED,
            staff_notified_at=timezone.now(),
            patient_confirmed_at=timezone.now(),
        )
        for n in range(BOOKINGS)
    )
    Booking.objects.bulk_create(
        Booking(
            consultation=consultation,
            consultation_type=consultation_type,
            calendar=slot.calendar,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            blocked_until=slot.ends_at + consultation_type.buffer,
        )
        for consultation, slot in zip(consultations, chosen, strict=True)
    )
    left = len(
        free_slots(consultation_type, today, today + timedelta(days=BOOKING_DAYS - 1))
    )
    print(BOOKINGS, "bookings over", BOOKING_DAYS, "days,", left, "times left free")


def baseline(url, out):
    host = os.environ["BENCH_HOST"]
    response = Client(HTTP_HOST=host).get(url)
    if response.status_code != 200:
        sys.exit(f"{url} answered {response.status_code}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(response.content)
    print(len(response.content), "bytes")


def tokens(count, out):
    Path(out).write_text("".join(issue_form_token() + "\n" for _ in range(count)))


def treatment():
    print(Treatment.objects.filter(is_active=True).values_list("pk", flat=True)[0])


def requests():
    print(ConsultationRequest.objects.exclude(status="spam").count())


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "tokens":
        tokens(int(arguments[0]), arguments[1])
    else:
        {
            "seed": seed,
            "bookings": bookings,
            "baseline": baseline,
            "treatment": treatment,
            "requests": requests,
        }[command](*arguments)

"""
The benchmark's work inside Django, run by bench/run.py with the benchmark's
environment:

    python bench/helper.py seed             200 generated articles (once)
    python bench/helper.py bookings         500 upcoming bookings, made afresh
    python bench/helper.py times SLUG N OUT  N free times of a type, spread out
    python bench/helper.py booked SLUG TIMES  bookings at those times, as JSON
    python bench/helper.py baseline URL OUT  the page at URL, rendered, saved to OUT
    python bench/helper.py tokens N OUT      N one-time form tokens, one a line
    python bench/helper.py treatment         the id of a treatment the form offers
    python bench/helper.py requests          how many valid consultation requests exist
"""

import json
import os
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "roswell_site.settings")
django.setup()

from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings.availability import free_slots  # noqa: E402
from bookings.caching import availability_changed  # noqa: E402
from bookings.forms import issue_form_token  # noqa: E402
from bookings.models import (  # noqa: E402
    Booking,
    ConsultationRequest,
    ConsultationType,
    StaffCalendar,
    Treatment,
    WeeklyHours,
)
from pages.models import Article, Topic  # noqa: E402

GENERATED_ARTICLES = 200
BOOKED_TYPE = "free-phone-consultation"
BOOKINGS = 500
BOOKING_DAYS = 30
BENCH_BOOKING = "bench-booking-"
# The booking POSTs need a free time each, thousands of them: a type of its own,
# 5 minutes long, in a calendar open all day every day, 60 days ahead (17,000).
POSTED_TYPE = "bench-booking-post"
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
    on), so the booking pages work on a calendar that is mostly full; and the
    type the booking POSTs book.
    """
    # Those of an earlier run, the storm's and the booking POSTs' included.
    ConsultationRequest.objects.filter(
        booking__consultation_type__slug__in=[BOOKED_TYPE, POSTED_TYPE]
    ).delete()
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
    # bulk_create sends no signal: the booking pages must show these bookings.
    availability_changed()
    left = len(
        free_slots(consultation_type, today, today + timedelta(days=BOOKING_DAYS - 1))
    )
    print(BOOKINGS, "bookings over", BOOKING_DAYS, "days,", left, "times left free")
    posted, _ = ConsultationType.objects.update_or_create(
        slug=POSTED_TYPE,
        defaults={
            "name": "Benchmark booking",
            "duration_minutes": 5,
            "buffer_minutes": 0,
            "notice_hours": 0,
            "horizon_days": 2 * BOOKING_DAYS,
            "location": ConsultationType.Location.PHONE,
            "is_offered_online": True,
        },
    )
    calendar, _ = StaffCalendar.objects.get_or_create(name="Benchmark calendar")
    calendar.consultation_types.set([posted])
    calendar.weekly_hours.all().delete()
    calendar.weekly_hours.bulk_create(
        WeeklyHours(calendar=calendar, weekday=weekday, starts="00:00", ends="23:59")
        for weekday in range(7)
    )
    availability_changed()


def times(slug, count, out):
    """
    `count` free times of the type as the booking URL writes them, taken evenly
    from all its free times, or exit if it has fewer.
    """
    consultation_type = ConsultationType.objects.get(slug=slug)
    today = timezone.localdate()
    last_day = today + timedelta(days=consultation_type.horizon_days)
    starts = sorted(
        {slot.starts_at for slot in free_slots(consultation_type, today, last_day)}
    )
    if len(starts) < count:
        sys.exit(f"Only {len(starts)} free times of {slug} for {count} bookings")
    chosen = [starts[n * len(starts) // count] for n in range(count)]
    Path(out).write_text(
        "".join(f"{starts_at.astimezone(UTC):%Y%m%dT%H%MZ}\n" for starts_at in chosen)
    )


def booked(slug, times_file):
    """
    The active bookings of the type at the times in the file, and how many
    more than one a calendar holds at one time (which must never happen).
    """
    starts = [
        datetime.strptime(line, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        for line in Path(times_file).read_text().split()
    ]
    per_time = Counter(
        Booking.objects.active()
        .filter(consultation_type__slug=slug, starts_at__in=starts)
        .values_list("calendar", "starts_at")
    )
    print(
        json.dumps(
            {
                "bookings": sum(per_time.values()),
                "duplicates": sum(count - 1 for count in per_time.values()),
            }
        )
    )


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
    elif command == "times":
        times(arguments[0], int(arguments[1]), arguments[2])
    else:
        {
            "seed": seed,
            "bookings": bookings,
            "baseline": baseline,
            "treatment": treatment,
            "requests": requests,
            "booked": booked,
        }[command](*arguments)

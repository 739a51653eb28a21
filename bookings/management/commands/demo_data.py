"""
`manage.py demo_data`: made-up consultation requests and bookings over the last
weeks, so that the admin's dashboard and reports have something to show.
"""

import random
import secrets
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from bookings.models import (
    Booking,
    ConsultationRequest,
    ConsultationType,
    ContactAttempt,
    StaffCalendar,
    Treatment,
)
from pages.models import Article

FIRST_NAMES = ("Alex", "Jordan", "Maria", "Sam", "Priya", "Chen", "Dana", "Luis")
LAST_NAMES = ("Demo", "Example", "Sample", "Testcase")
HEARD_ABOUT = {
    ConsultationRequest.HeardAbout.SEARCH: 40,
    ConsultationRequest.HeardAbout.DOCTOR: 25,
    ConsultationRequest.HeardAbout.FRIEND: 15,
    ConsultationRequest.HeardAbout.SOCIAL: 8,
    ConsultationRequest.HeardAbout.OTHER: 4,
    "": 8,
}
OUTCOMES = {
    ConsultationRequest.Outcome.PATIENT: 35,
    ConsultationRequest.Outcome.NOT_ELIGIBLE: 15,
    ConsultationRequest.Outcome.DECLINED: 25,
    ConsultationRequest.Outcome.NO_ANSWER: 25,
}
# Booked times: on the hour, 8:00 to 19:00 every day, one calendar.
FIRST_HOUR, LAST_HOUR = 8, 19


def weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class DemoData:
    """Requests, contact attempts and bookings made up with a seeded random."""

    def __init__(self, *, weeks, seed, now=None):
        # Made-up data, repeatable with its seed: no secret comes from it.
        self.rng = random.Random(seed)  # noqa: S311
        self.now = now or timezone.now()
        self.weeks = weeks
        self.zone = timezone.get_default_timezone()
        self.treatments = list(Treatment.objects.filter(is_active=True))
        self.articles = list(Article.objects.published())
        self.consultation_type = ConsultationType.objects.first()
        self.calendar = StaffCalendar.objects.first()
        if not (self.treatments and self.consultation_type and self.calendar):
            raise CommandError(
                "Demo data needs treatments, a consultation type and a calendar: "
                "run `manage.py load_starter_content` first."
            )
        self.taken = set(
            Booking.objects.filter(calendar=self.calendar).values_list(
                "starts_at", flat=True
            )
        )

    def received_at(self):
        # More requests lately, as a clinic that is becoming known gets.
        age = timedelta(weeks=self.weeks) * (1 - self.rng.random() ** 0.7)
        return self.now - age

    def consultation(self, number, created_at):
        return ConsultationRequest(
            form_token=secrets.token_hex(16),
            full_name=f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}",
            email=f"demo{number}@example.com",
            # 555-0100 to 555-0199 are never given to anyone.
            phone=f"+1770555{100 + number % 100:04d}",
            preferred_contact=ConsultationRequest.ContactMethod.PHONE,
            treatment=self.rng.choice(self.treatments),
            heard_about=weighted(self.rng, HEARD_ABOUT),
            source_article=(
                self.rng.choice(self.articles)
                if self.articles and self.rng.random() < 0.35
                else None
            ),
            is_urgent=self.rng.random() < 0.02,
            consent_at=created_at,
            created_at=created_at,
            # The worker sent its e-mail at once.
            staff_notified_at=created_at + timedelta(seconds=2),
            patient_confirmed_at=created_at + timedelta(seconds=3),
        )

    def follow_up(self, consultation):
        """A call-back's state by its age: the first contact attempt, the outcome."""
        age = self.now - consultation.created_at
        if age < timedelta(hours=self.rng.uniform(2, 72)):
            return []
        waited = timedelta(hours=self.rng.lognormvariate(1.6, 0.9))
        attempted_at = min(consultation.created_at + waited, self.now)
        if age > timedelta(days=14) and self.rng.random() < 0.85:
            consultation.status = ConsultationRequest.Status.CLOSED
            consultation.outcome = weighted(self.rng, OUTCOMES)
        else:
            consultation.status = ConsultationRequest.Status.CONTACTED
        return [
            ContactAttempt(
                request=consultation,
                attempted_at=attempted_at,
                method=ConsultationRequest.ContactMethod.PHONE,
                result=ContactAttempt.Result.REACHED,
            )
        ]

    def free_hour(self, after):
        """The first free hour of the calendar from `after` on (8:00 to 19:00)."""
        local = timezone.localtime(after, self.zone)
        day, hour = local.date(), max(local.hour + 1, FIRST_HOUR)
        while True:
            if hour > LAST_HOUR:
                day, hour = day + timedelta(days=1), FIRST_HOUR
            starts_at = datetime.combine(day, time(hour)).replace(tzinfo=self.zone)
            if starts_at not in self.taken:
                self.taken.add(starts_at)
                return starts_at
            hour += 1

    def booking(self, consultation):
        consultation.status = ConsultationRequest.Status.BOOKED
        consultation.heard_about = ""
        starts_at = self.free_hour(
            consultation.created_at + timedelta(days=self.rng.uniform(1, 10))
        )
        if starts_at < self.now:
            status = self.rng.choices(
                [
                    Booking.Status.ATTENDED,
                    Booking.Status.NO_SHOW,
                    Booking.Status.CANCELLED,
                ],
                weights=[80, 8, 12],
            )[0]
        else:
            status = self.rng.choices(
                [Booking.Status.CONFIRMED, Booking.Status.CANCELLED], weights=[9, 1]
            )[0]
        booking = Booking(
            consultation=consultation,
            consultation_type=self.consultation_type,
            calendar=self.calendar,
            status=status,
        )
        booking.set_time(starts_at)
        return booking

    def create(self, requests, bookings):
        """Store `requests` requests, `bookings` of them with a booked time."""
        consultations = [
            self.consultation(number, self.received_at()) for number in range(requests)
        ]
        booked = set(self.rng.sample(range(requests), min(bookings, requests)))
        new_bookings, attempts = [], []
        for number, consultation in enumerate(consultations):
            if number in booked:
                new_bookings.append(self.booking(consultation))
            else:
                attempts += self.follow_up(consultation)
        received = [consultation.created_at for consultation in consultations]
        with transaction.atomic():
            ConsultationRequest.objects.bulk_create(consultations, batch_size=500)
            # bulk_create stamps auto_now_add fields with the present.
            for consultation, created_at in zip(consultations, received, strict=True):
                consultation.created_at = created_at
            ConsultationRequest.objects.bulk_update(
                consultations, ["created_at"], batch_size=500
            )
            for booking in new_bookings:
                booking.consultation_id = booking.consultation.pk
            Booking.objects.bulk_create(new_bookings, batch_size=500)
            for attempt in attempts:
                attempt.request_id = attempt.request.pk
            ContactAttempt.objects.bulk_create(attempts, batch_size=500)
        return len(consultations), len(new_bookings)


class Command(BaseCommand):
    help = (
        "Add made-up consultation requests and bookings over the last weeks, for "
        "the dashboard and reports. Only with DJANGO_DEBUG=1: never on a real site."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=1500)
        parser.add_argument("--bookings", type=int, default=300)
        parser.add_argument("--weeks", type=int, default=26)
        parser.add_argument("--seed", type=int, default=15)

    def handle(self, *args, requests, bookings, weeks, seed, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo_data makes up patients, so it runs only in development, with "
                "DJANGO_DEBUG=1."
            )
        made, booked = DemoData(weeks=weeks, seed=seed).create(requests, bookings)
        self.stdout.write(
            f"Added {made} made-up requests over {weeks} weeks, {booked} of them "
            "with a booking."
        )

import re
import secrets
from datetime import UTC, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import (
    IntegrityError,
    OperationalError,
    connections,
    models,
    transaction,
)
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Cast
from django.tasks import default_task_backend
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from phonenumber_field.modelfields import PhoneNumberField
from reversion.models import Revision, Version

from .encryption import EncryptedTextField

# Crockford's base32 without I, L, O and U: nothing to misread over the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Words in a message that suggest a risk of self-harm. A match never blocks a
# request: it shows crisis guidance and puts the request first for staff.
RISK_PATTERN = re.compile(
    r"\b(suicid\w*|kill(ing)? myself|end(ing)? (it all|my life)|take my (own )?life|"
    r"self[- ]?harm\w*|hurt(ing)? myself|cut(ting)? myself|want(ed)? to die|"
    r"better off dead|no reason to live|overdos\w*)\b",
    re.IGNORECASE,
)

# Services where anyone can have an address: blocking one as a domain would turn
# away every patient who uses it.
FREE_MAIL_DOMAINS = frozenset(
    {
        "aim.com",
        "aol.com",
        "fastmail.com",
        "gmail.com",
        "gmx.com",
        "gmx.net",
        "googlemail.com",
        "hey.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mac.com",
        "mail.com",
        "me.com",
        "msn.com",
        "outlook.com",
        "pm.me",
        "proton.me",
        "protonmail.com",
        "rocketmail.com",
        "tutanota.com",
        "yahoo.com",
        "yandex.com",
        "ymail.com",
        "zoho.com",
    }
)


def new_reference():
    """An unguessable reference such as RI-7K3Q-M9XD (40 random bits)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"RI-{chars[:4]}-{chars[4:]}"


# What anonymising leaves of a request's personal details.
ANONYMISED_DETAILS = {
    "full_name": "(removed)",
    "email": "removed@invalid",
    "phone": "",
    "message": "",
    "internal_notes": "",
    "notification_last_error": "",
}


def suggests_risk(text):
    return bool(RISK_PATTERN.search(text))


def business_days_between(start, end):
    """Whole weekdays (Monday to Friday) from start to end."""
    days, day = 0, start
    while day + timedelta(days=1) <= end:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days


class Treatment(models.Model):
    """A choice in the form's "treatment of interest" list, which staff can extend."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text="Used by article links that pre-select this treatment.",
    )
    order = models.PositiveSmallIntegerField(
        default=0, help_text="Smaller numbers come first in the form's list."
    )
    is_active = models.BooleanField(
        "offered in the form",
        default=True,
        help_text="Untick to stop offering this choice without losing old requests.",
    )

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


def is_version_of(queryset):
    """A filter on reversion's versions: the version's object is in queryset."""
    pk = queryset.model._meta.pk
    return Exists(queryset.filter(pk=Cast(OuterRef("object_id"), pk)))


def versions_of(queryset):
    return Version.objects.get_for_model(queryset.model).filter(is_version_of(queryset))


def delete_history_of_deleted(*models):
    """Delete the versions of objects that no longer exist, and revisions left empty."""
    for model in models:
        Version.objects.get_for_model(model).exclude(
            is_version_of(model.objects.all())
        ).delete()
    Revision.objects.filter(version=None).delete()


class ConsultationRequestQuerySet(models.QuerySet):
    def not_delivered(self):
        """Requests whose staff notification has not gone out (spam is never sent)."""
        return self.filter(staff_notified_at__isnull=True).exclude(
            status=ConsultationRequest.Status.SPAM
        )

    def not_spam(self):
        return self.exclude(status=ConsultationRequest.Status.SPAM)

    def awaiting_first_contact(self):
        """New requests nobody has tried to contact yet (booked ones have a time)."""
        return self.filter(
            status=ConsultationRequest.Status.NEW, contact_attempts__isnull=True
        )

    def older_than(self, days):
        return self.filter(created_at__lt=timezone.now() - timedelta(days=days))

    def not_anonymised(self):
        return self.exclude(full_name=ANONYMISED_DETAILS["full_name"])

    def booked(self):
        """Requests that came with a time: those with a booking, cancelled or not."""
        return self.filter(booking__isnull=False)

    def call_backs(self):
        """Requests that asked to be called back, without a time."""
        return self.filter(booking__isnull=True)

    def delete_with_history(self):
        """
        Delete these requests and their contact attempts, with the copies of them
        that revision history keeps (and those of any request or attempt deleted
        before). Returns how many requests were deleted.
        """
        with transaction.atomic():
            _, deleted = self.delete()
            delete_history_of_deleted(ConsultationRequest, ContactAttempt)
        return deleted.get(ConsultationRequest._meta.label, 0)

    def anonymise(self):
        """
        Remove the personal details of these requests and the notes of their
        contact attempts, and the revision history, which holds the old values.
        Returns how many requests were anonymised.
        """
        attempts = ContactAttempt.objects.filter(request__in=self.values("pk"))
        with transaction.atomic():
            # The requests last: this queryset may select on the details it removes.
            versions_of(attempts).delete()
            versions_of(self).delete()
            attempts.update(notes="")
            count = self.update(**ANONYMISED_DETAILS)
            delete_history_of_deleted(ConsultationRequest, ContactAttempt)
        return count


class ConsultationRequest(models.Model):
    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "E-mail"

    class TimeOfDay(models.TextChoices):
        ANY = "any", "Any time"
        MORNING = "morning", "Morning (9am–12pm)"
        AFTERNOON = "afternoon", "Afternoon (12pm–5pm)"

    class Weekday(models.TextChoices):
        MONDAY = "mon", "Monday"
        TUESDAY = "tue", "Tuesday"
        WEDNESDAY = "wed", "Wednesday"
        THURSDAY = "thu", "Thursday"
        FRIDAY = "fri", "Friday"

    class HeardAbout(models.TextChoices):
        SEARCH = "search", "Search engine"
        DOCTOR = "doctor", "My doctor or therapist"
        FRIEND = "friend", "Friend or family"
        SOCIAL = "social", "Social media"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        SCHEDULED = "scheduled", "Consultation scheduled"
        BOOKED = "booked", "Consultation booked"
        CLOSED = "closed", "Closed"
        SPAM = "spam", "Spam"

    class Outcome(models.TextChoices):
        PATIENT = "patient", "Became a patient"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"
        DECLINED = "declined", "Declined"
        NO_ANSWER = "no_answer", "No answer"

    reference = models.CharField(
        max_length=12, unique=True, default=new_reference, editable=False
    )
    form_token = models.CharField(
        max_length=64,
        unique=True,
        editable=False,
        help_text="The one-time token of the form it came from: one request per form.",
    )
    full_name = models.CharField(max_length=100)
    email = models.EmailField("e-mail", max_length=254)
    phone = PhoneNumberField()
    preferred_contact = models.CharField(
        "preferred way to be contacted", max_length=10, choices=ContactMethod
    )
    treatment = models.ForeignKey(
        Treatment,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name="treatment of interest",
    )
    preferred_days = models.JSONField(
        default=list, blank=True, help_text="Weekdays for a call back; none means any."
    )
    preferred_time = models.CharField(
        "preferred time of day", max_length=10, choices=TimeOfDay, default=TimeOfDay.ANY
    )
    message = EncryptedTextField(blank=True, max_length=1000)
    heard_about = models.CharField(
        "how they heard about us", max_length=10, choices=HeardAbout, blank=True
    )
    source_article = models.ForeignKey(
        "pages.Article",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultation_requests",
        verbose_name="came from the article",
        help_text="The article whose link the patient followed to the form, if any.",
    )
    consent_at = models.DateTimeField(
        "consented to be contacted at", help_text="When the patient ticked the consent."
    )
    is_urgent = models.BooleanField(
        "urgent",
        default=False,
        help_text="The message has words suggesting a risk of self-harm.",
    )
    spam_reason = models.CharField(max_length=100, blank=True, editable=False)

    status = models.CharField(max_length=10, choices=Status, default=Status.NEW)
    outcome = models.CharField(
        max_length=15,
        choices=Outcome,
        blank=True,
        help_text="Required when the request is closed.",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_consultation_requests",
        limit_choices_to={"is_staff": True},
    )
    internal_notes = EncryptedTextField(
        blank=True, help_text="Only staff see these notes."
    )

    staff_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    patient_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    notification_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    notification_last_error = models.CharField(
        max_length=500, blank=True, editable=False
    )
    notification_last_attempt_at = models.DateTimeField(
        null=True, blank=True, editable=False
    )
    delivery_started_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set while a task is sending this request's e-mail.",
    )

    created_at = models.DateTimeField("received", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsultationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-is_urgent", "-created_at"]
        # The reports and the dashboard count requests by when they came in.
        indexes = [models.Index(fields=["created_at"], name="consultation_created_at")]
        permissions = [
            ("export_consultationrequest", "Can export requests as CSV"),
            ("view_reports", "Can view the reports"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(outcome=""),
                name="consultation_closed_has_outcome",
            )
        ]

    def __str__(self):
        return self.reference

    def clean(self):
        if self.status == self.Status.CLOSED and not self.outcome:
            raise ValidationError(
                {
                    "outcome": ValidationError(
                        "Please choose the outcome when closing a request.",
                        code="outcome_required",
                    )
                }
            )

    def get_admin_url(self):
        return reverse("admin:bookings_consultationrequest_change", args=[self.pk])

    @property
    def is_spam(self):
        return self.status == self.Status.SPAM

    def preferred_days_display(self):
        labels = dict(self.Weekday.choices)
        return ", ".join(labels[day] for day in self.preferred_days) or "Any weekday"

    def business_days_waiting(self, now=None):
        now = timezone.localtime(now or timezone.now())
        return business_days_between(timezone.localtime(self.created_at), now)

    def submit(self):
        """
        Record this new request and queue its e-mail in one transaction: there is
        never a request without its notification, nor a notification without a
        request. A request with a spam_reason is stored as spam and never sent,
        unless its message makes it urgent. Raises IntegrityError when its form
        token was already used.
        """
        from .tasks import deliver_consultation_emails  # tasks import this module

        self.mark_urgent_or_spam()
        with transaction.atomic():
            self.save()
            if not self.is_spam:
                deliver_consultation_emails.enqueue(self.pk)

    def mark_urgent_or_spam(self):
        """
        Flag a new request urgent when its message suggests a risk of self-harm,
        else spam when it has a spam_reason.
        """
        self.is_urgent = suggests_risk(self.message)
        # Staff always hear of a message suggesting a risk of self-harm, whatever
        # else it looks like: a false alarm costs a minute, a missed one a life.
        if self.spam_reason and not self.is_urgent:
            self.status = self.Status.SPAM

    def claim_delivery(self):
        """
        Take the right to send this request's e-mail, for TASKS_RUNNING_TIMEOUT
        seconds: False while another task holds it. A claim left by a worker that
        died expires.
        """
        now = timezone.now()
        expired = now - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT)
        claimed = (
            ConsultationRequest.objects.filter(pk=self.pk)
            .filter(
                Q(delivery_started_at__isnull=True) | Q(delivery_started_at__lt=expired)
            )
            .update(delivery_started_at=now)
        )
        if claimed:
            # A run that held the claim may have sent e-mail since this was loaded.
            self.refresh_from_db()
        return bool(claimed)

    def release_delivery(self):
        """Give up this task's claim, unless it expired and another task took it."""
        ConsultationRequest.objects.filter(
            pk=self.pk, delivery_started_at=self.delivery_started_at
        ).update(delivery_started_at=None)
        self.delivery_started_at = None

    def delivery_claim_expires_at(self):
        """When the claim this request was loaded with, or one taken now, expires."""
        start = self.delivery_started_at or timezone.now()
        return start + timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT + 1)

    def record_delivery_failure(self, error):
        self.notification_attempts += 1
        self.notification_last_attempt_at = timezone.now()
        self.notification_last_error = f"{type(error).__name__}: {error}"[:500]
        self.save(
            update_fields=[
                "notification_attempts",
                "notification_last_attempt_at",
                "notification_last_error",
            ]
        )


class ContactAttempt(models.Model):
    class Result(models.TextChoices):
        REACHED = "reached", "Spoke with the patient"
        VOICEMAIL = "voicemail", "Left a voicemail"
        NO_ANSWER = "no_answer", "No answer"
        SENT = "sent", "Message sent"
        WRONG_NUMBER = "wrong_number", "Wrong number or address"

    request = models.ForeignKey(
        ConsultationRequest, on_delete=models.CASCADE, related_name="contact_attempts"
    )
    attempted_at = models.DateTimeField("when", default=timezone.now)
    method = models.CharField(
        "how", max_length=10, choices=ConsultationRequest.ContactMethod
    )
    result = models.CharField(max_length=15, choices=Result)
    notes = EncryptedTextField(max_length=300, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        ordering = ["attempted_at"]

    def __str__(self):
        return f"{self.get_method_display()} on {self.attempted_at:%Y-%m-%d %H:%M}"


def email_domain(email):
    return email.strip().lower().rpartition("@")[2]


class BlockedSenderQuerySet(models.QuerySet):
    def blocks(self, email):
        email = email.strip().lower()
        return self.filter(value__in=[email, email_domain(email)]).exists()


class BlockedSender(models.Model):
    """An e-mail address or a whole domain whose requests are stored as spam."""

    value = models.CharField(
        "e-mail address or domain",
        max_length=254,
        unique=True,
        help_text="For example spammer@example.com, or example.com for a whole "
        "domain. Free e-mail services such as gmail.com cannot be blocked as a "
        "whole domain.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
    )

    objects = BlockedSenderQuerySet.as_manager()

    class Meta:
        ordering = ["value"]

    def __str__(self):
        return self.value

    def save(self, *args, **kwargs):
        self.value = self.value.strip().lower()
        super().save(*args, **kwargs)

    def clean(self):
        if self.value.strip().lower() in FREE_MAIL_DOMAINS:
            raise ValidationError(
                {
                    "value": ValidationError(
                        "%(domain)s is a free e-mail service that many patients use, "
                        "so it cannot be blocked as a whole. Block the sender's "
                        "address instead.",
                        code="free_mail_domain",
                        params={"domain": self.value.strip().lower()},
                    )
                }
            )


# One statement, atomic on PostgreSQL and SQLite alike: the hour's first
# submission from a client makes its row, each later one adds one to it.
COUNT_SUBMISSION_SQL = """
    INSERT INTO bookings_submissioncount (hour_start, client, submissions)
    VALUES (%s, %s, 1)
    ON CONFLICT (hour_start, client)
    DO UPDATE SET submissions = bookings_submissioncount.submissions + 1
    RETURNING submissions
"""


class SubmissionCountQuerySet(models.QuerySet):
    # The hour before which this process last removed the counts; once per hour
    # and process is enough, and costs no round trip on the other submissions.
    cleared_before = None

    def over_limit(self, address, now=None):
        """
        Count one valid submission from this client address in the current clock
        hour; True once the hour's count is past BOOKINGS_RATE_LIMIT_PER_HOUR.
        """
        hour_start = (now or timezone.now()).astimezone(UTC)
        hour_start = hour_start.replace(minute=0, second=0, microsecond=0)
        self.remove_before(hour_start)
        connection = connections[self.db]
        hour_field = self.model._meta.get_field("hour_start")
        with connection.cursor() as cursor:
            cursor.execute(
                COUNT_SUBMISSION_SQL,
                [
                    hour_field.get_db_prep_value(hour_start, connection),
                    client_digest(address),
                ],
            )
            (submissions,) = cursor.fetchone()
        return submissions > settings.BOOKINGS_RATE_LIMIT_PER_HOUR

    def remove_before(self, hour_start):
        if SubmissionCountQuerySet.cleared_before != hour_start:
            self.filter(hour_start__lt=hour_start).delete()
            SubmissionCountQuerySet.cleared_before = hour_start


class SubmissionCount(models.Model):
    """How many valid requests one client address sent in one clock hour."""

    hour_start = models.DateTimeField()
    client = models.CharField(
        max_length=32, help_text="The client's address, hashed with the secret key."
    )
    submissions = models.PositiveIntegerField()

    objects = SubmissionCountQuerySet.as_manager()

    class Meta:
        constraints = [
            # Also the index that finds old hours to remove.
            models.UniqueConstraint(
                fields=["hour_start", "client"], name="one_count_per_client_and_hour"
            )
        ]

    def __str__(self):
        return (
            f"{self.submissions} from {self.client} in the hour from {self.hour_start}"
        )


def client_digest(address):
    """A client address no one without the secret key can recover."""
    digest = salted_hmac("bookings.rate-limit", address, algorithm="sha256")
    return digest.hexdigest()[:32]


class ConsultationTypeQuerySet(models.QuerySet):
    def offered_online(self):
        """Types patients can book on the website: offered, and a calendar takes it."""
        return self.filter(is_offered_online=True).filter(
            Exists(StaffCalendar.objects.taking(OuterRef("pk")))
        )


class ConsultationType(models.Model):
    """A kind of consultation patients can book, such as a free phone call."""

    class Location(models.TextChoices):
        PHONE = "phone", "By phone"
        CLINIC = "clinic", "In the clinic"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text="The end of its booking page's address; filled in from the name.",
    )
    duration_minutes = models.PositiveSmallIntegerField(
        "length (minutes)", help_text="How long the consultation itself lasts."
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        "break after (minutes)",
        default=0,
        help_text="Time kept free after each one, e.g. for notes; nobody can book it.",
    )
    notice_hours = models.PositiveSmallIntegerField(
        "minimum notice (hours)",
        default=4,
        help_text="Patients can book a time only at least this many hours ahead.",
    )
    horizon_days = models.PositiveSmallIntegerField(
        "bookable days ahead",
        default=30,
        help_text="How many days ahead patients can book; later days are not shown.",
    )
    location = models.CharField(max_length=10, choices=Location)
    daily_cap = models.PositiveSmallIntegerField(
        "most per day",
        null=True,
        blank=True,
        help_text="At most this many of these in one day for each calendar. "
        "Leave empty for no limit.",
    )
    is_offered_online = models.BooleanField(
        "patients can book it online",
        default=True,
        help_text="Untick to stop offering it on the website; staff can still "
        "see its bookings.",
    )
    preparation = models.TextField(
        "how to prepare",
        blank=True,
        help_text="A few plain sentences for the confirmation e-mail, e.g. what "
        "to have at hand. No medical advice specific to one patient.",
    )
    order = models.PositiveSmallIntegerField(
        default=0, help_text="Smaller numbers come first in the list patients see."
    )

    objects = ConsultationTypeQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0),
                name="consultation_type_has_a_length",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def duration(self):
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer(self):
        return timedelta(minutes=self.buffer_minutes)


def new_feed_token():
    return secrets.token_urlsafe(32)


class StaffCalendarQuerySet(models.QuerySet):
    def taking(self, consultation_type):
        """Active calendars that take this type of consultation."""
        return self.filter(is_active=True, consultation_types=consultation_type)


class StaffCalendar(models.Model):
    """The hours of one clinician, or of the clinic team, that patients can book."""

    name = models.CharField(
        max_length=100,
        unique=True,
        help_text="For example “Clinic team” or a clinician's name.",
    )
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calendars",
        limit_choices_to={"is_staff": True},
        help_text="The person whose calendar this is; empty for a shared one.",
    )
    consultation_types = models.ManyToManyField(
        ConsultationType,
        blank=True,
        related_name="calendars",
        verbose_name="consultations it takes",
    )
    is_active = models.BooleanField(
        "open for bookings",
        default=True,
        help_text="Untick to stop offering its times; its bookings stay.",
    )
    feed_token = models.CharField(
        max_length=64,
        unique=True,
        default=new_feed_token,
        editable=False,
        help_text="The secret part of the calendar feed's address.",
    )

    objects = StaffCalendarQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "calendar"

    def __str__(self):
        return self.name

    def get_feed_url(self):
        """The feed's full address, for a calendar program to subscribe to."""
        path = reverse("bookings:calendar_feed", args=[self.feed_token])
        return f"{settings.SITE_URL}{path}"

    def renew_feed_token(self):
        """Give the feed a new address; the old one stops working at once."""
        self.feed_token = new_feed_token()
        self.save(update_fields=["feed_token"])


class TimePeriod(models.Model):
    """A period of a day in the clinic's time zone, from `starts` to `ends`."""

    starts = models.TimeField(help_text="In the clinic's time zone, e.g. 09:00.")
    ends = models.TimeField(help_text="In the clinic's time zone, e.g. 12:30.")

    class Meta:
        abstract = True

    def clean(self):
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError(
                {
                    "ends": ValidationError(
                        "The end must be later than the start.",
                        code="ends_before_start",
                    )
                }
            )


class WeeklyHours(TimePeriod):
    """A period of one weekday when a calendar takes bookings; several a day."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(
        StaffCalendar, on_delete=models.CASCADE, related_name="weekly_hours"
    )
    weekday = models.PositiveSmallIntegerField("day", choices=Weekday)

    class Meta:
        ordering = ["weekday", "starts"]
        verbose_name = "weekly hours"
        verbose_name_plural = "weekly hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")),
                name="weekly_hours_end_after_start",
            )
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class ClosedDates(models.Model):
    """Days without bookings: holidays for the whole clinic, or one person's leave."""

    calendar = models.ForeignKey(
        StaffCalendar,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closed_dates",
        help_text="Leave empty to close the whole clinic.",
    )
    first_day = models.DateField()
    last_day = models.DateField(help_text="The same as the first day for one day.")
    reason = models.CharField(
        max_length=100, blank=True, help_text="For staff only, e.g. “Thanksgiving”."
    )

    class Meta:
        ordering = ["first_day"]
        verbose_name = "closed dates"
        verbose_name_plural = "closed dates"
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")),
                name="closed_dates_end_on_or_after_start",
            )
        ]

    def __str__(self):
        who = self.calendar or "Whole clinic"
        if self.first_day == self.last_day:
            return f"{who}: closed on {self.first_day}"
        return f"{who}: closed {self.first_day} to {self.last_day}"

    def clean(self):
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError(
                {
                    "last_day": ValidationError(
                        "The last day cannot be before the first day.",
                        code="last_day_before_first_day",
                    )
                }
            )


class ExtraHours(TimePeriod):
    """A period on one date when a calendar takes bookings besides its weekly hours."""

    calendar = models.ForeignKey(
        StaffCalendar, on_delete=models.CASCADE, related_name="extra_hours"
    )
    day = models.DateField("date")

    class Meta:
        ordering = ["day", "starts"]
        verbose_name = "extra hours"
        verbose_name_plural = "extra hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")),
                name="extra_hours_end_after_start",
            )
        ]

    def __str__(self):
        return f"{self.day} {self.starts:%H:%M}–{self.ends:%H:%M}"


# A salt, not a secret.
MANAGE_TOKEN_SALT = "bookings.manage"  # noqa: S105
# How long after its start a booking's manage link still opens.
MANAGE_LINK_LIFETIME = timedelta(days=1)


class SlotTaken(Exception):
    """The time was taken by someone else; `nearest` lists free times near it."""

    def __init__(self, nearest=()):
        super().__init__("That time was just taken.")
        self.nearest = list(nearest)


# PostgreSQL's error code for a deadlock. Two bookings of overlapping times
# inserted at once can each wait for the other in the exclusion constraint's
# check; PostgreSQL lets one through and aborts the other with this code.
DEADLOCK_DETECTED = "40P01"


def is_overlap_refused(error):
    """
    Whether the database refused a booking because its time overlaps another
    (booking_no_overlap), or aborted it in a deadlock with such a booking.
    """
    return (
        "booking_no_overlap" in str(error)
        or getattr(error.__cause__, "pgcode", None) == DEADLOCK_DETECTED
    )


def check_time(consultation_type, starts_at, *, now, by_staff):
    """
    Raise a ValidationError unless this path may book this type at starts_at:
    offered online, not past, inside the minimum notice and the horizon. Staff
    may book inside the notice, past the horizon, and types not offered
    online. Whether a calendar has the time is free_calendar's question.
    """
    if not by_staff and not consultation_type.is_offered_online:
        raise not_offered()
    if starts_at <= now:
        raise ValidationError(
            "That time has passed. Please choose a later one.", code="in_the_past"
        )
    if not by_staff:
        if starts_at < now + timedelta(hours=consultation_type.notice_hours):
            raise ValidationError(
                "That time is too soon: we need at least %(hours)d hours' notice. "
                "Please choose a later one.",
                code="too_soon",
                params={"hours": consultation_type.notice_hours},
            )
        last_day = local_day(now) + timedelta(days=consultation_type.horizon_days)
        if local_day(starts_at) > last_day:
            raise ValidationError(
                "That day is too far ahead: times can be booked up to %(days)d "
                "days ahead. Please choose an earlier one.",
                code="too_far",
                params={"days": consultation_type.horizon_days},
            )


def local_day(moment):
    """The date in the clinic's time zone."""
    return timezone.localdate(moment, timezone.get_default_timezone())


def not_offered():
    return ValidationError(
        "This consultation cannot be booked online at the moment. Please ask us "
        "to call you back instead.",
        code="not_offered",
    )


def no_such_time(consultation_type):
    """The error for a time in no open calendar's hours of the type."""
    if not StaffCalendar.objects.taking(consultation_type).exists():
        return not_offered()
    return ValidationError(
        "We have no consultation at that time. Please choose one of the times shown.",
        code="not_a_slot",
    )


def free_calendar(consultation_type, starts_at, *, now, by_staff, moving=None):
    """
    The calendar to book starts_at in: the one of the booking being moved if
    it is free then, else the first free one. Raises ValidationError for a time
    that cannot be booked, SlotTaken for one that is not free. The day's
    hours, closures and bookings are loaded once for both answers.
    """
    from .availability import Schedule  # availability imports models

    check_time(consultation_type, starts_at, now=now, by_staff=by_staff)
    day = local_day(starts_at)
    schedule = Schedule(consultation_type, day, day, ignoring=moving)
    slots = schedule.slots_at(starts_at)
    if not slots:
        raise no_such_time(consultation_type)
    free = [slot.calendar for slot in slots if schedule.is_free(slot)]
    if not free:
        raise SlotTaken(
            nearest_free_times(
                consultation_type, starts_at, now, by_staff=by_staff, ignoring=moving
            )
        )
    if moving is not None and moving.calendar in free:
        return moving.calendar
    return free[0]


class BookingQuerySet(models.QuerySet):
    def active(self):
        """Bookings that hold their time: all but the cancelled ones."""
        return self.exclude(status=Booking.Status.CANCELLED)

    def take(self, consultation, consultation_type, starts_at, *, now=None):
        """
        Book starts_at for this new, unsaved consultation request, and queue
        its e-mail, in one transaction. Raises ValidationError (with a code) for
        a time patients cannot book, SlotTaken when it is no longer free, and
        IntegrityError when the request's form token was already used. A
        request with a spam_reason that is not urgent is stored as spam, with
        no booking and no e-mail: returns None.
        """
        now = now or timezone.now()
        consultation.mark_urgent_or_spam()
        if consultation.is_spam:
            consultation.save()
            return None
        try:
            with transaction.atomic():
                calendar = free_calendar(
                    consultation_type, starts_at, now=now, by_staff=False
                )
                consultation.status = ConsultationRequest.Status.BOOKED
                consultation.save()
                booking = self.model(
                    consultation=consultation,
                    consultation_type=consultation_type,
                    calendar=calendar,
                )
                booking.set_time(starts_at)
                booking.save()
                booking.queue_messages(
                    BookingMessage.Kind.CONFIRMATION,
                    BookingMessage.Kind.STAFF_BOOKED,
                    now=now,
                )
        except (IntegrityError, OperationalError) as error:
            # Another booking of this time committed after the check above.
            if not is_overlap_refused(error):
                raise
            raise SlotTaken(
                nearest_free_times(consultation_type, starts_at, now)
            ) from error
        return booking

    def from_manage_token(self, token, now=None):
        """The booking of a manage link, or None if tampered with or expired."""
        try:
            pk = signing.Signer(salt=MANAGE_TOKEN_SALT).unsign_object(token)
        except signing.BadSignature:
            return None
        if not isinstance(pk, int):
            return None
        booking = (
            self.select_related("consultation", "consultation_type", "calendar")
            .filter(pk=pk)
            .first()
        )
        now = now or timezone.now()
        if booking is None or now > booking.starts_at + MANAGE_LINK_LIFETIME:
            return None
        return booking


def nearest_free_times(consultation_type, starts_at, now, **options):
    from .availability import nearest_free_slots  # availability imports models

    return nearest_free_slots(consultation_type, starts_at, now=now, **options)


class Booking(models.Model):
    """A consultation request with a time: the patient's details stay on the request."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "Did not come"

    consultation = models.OneToOneField(
        ConsultationRequest, on_delete=models.CASCADE, related_name="booking"
    )
    consultation_type = models.ForeignKey(
        ConsultationType,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name="type",
    )
    calendar = models.ForeignKey(
        StaffCalendar, on_delete=models.PROTECT, related_name="bookings"
    )
    starts_at = models.DateTimeField("starts")
    ends_at = models.DateTimeField("ends")
    blocked_until = models.DateTimeField(
        help_text="The end plus the break after it: the calendar is busy until then."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.CONFIRMED)
    sequence = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised on each change, so calendar programs update their copy.",
    )
    created_at = models.DateTimeField("booked", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["starts_at"], name="booking_starts_at")]
        # On PostgreSQL an exclusion constraint, booking_no_overlap (migration
        # 0005), also keeps the active bookings of one calendar from overlapping.
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="booking_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=models.F("ends_at")),
                name="booking_blocked_until_its_end_at_least",
            ),
        ]

    def __str__(self):
        starts = timezone.localtime(self.starts_at)
        return f"{self.consultation_type} at {starts:%Y-%m-%d %H:%M}"

    def get_manage_url(self):
        return reverse("bookings:manage", args=[self.manage_token()])

    def manage_token(self):
        """
        A signed token for the patient's manage link: the booking's id only. No
        time in it: the link lasts until a day after the booking, however moved.
        """
        return signing.Signer(salt=MANAGE_TOKEN_SALT).sign_object(self.pk)

    def set_time(self, starts_at):
        self.starts_at = starts_at
        self.ends_at = starts_at + self.consultation_type.duration
        self.blocked_until = self.ends_at + self.consultation_type.buffer

    @property
    def is_confirmed(self):
        return self.status == self.Status.CONFIRMED

    def change_cutoff(self):
        return self.starts_at - timedelta(hours=settings.BOOKINGS_CHANGE_CUTOFF_HOURS)

    def can_be_changed_by_patient(self, now=None):
        """Whether the patient may still move or cancel it from the manage link."""
        return self.is_confirmed and (now or timezone.now()) < self.change_cutoff()

    def move_to(self, starts_at, *, by_staff=False, now=None):
        """
        Move this booking to starts_at, freeing its old time in the same
        transaction, and queue the change e-mail and a new reminder. The rules
        and errors of Booking.objects.take apply; staff may also move it inside
        the minimum notice and past the horizon, and after the patient's cut-off.
        """
        now = now or timezone.now()
        try:
            with transaction.atomic():
                self.lock_for_change(by_staff=by_staff, now=now)
                old_starts_at = self.starts_at
                self.calendar = free_calendar(
                    self.consultation_type,
                    starts_at,
                    now=now,
                    by_staff=by_staff,
                    moving=self,
                )
                self.set_time(starts_at)
                self.sequence += 1
                self.save(
                    update_fields=[
                        "calendar",
                        "starts_at",
                        "ends_at",
                        "blocked_until",
                        "sequence",
                        "updated_at",
                    ]
                )
                self.queue_messages(
                    BookingMessage.Kind.CHANGE, BookingMessage.Kind.STAFF_MOVED, now=now
                )
                WaitlistEntry.objects.offer_freed_time(self, old_starts_at, now=now)
        except (IntegrityError, OperationalError) as error:
            if not is_overlap_refused(error):
                raise
            self.refresh_from_db()
            raise SlotTaken(
                nearest_free_times(
                    self.consultation_type,
                    starts_at,
                    now,
                    by_staff=by_staff,
                    ignoring=self,
                )
            ) from error
        except (ValidationError, SlotTaken):
            self.refresh_from_db()
            raise

    def cancel(self, *, by_staff=False, now=None):
        """Cancel this booking, freeing its time, and queue the cancellation e-mail."""
        now = now or timezone.now()
        with transaction.atomic():
            self.lock_for_change(by_staff=by_staff, now=now)
            self.status = self.Status.CANCELLED
            self.sequence += 1
            self.save(update_fields=["status", "sequence", "updated_at"])
            self.queue_messages(
                BookingMessage.Kind.CANCELLATION,
                BookingMessage.Kind.STAFF_CANCELLED,
                now=now,
            )
            WaitlistEntry.objects.offer_freed_time(self, now=now)

    def lock_for_change(self, *, by_staff, now):
        """
        Lock this booking's row and load its current state, so that two changes
        of one booking happen one after the other; raise ValidationError unless
        it can still be changed (by the patient: before the cut-off).
        """
        current = Booking.objects.select_for_update().get(pk=self.pk)
        self.status, self.sequence = current.status, current.sequence
        self.calendar_id, self.starts_at = current.calendar_id, current.starts_at
        if not self.is_confirmed:
            raise ValidationError(
                "This consultation was cancelled or has taken place.",
                code="not_confirmed",
            )
        if not by_staff and not self.can_be_changed_by_patient(now):
            raise ValidationError(
                "It is too late to change this consultation online. Please call us.",
                code="past_cutoff",
            )

    def set_outcome(self, status):
        """Record whether the patient came (staff only; nobody is e-mailed)."""
        if status not in (self.Status.ATTENDED, self.Status.NO_SHOW):
            raise ValueError(f"Not an outcome: {status!r}")
        if self.status == self.Status.CANCELLED:
            raise ValidationError(
                "A cancelled consultation has no outcome.", code="cancelled"
            )
        self.status = status
        self.save(update_fields=["status", "updated_at"])

    def queue_messages(self, *kinds, now):
        """
        Queue these e-mails about the booking's current state, and a reminder
        unless it would be due already.
        """
        messages = [BookingMessage(booking=self, kind=kind) for kind in kinds]
        reminder_due = self.starts_at - timedelta(
            hours=settings.BOOKINGS_REMINDER_HOURS
        )
        if self.is_confirmed and reminder_due > now:
            messages.append(
                BookingMessage(
                    booking=self,
                    kind=BookingMessage.Kind.REMINDER,
                    due_at=reminder_due,
                )
            )
        BookingMessage.objects.queue(messages)


class BookingMessageQuerySet(models.QuerySet):
    def queue(self, messages):
        """
        Record these new e-mails about a booking's current state in one query,
        and queue their delivery: at once, or when due for one due later (a
        reminder).
        """
        # tasks import this module
        from .tasks import deliver_booking_message, deliver_booking_messages

        now = timezone.now()
        for message in messages:
            message.sequence = message.booking.sequence
        self.bulk_create(messages)
        if due_now := [message.pk for message in messages if message.due_at <= now]:
            deliver_booking_messages.enqueue(due_now)
        # Without a queue that can wait (`make run`), a reminder is never sent
        # rather than sent at booking time.
        if default_task_backend.supports_defer:
            for message in messages:
                if message.due_at > now:
                    deliver_booking_message.using(run_after=message.due_at).enqueue(
                        message.pk
                    )
        return messages

    def up_to_date(self):
        """Messages about the booking as it is now: it has not changed since."""
        return self.filter(sequence=F("booking__sequence"))

    def not_sent(self):
        return self.up_to_date().filter(sent_at__isnull=True)


class ClaimedMessage:
    """
    A recorded e-mail that one task at a time may send: bookings' and the
    review workflow's outbox rows (fields claimed_at, sent_at, attempts and
    last_error).
    """

    def claim(self):
        """
        Take the right to send this message, for TASKS_RUNNING_TIMEOUT seconds:
        False when it was sent, or while another task holds it. A claim left by
        a worker that died expires. Reloads the message.
        """
        now = timezone.now()
        expired = now - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT)
        claimed = (
            type(self)
            .objects.filter(pk=self.pk, sent_at__isnull=True)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=expired))
            .update(claimed_at=now)
        )
        self.refresh_from_db()
        return bool(claimed)

    def release(self):
        """Give up this task's claim, unless it expired and another task took it."""
        type(self).objects.filter(pk=self.pk, claimed_at=self.claimed_at).update(
            claimed_at=None
        )
        self.claimed_at = None

    def claim_expires_at(self):
        start = self.claimed_at or timezone.now()
        return start + timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT + 1)

    def record_sent(self):
        self.sent_at = timezone.now()
        self.save(update_fields=["sent_at"])

    def record_failure(self, error):
        self.attempts += 1
        self.last_error = f"{type(error).__name__}: {error}"[:500]
        self.save(update_fields=["attempts", "last_error"])


class BookingMessage(ClaimedMessage, models.Model):
    """An e-mail about a booking, recorded with the change it tells of."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Confirmation to the patient"
        CHANGE = "change", "New time, to the patient"
        CANCELLATION = "cancellation", "Cancellation, to the patient"
        REMINDER = "reminder", "Reminder to the patient"
        STAFF_BOOKED = "staff_booked", "New booking, to staff"
        STAFF_MOVED = "staff_moved", "New time, to staff"
        STAFF_CANCELLED = "staff_cancelled", "Cancellation, to staff"
        WAITLIST_OFFER = "waitlist_offer", "Freed time, to a patient on the waitlist"

    STAFF_KINDS = frozenset({Kind.STAFF_BOOKED, Kind.STAFF_MOVED, Kind.STAFF_CANCELLED})

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    sequence = models.PositiveIntegerField(
        help_text="The booking's sequence when queued: a later change makes it "
        "out of date, and it is not sent."
    )
    due_at = models.DateTimeField("due", default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while a task is sending it."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Failed tries so far."
    )
    last_error = models.CharField(max_length=500, blank=True)
    # A waitlist offer goes to someone other than the booking's patient, about
    # a time the booking no longer holds once it was moved.
    waitlist_entry = models.ForeignKey(
        "WaitlistEntry",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="offers",
        help_text="For a waitlist offer: the patient on the waitlist it goes to.",
    )
    offered_time = models.DateTimeField(
        null=True, blank=True, help_text="For a waitlist offer: the freed time."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BookingMessageQuerySet.as_manager()

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind", "sequence"],
                condition=Q(waitlist_entry__isnull=True),
                name="one_booking_message_per_kind_and_change",
            ),
            models.UniqueConstraint(
                fields=["booking", "sequence", "waitlist_entry"],
                condition=Q(waitlist_entry__isnull=False),
                name="one_waitlist_offer_per_entry_and_change",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind="waitlist_offer",
                    waitlist_entry__isnull=False,
                    offered_time__isnull=False,
                )
                | Q(
                    ~Q(kind="waitlist_offer"),
                    waitlist_entry__isnull=True,
                    offered_time__isnull=True,
                ),
                name="booking_message_offer_has_entry_and_time",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} (change {self.sequence})"

    @property
    def is_for_staff(self):
        return self.kind in self.STAFF_KINDS

    @property
    def is_waitlist_offer(self):
        return self.kind == self.Kind.WAITLIST_OFFER

    def is_out_of_date(self, now=None):
        """
        Whether the booking changed since this was queued (a later message tells
        of it), or, for a reminder, has started; for a waitlist offer, whether
        patients can no longer book the time it offers (someone booked it).
        """
        if self.is_waitlist_offer:
            return not can_be_booked_online(
                self.booking.consultation_type, self.offered_time, now
            )
        if self.sequence != self.booking.sequence:
            return True
        now = now or timezone.now()
        return self.kind == self.Kind.REMINDER and self.booking.starts_at <= now

    def claim(self):
        """The message's claim (ClaimedMessage.claim), its booking reloaded too."""
        claimed = super().claim()
        self.booking.refresh_from_db()
        return claimed


# A salt, not a secret.
WAITLIST_LEAVE_SALT = "bookings.waitlist.leave"  # noqa: S105


def can_be_booked_online(consultation_type, starts_at, now=None):
    """Whether a patient could book this time of this type on the site now."""
    from .availability import is_free  # availability imports this module

    return consultation_type.is_offered_online and is_free(
        consultation_type, None, starts_at, now
    )


class WaitlistEntryQuerySet(models.QuerySet):
    def expired(self, days, today=None):
        """
        Entries whose last day has passed, and any older than `days`: once no
        time can be offered, the patient's address is no longer kept.
        """
        today = today or timezone.localdate()
        return self.filter(
            Q(last_day__lt=today)
            | Q(created_at__lt=timezone.now() - timedelta(days=days))
        )

    def from_leave_token(self, token):
        """The entry of a "leave the waitlist" link; None if tampered with or gone."""
        try:
            pk = signing.Signer(salt=WAITLIST_LEAVE_SALT).unsign_object(token)
        except signing.BadSignature:
            return None
        if not isinstance(pk, int):
            return None
        return self.filter(pk=pk).first()

    def waiting_for(self, consultation_type, day):
        """
        The entries of this type whose days include `day`, in the order they are
        offered a time: those never offered one, longest waiting first, then
        those offered one longest ago. Each freed time goes to the next in line,
        so one patient who never answers does not keep the others from hearing.
        """
        return self.filter(
            consultation_type=consultation_type, first_day__lte=day, last_day__gte=day
        ).order_by(models.F("offered_at").asc(nulls_first=True), "created_at", "pk")

    def offer_freed_time(self, booking, starts_at=None, *, now=None):
        """
        Offer the time this booking held (for a move, `starts_at`, its old time)
        to the first BOOKINGS_WAITLIST_OFFERS entries waiting for it, if
        patients can book it, and queue their e-mail; returns those entries.
        All of them may follow the link; the first to book gets the time (the
        no-overlap rule decides). Called inside the change's transaction.
        """
        now = now or timezone.now()
        starts_at = starts_at or booking.starts_at
        consultation_type = booking.consultation_type
        entries = list(
            self.waiting_for(consultation_type, local_day(starts_at))[
                : settings.BOOKINGS_WAITLIST_OFFERS
            ]
        )
        # Asked second: most times freed have nobody waiting for them.
        if not entries or not can_be_booked_online(consultation_type, starts_at, now):
            return []
        self.filter(pk__in=[entry.pk for entry in entries]).update(
            offered_at=now, offered_for=starts_at
        )
        BookingMessage.objects.queue(
            [
                BookingMessage(
                    booking=booking,
                    kind=BookingMessage.Kind.WAITLIST_OFFER,
                    waitlist_entry=entry,
                    offered_time=starts_at,
                )
                for entry in entries
            ]
        )
        return entries


class WaitlistEntry(models.Model):
    """An address to e-mail when a time of a type frees up in a range of days."""

    consultation_type = models.ForeignKey(
        ConsultationType,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        verbose_name="type",
    )
    email = models.EmailField("e-mail", max_length=254)
    first_day = models.DateField(help_text="The first day the patient could come.")
    last_day = models.DateField(help_text="The last day the patient could come.")
    form_token = models.CharField(
        max_length=64,
        unique=True,
        editable=False,
        help_text="The one-time token of the form it came from: one entry per form.",
    )
    consent_at = models.DateTimeField(
        "consented to be e-mailed at",
        help_text="When the patient ticked the consent.",
    )
    offered_at = models.DateTimeField(
        "last offered a time at", null=True, blank=True, editable=False
    )
    offered_for = models.DateTimeField(
        "time last offered", null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField("joined", auto_now_add=True)

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name = "waitlist entry"
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")),
                name="waitlist_entry_ends_on_or_after_start",
            )
        ]

    def __str__(self):
        return f"{self.consultation_type}, {self.first_day} to {self.last_day}"

    def get_leave_url(self):
        return reverse("bookings:waitlist_leave", args=[self.leave_token()])

    def leave_token(self):
        """
        A signed token for the "leave the waitlist" link in each offer: the
        entry's id only. It lasts as long as the entry.
        """
        return signing.Signer(salt=WAITLIST_LEAVE_SALT).sign_object(self.pk)


class AccessLogEntryQuerySet(models.QuerySet):
    def record(self, user, address, action, consultations=(), result_count=None):
        """
        Log that this user, from this client address, did this to these
        requests: one line per request, or one line naming none (a search).
        """
        references = [consultation.reference for consultation in consultations]
        return self.bulk_create(
            self.model(
                user=user,
                username=user.get_username(),
                address=address[:45],
                action=action,
                reference=reference,
                result_count=result_count,
            )
            for reference in references or [""]
        )

    def older_than(self, days):
        return self.filter(at__lt=timezone.now() - timedelta(days=days))


class AccessLogEntry(models.Model):
    """
    Someone opened, exported, searched or re-sent consultation requests in the
    admin. Superusers read the log; nobody changes it, and only the daily purge
    removes lines, once older than BOOKINGS_ACCESS_LOG_DAYS.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Opened the request"
        HISTORY = "history", "Opened the request's history"
        EXPORT = "export", "Exported the request as CSV"
        SEARCH = "search", "Searched the requests"
        RESEND = "resend", "Sent the request's e-mail again"

    at = models.DateTimeField("when", default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(
        max_length=150, help_text="The login's name, kept if the login is deleted."
    )
    address = models.CharField(
        "client address",
        max_length=45,
        blank=True,
        help_text="Where the request came from, as the login throttling sees it.",
    )
    action = models.CharField(max_length=10, choices=Action)
    reference = models.CharField(
        "request",
        max_length=12,
        blank=True,
        db_index=True,
        help_text="The request's reference, never the patient's name: the line "
        "outlives the request. Empty for a search.",
    )
    result_count = models.PositiveIntegerField(
        "requests found",
        null=True,
        blank=True,
        help_text="For a search: how many requests it found. The words searched "
        "for are not kept: they may be a patient's name.",
    )

    objects = AccessLogEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        # Superusers read it; nobody may be given the right to change it.
        default_permissions = ()
        verbose_name = "access log entry"
        verbose_name_plural = "access log"

    def __str__(self):
        return f"{self.username}: {self.get_action_display()} {self.reference}".strip()

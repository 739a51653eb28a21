import csv
import logging
from datetime import date, datetime, timedelta
from itertools import groupby

import reversion
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from roswell_site.admin import HistoryAdmin
from roswell_site.client_ip import client_address

from .availability import days_between, free_slots, local_midnight
from .dashboard import undelivered_booking_messages
from .encryption import EncryptedTextField
from .models import (
    FREE_MAIL_DOMAINS,
    AccessLogEntry,
    BlockedSender,
    Booking,
    ClosedDates,
    ConsultationRequest,
    ConsultationType,
    ContactAttempt,
    ExtraHours,
    SlotTaken,
    StaffCalendar,
    Treatment,
    WeeklyHours,
    email_domain,
)
from .tasks import deliver_consultation_emails

logger = logging.getLogger(__name__)

PREVIEW_DAYS = 14

PATIENT_FIELDS = (
    "reference",
    "full_name",
    "email",
    "phone",
    "preferred_contact",
    "treatment",
    "preferred_days_display",
    "preferred_time",
    "message",
    "heard_about",
    "source_article",
    "consent_at",
    "created_at",
)
NOTIFICATION_FIELDS = (
    "staff_notified_at",
    "patient_confirmed_at",
    "notification_attempts",
    "notification_last_error",
    "notification_last_attempt_at",
    "spam_reason",
)
CSV_COLUMNS = (
    ("Reference", "reference"),
    ("Received", "created_at"),
    ("Name", "full_name"),
    ("E-mail", "email"),
    ("Phone", "phone"),
    ("Preferred contact", "get_preferred_contact_display"),
    ("Treatment", "treatment"),
    ("Preferred days", "preferred_days_display"),
    ("Preferred time", "get_preferred_time_display"),
    ("Heard about us", "get_heard_about_display"),
    ("Status", "get_status_display"),
    ("Outcome", "get_outcome_display"),
    ("Urgent", "is_urgent"),
)


def spreadsheet_safe(value):
    """Stop spreadsheet programs from running a cell as a formula."""
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(" ", "").isdigit()
    ):
        return "'" + text
    return text


class NotificationFilter(admin.SimpleListFilter):
    title = "staff e-mail"
    parameter_name = "notified"

    def lookups(self, request, model_admin):
        return (("no", "Not delivered yet"), ("yes", "Delivered"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.not_delivered()
        if self.value() == "yes":
            return queryset.filter(staff_notified_at__isnull=False)
        return queryset


class ContactFilter(admin.SimpleListFilter):
    title = "first contact"
    parameter_name = "contact"

    def lookups(self, request, model_admin):
        return (("awaiting", "Not yet contacted"),)

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.awaiting_first_contact()
        return queryset


class BookingMailFilter(admin.SimpleListFilter):
    title = "e-mail"
    parameter_name = "mail"

    def lookups(self, request, model_admin):
        return (("failed", "An e-mail failed and was not sent since"),)

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(
                pk__in=undelivered_booking_messages().values("booking")
            )
        return queryset


class BookingFilter(admin.SimpleListFilter):
    title = "booked or call-back"
    parameter_name = "booking"

    def lookups(self, request, model_admin):
        return (("booked", "Booked a time"), ("call_back", "Asked for a call-back"))

    def queryset(self, request, queryset):
        if self.value() == "booked":
            return queryset.booked()
        if self.value() == "call_back":
            return queryset.call_backs()
        return queryset


def local_time(moment):
    """A time as staff read it: in the clinic's zone, with the zone named."""
    return dateformat.format(timezone.localtime(moment), "D j M Y, H:i T")


def booking_admin_url(booking):
    return reverse("admin:bookings_booking_change", args=[booking.pk])


class ContactAttemptInline(admin.TabularInline):
    model = ContactAttempt
    extra = 1
    fields = ("attempted_at", "method", "result", "notes", "staff")
    readonly_fields = ("staff",)
    # A note is a line; stored as text only because its ciphertext is longer.
    formfield_overrides = {EncryptedTextField: {"widget": forms.TextInput}}

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ConsultationRequest)
class ConsultationRequestAdmin(HistoryAdmin):
    list_display = (
        "reference",
        "urgent_flag",
        "full_name",
        "treatment",
        "preferred_contact",
        "status",
        "booked_time",
        "notification_state",
        "attempt_count",
        "created_at",
        "waiting",
    )
    list_display_links = ("reference", "full_name")
    list_filter = (
        "status",
        BookingFilter,
        "treatment",
        "created_at",
        "is_urgent",
        ContactFilter,
        NotificationFilter,
        "assigned_to",
        ("source_article", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("reference", "full_name", "email", "phone")
    readonly_fields = (
        PATIENT_FIELDS + NOTIFICATION_FIELDS + ("is_urgent", "booking_summary")
    )
    fieldsets = (
        (
            "Call-back",
            {"fields": ("status", "outcome", "assigned_to", "internal_notes")},
        ),
        ("What the patient sent", {"fields": ("is_urgent", *PATIENT_FIELDS)}),
        ("E-mail to staff and patient", {"fields": NOTIFICATION_FIELDS}),
    )
    inlines = (ContactAttemptInline,)
    actions = (
        "resend_notifications",
        "mark_spam_and_block_sender",
        "block_domain",
        "export_csv",
    )
    list_per_page = 50

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "treatment", "booking__calendar", "booking__consultation_type"
            )
            .annotate(attempt_total=Count("contact_attempts"))
        )

    def get_fieldsets(self, request, obj=None):
        if obj is not None and hasattr(obj, "booking"):
            return (("Booking", {"fields": ("booking_summary",)}), *self.fieldsets)
        return self.fieldsets

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_export_permission(self, request):
        return request.user.has_perm("bookings.export_consultationrequest")

    def log_access(self, request, action, consultations=(), result_count=None):
        AccessLogEntry.objects.record(
            request.user, client_address(request), action, consultations, result_count
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        # What was searched for is not logged: it may be a patient's name.
        if request.GET.get(SEARCH_VAR, "").strip() and "cl" in getattr(
            response, "context_data", {}
        ):
            self.log_access(
                request,
                AccessLogEntry.Action.SEARCH,
                result_count=response.context_data["cl"].result_count,
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # A page showing the request; a save redirects, and the next page is logged.
        if response.status_code == 200:
            consultation = response.context_data["original"]
            self.log_access(request, AccessLogEntry.Action.VIEW, [consultation])
        return response

    def history_object(self, request, object_id):
        consultation = super().history_object(request, object_id)
        self.log_access(request, AccessLogEntry.Action.HISTORY, [consultation])
        return consultation

    def save_formset(self, request, form, formset, change):
        for attempt in formset.save(commit=False):
            attempt.staff = attempt.staff or request.user
            attempt.save()
        formset.save_m2m()
        for attempt in formset.deleted_objects:
            attempt.delete()

    def delete_model(self, request, obj):
        logger.info(
            "Consultation request %s deleted by user %s", obj.reference, request.user.pk
        )
        ConsultationRequest.objects.filter(pk=obj.pk).delete_with_history()

    def delete_queryset(self, request, queryset):
        for reference in queryset.values_list("reference", flat=True):
            logger.info(
                "Consultation request %s deleted by user %s", reference, request.user.pk
            )
        queryset.delete_with_history()

    @admin.display(description="urgent", boolean=True, ordering="is_urgent")
    def urgent_flag(self, obj):
        return obj.is_urgent

    @admin.display(description="booked time", ordering="booking__starts_at")
    def booked_time(self, obj):
        if not hasattr(obj, "booking"):
            return "–"
        booking = obj.booking
        text = f"{local_time(booking.starts_at)}, {booking.calendar}"
        if booking.status != Booking.Status.CONFIRMED:
            text = f"{text} ({booking.get_status_display()})"
        return text

    @admin.display(description="booking")
    def booking_summary(self, obj):
        booking = obj.booking
        return format_html(
            '{}, {}, with {}: {}. <a href="{}">See the booking</a>',
            booking.consultation_type,
            local_time(booking.starts_at),
            booking.calendar,
            booking.get_status_display(),
            booking_admin_url(booking),
        )

    @admin.display(description="staff e-mail")
    def notification_state(self, obj):
        if obj.is_spam:
            return "Not sent (spam)"
        if obj.staff_notified_at:
            return "Delivered"
        if obj.notification_attempts:
            return format_html(
                '<span class="request-undelivered">Not delivered: {} failed {}</span>',
                obj.notification_attempts,
                "try" if obj.notification_attempts == 1 else "tries",
            )
        return "Queued"

    @admin.display(description="contact attempts", ordering="attempt_total")
    def attempt_count(self, obj):
        return obj.attempt_total

    @admin.display(description="waiting")
    def waiting(self, obj):
        if obj.status != ConsultationRequest.Status.NEW:
            return "–"
        days = obj.business_days_waiting()
        if days >= 1:
            return format_html(
                '<span class="request-overdue">{} business day{}</span>',
                days,
                "" if days == 1 else "s",
            )
        hours = int((timezone.now() - obj.created_at).total_seconds() // 3600)
        return f"{hours} h"

    def has_block_permission(self, request):
        # An action's permissions are alternatives: both rights go in this one.
        return self.has_change_permission(request) and request.user.has_perm(
            "bookings.add_blockedsender"
        )

    @admin.action(
        description="Send the e-mail again for the selected requests",
        permissions=["change"],
    )
    def resend_notifications(self, request, queryset):
        pending = queryset.not_delivered() | queryset.filter(patient_confirmed_at=None)
        pending = pending.exclude(status=ConsultationRequest.Status.SPAM).distinct()
        for consultation in pending:
            deliver_consultation_emails.enqueue(consultation.pk)
        self.log_access(request, AccessLogEntry.Action.RESEND, pending)
        self.message_user(
            request, f"E-mail queued again for {len(pending)} request(s)."
        )

    @admin.action(
        description="Mark as spam and block the sender's e-mail address",
        permissions=["block"],
    )
    def mark_spam_and_block_sender(self, request, queryset):
        self.block(request, queryset, lambda email: email)

    @admin.action(
        description="Mark as spam and block the sender's whole e-mail domain",
        permissions=["block"],
    )
    def block_domain(self, request, queryset):
        free = sorted(
            {
                email_domain(email)
                for email in queryset.values_list("email", flat=True)
                if email_domain(email) in FREE_MAIL_DOMAINS
            }
        )
        if free:
            self.message_user(
                request,
                f"Not blocked, and left as they were: requests from {', '.join(free)}. "
                "Free e-mail services that many patients use cannot be blocked as "
                "a whole; block the sender's address instead.",
                messages.ERROR,
            )
            for domain in free:
                queryset = queryset.exclude(email__iendswith=f"@{domain}")
        self.block(request, queryset, email_domain)

    def block(self, request, queryset, blocked_value):
        values = {
            blocked_value(email.lower())
            for email in queryset.values_list("email", flat=True)
        }
        if not values:
            return
        for value in values:
            BlockedSender.objects.get_or_create(
                value=value, defaults={"created_by": request.user}
            )
        # One save each, so the revision history records who marked it and when.
        for consultation in queryset:
            consultation.status = ConsultationRequest.Status.SPAM
            consultation.save(update_fields=["status", "updated_at"])
        self.message_user(
            request,
            f"Marked as spam; blocked: {', '.join(sorted(values))}.",
            messages.SUCCESS,
        )

    @admin.action(
        description="Export the selected requests as CSV", permissions=["export"]
    )
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = (
            f'attachment; filename="consultation-requests-{stamp}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow([title for title, _ in CSV_COLUMNS])
        consultations = list(queryset.select_related("treatment"))
        for consultation in consultations:
            row = []
            for _, attribute in CSV_COLUMNS:
                value = getattr(consultation, attribute)
                row.append(spreadsheet_safe(value() if callable(value) else value))
            writer.writerow(row)
        self.log_access(request, AccessLogEntry.Action.EXPORT, consultations)
        logger.info(
            "User %s exported %d consultation requests",
            request.user.pk,
            len(consultations),
        )
        return response


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    """Superusers read the access log here; nobody can add, change or delete lines."""

    list_display = ("at", "username", "action", "reference", "result_count", "address")
    list_filter = ("action", "at")
    search_fields = ("reference", "username", "address")
    date_hierarchy = "at"
    fields = list_display
    actions = None

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Treatment)
class TreatmentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "order", "is_active")
    list_editable = ("order", "is_active")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(BlockedSender)
class BlockedSenderAdmin(admin.ModelAdmin):
    list_display = ("value", "created_at", "created_by")
    search_fields = ("value",)

    def save_model(self, request, obj, form, change):
        obj.created_by = obj.created_by or request.user
        super().save_model(request, obj, form, change)


def slots_by_day(slots):
    """[(day, [slot, ...]), ...] for sorted slots, by local day."""
    return [
        (day, list(day_slots))
        for day, day_slots in groupby(
            slots, key=lambda slot: timezone.localtime(slot.starts_at).date()
        )
    ]


def free_times_url(consultation_type, calendar=None):
    url = reverse(
        "admin:bookings_consultationtype_free_times", args=[consultation_type.pk]
    )
    return f"{url}?calendar={calendar.pk}" if calendar else url


@admin.register(ConsultationType)
class ConsultationTypeAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "duration_minutes",
        "buffer_minutes",
        "location",
        "is_offered_online",
        "order",
        "free_times_link",
    )
    list_editable = ("order",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("free_times_link",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "location", "is_offered_online", "order")}),
        (
            "Times",
            {
                "fields": (
                    "duration_minutes",
                    "buffer_minutes",
                    "notice_hours",
                    "horizon_days",
                    "daily_cap",
                    "free_times_link",
                )
            },
        ),
        ("Confirmation e-mail", {"fields": ("preparation",)}),
    )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/free-times/",
                self.admin_site.admin_view(self.free_times_view),
                name="bookings_consultationtype_free_times",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=f"free times, next {PREVIEW_DAYS} days")
    def free_times_link(self, obj):
        if obj.pk is None:
            return "Save first to see its free times."
        return format_html('<a href="{}">See the free times</a>', free_times_url(obj))

    def free_times_view(self, request, object_id):
        """The times patients could book in the next days: to check the set-up."""
        consultation_type = self.get_object(request, unquote(object_id))
        if consultation_type is None:
            raise Http404
        if not self.has_view_or_change_permission(request, consultation_type):
            raise PermissionDenied
        calendar = None
        if calendar_id := request.GET.get("calendar"):
            calendar = StaffCalendar.objects.filter(
                pk=int(calendar_id) if calendar_id.isdigit() else None
            ).first()
            if calendar is None:
                raise Http404
        today = timezone.localdate()
        slots = free_slots(
            consultation_type,
            today,
            today + timedelta(days=PREVIEW_DAYS - 1),
            calendar=calendar,
        )
        days = slots_by_day(slots)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Free times: {consultation_type}",
            "opts": self.opts,
            "original": consultation_type,
            "calendar": calendar,
            "days": days,
            "preview_days": PREVIEW_DAYS,
            "time_zone": settings.TIME_ZONE,
        }
        return TemplateResponse(
            request, "admin/bookings/consultationtype/free_times.html", context
        )


class HoursInline(admin.TabularInline):
    formfield_overrides = {
        models.TimeField: {"widget": widgets.AdminTimeWidget(format="%H:%M")}
    }


class WeeklyHoursInline(HoursInline):
    model = WeeklyHours
    extra = 1


class ExtraHoursInline(HoursInline):
    model = ExtraHours
    extra = 0


@admin.register(StaffCalendar)
class StaffCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "staff_member", "is_active", "types_taken")
    list_filter = ("is_active",)
    fields = ("name", "staff_member", "consultation_types", "is_active", "free_times")
    readonly_fields = ("free_times", "feed_address")
    formfield_overrides = {
        models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}
    }
    inlines = (WeeklyHoursInline, ExtraHoursInline)
    actions = ("renew_feed_address",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("staff_member")
            .prefetch_related("consultation_types")
        )

    def get_fields(self, request, obj=None):
        # The address shows the bookings: only for staff who may see them.
        if obj is not None and request.user.has_perm("bookings.view_booking"):
            return (*self.fields, "feed_address")
        return self.fields

    @admin.display(description="calendar feed address")
    def feed_address(self, obj):
        return format_html(
            "<code>{}</code><br>Add it in Google Calendar (“From URL”) or Outlook "
            "(“Subscribe from web”) to see this calendar's bookings: reference, "
            "type and time, no names. Anyone who has the address can see them: "
            "if it was shared by mistake, renew it from the list of calendars.",
            obj.get_feed_url(),
        )

    @admin.action(
        description="Renew the feed address (the old one stops working at once)",
        permissions=["change"],
    )
    def renew_feed_address(self, request, queryset):
        for calendar in queryset:
            calendar.renew_feed_token()
            logger.info(
                "Feed address of calendar %s renewed by user %s",
                calendar.pk,
                request.user.pk,
            )
        self.message_user(
            request,
            f"New feed address for {len(queryset)} calendar(s): copy it from the "
            "calendar's page into the calendar program again.",
            messages.SUCCESS,
        )

    @admin.display(description="consultations it takes")
    def types_taken(self, obj):
        return ", ".join(str(each) for each in obj.consultation_types.all()) or "–"

    @admin.display(description=f"free times, next {PREVIEW_DAYS} days")
    def free_times(self, obj):
        types = obj.consultation_types.all() if obj.pk else []
        if not types:
            return "Tick the consultations it takes and save to see its free times."
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            ((free_times_url(each, obj), each) for each in types),
        )


@admin.register(ClosedDates)
class ClosedDatesAdmin(admin.ModelAdmin):
    list_display = ("first_day", "last_day", "closed_calendar", "reason")
    list_filter = ("calendar",)
    date_hierarchy = "first_day"
    list_select_related = ("calendar",)

    @admin.display(description="calendar", ordering="calendar__name")
    def closed_calendar(self, obj):
        return obj.calendar or "Whole clinic"


# A chosen day stays this far from the ends of the calendar, so that the
# previous and next links and the day's local midnights can be computed.
SCHEDULE_MARGIN = timedelta(days=14)


def chosen_day(request):
    """The day in ?date=YYYY-MM-DD, today without one; 404 for anything else."""
    if "date" not in request.GET:
        return timezone.localdate()
    try:
        day = date.fromisoformat(request.GET["date"])
    except ValueError:
        raise Http404 from None
    if not date.min + SCHEDULE_MARGIN < day < date.max - SCHEDULE_MARGIN:
        raise Http404
    return day


def chosen_time(request):
    """The aware time in the form's starts_at, None when missing or forged."""
    try:
        starts_at = datetime.fromisoformat(request.POST.get("starts_at", ""))
    except ValueError:
        return None
    return starts_at if timezone.is_aware(starts_at) else None


def chosen_calendar(request):
    """The calendar in ?calendar=, None for all of them; 404 for an unknown one."""
    calendar_id = request.GET.get("calendar")
    if calendar_id is None:
        return None
    calendar = StaffCalendar.objects.filter(
        pk=int(calendar_id) if calendar_id.isdigit() else None
    ).first()
    if calendar is None:
        raise Http404
    return calendar


@admin.register(Booking)
class BookingAdmin(HistoryAdmin):
    """
    Bookings are read-only in the form: their time changes only through the
    rule that takes a time (move, cancel, outcome below), never by editing
    fields or reverting a version, which would skip the overlap checks.
    """

    list_display = ("starts_at", "consultation_type", "calendar", "status", "reference")
    list_filter = ("status", "calendar", "consultation_type", BookingMailFilter)
    date_hierarchy = "starts_at"
    list_select_related = ("consultation", "consultation_type", "calendar")
    search_fields = ("consultation__reference",)
    change_list_template = "admin/bookings/booking/change_list.html"
    change_form_template = "admin/bookings/booking/change_form.html"

    def get_urls(self):
        views = (
            ("day/", self.day_view, "day"),
            ("week/", self.week_view, "week"),
            ("<path:object_id>/move/", self.move_view, "move"),
            ("<path:object_id>/cancel/", self.cancel_view, "cancel"),
            ("<path:object_id>/outcome/", self.outcome_view, "outcome"),
        )
        return [
            *(
                path(
                    route,
                    self.admin_site.admin_view(view),
                    name=f"bookings_booking_{name}",
                )
                for route, view, name in views
            ),
            *super().get_urls(),
        ]

    @admin.display(description="reference", ordering="consultation__reference")
    def reference(self, obj):
        return obj.consultation.reference

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_rebook_permission(self, request):
        """The right to move, cancel or record the outcome of bookings."""
        return request.user.has_perm("bookings.change_booking")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_rebook_permission": self.has_rebook_permission(request),
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def booking_to_change(self, request, object_id):
        if not self.has_rebook_permission(request):
            raise PermissionDenied
        booking = self.get_object(request, unquote(object_id))
        if booking is None:
            raise Http404
        return booking

    def booking_page(self, request, booking, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/bookings/booking/{template}",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.opts,
                "original": booking,
                "time_zone": settings.TIME_ZONE,
                **context,
            },
        )

    def changed(self, request, comment, action, *args, **kwargs):
        """Run action(*args) as one revision of the booking's history, by this user."""
        try:
            with self.create_revision(request):
                reversion.set_comment(comment)
                action(*args, **kwargs)
        except SlotTaken as taken:
            nearest = ", ".join(local_time(slot.starts_at) for slot in taken.nearest)
            message = "That time was just taken."
            if nearest:
                message = f"{message} The nearest free times: {nearest}."
            self.message_user(request, message, messages.ERROR)
            return False
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return False
        self.message_user(request, comment, messages.SUCCESS)
        return True

    def move_view(self, request, object_id):
        """Move a booking to another free time of its calendar and type."""
        booking = self.booking_to_change(request, object_id)
        if request.method == "POST":
            starts_at = chosen_time(request)
            if starts_at is None:
                self.message_user(request, "Please choose a time.", messages.ERROR)
            elif self.changed(
                request,
                f"Moved to {local_time(starts_at)}; the patient is told by e-mail.",
                booking.move_to,
                starts_at,
                by_staff=True,
            ):
                return redirect(booking_admin_url(booking))
        today = timezone.localdate()
        slots = free_slots(
            booking.consultation_type,
            today,
            today + timedelta(days=PREVIEW_DAYS - 1),
            calendar=booking.calendar,
            by_staff=True,
            ignoring=booking,
        )
        return self.booking_page(
            request,
            booking,
            "move.html",
            f"Move {booking.consultation.reference} to another time",
            days=slots_by_day(slots),
            preview_days=PREVIEW_DAYS,
        )

    def cancel_view(self, request, object_id):
        booking = self.booking_to_change(request, object_id)
        if request.method == "POST" and self.changed(
            request,
            "Cancelled; the patient is told by e-mail.",
            booking.cancel,
            by_staff=True,
        ):
            return redirect(booking_admin_url(booking))
        return self.booking_page(
            request,
            booking,
            "cancel.html",
            f"Cancel {booking.consultation.reference}",
        )

    def outcome_view(self, request, object_id):
        """Record whether the patient came."""
        booking = self.booking_to_change(request, object_id)
        outcomes = {
            status: label
            for status, label in Booking.Status.choices
            if status in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
        }
        if request.method == "POST":
            status = request.POST.get("status")
            if status not in outcomes:
                return HttpResponseBadRequest("Not an outcome.")
            if self.changed(
                request,
                f"Marked: {outcomes[status]}.",
                booking.set_outcome,
                status,
            ):
                return redirect(booking_admin_url(booking))
        return self.booking_page(
            request,
            booking,
            "outcome.html",
            f"Did the patient of {booking.consultation.reference} come?",
            outcomes=outcomes.items(),
        )

    def day_view(self, request):
        """One day's bookings, for one calendar or all of them."""
        day = chosen_day(request)
        return self.schedule_view(request, "day", day, day, timedelta(days=1))

    def week_view(self, request):
        """The bookings of the week (Monday to Sunday) around a day, a list per day."""
        day = chosen_day(request)
        monday = day - timedelta(days=day.weekday())
        return self.schedule_view(
            request, "week", monday, monday + timedelta(days=6), timedelta(days=7)
        )

    def schedule_view(self, request, period, first_day, last_day, step):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        calendar = chosen_calendar(request)
        zone = timezone.get_default_timezone()
        bookings = (
            Booking.objects.active()
            .filter(
                starts_at__gte=local_midnight(first_day, zone),
                starts_at__lt=local_midnight(last_day + timedelta(days=1), zone),
            )
            .select_related("consultation", "consultation_type", "calendar")
            .order_by("starts_at", "calendar__name")
        )
        if calendar:
            bookings = bookings.filter(calendar=calendar)
        by_day = {
            day: list(day_bookings)
            for day, day_bookings in groupby(
                bookings,
                key=lambda booking: timezone.localtime(booking.starts_at).date(),
            )
        }

        def schedule_url(view, day, chosen=calendar):
            query = {"date": day.isoformat()}
            if chosen:
                query["calendar"] = chosen.pk
            url = reverse(f"admin:bookings_booking_{view}")
            return f"{url}?{urlencode(query)}"

        if period == "day":
            title = f"Bookings on {dateformat.format(first_day, 'l j F Y')}"
        else:
            title = f"Bookings in the week of {dateformat.format(first_day, 'j F Y')}"
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "period": period,
            "day": first_day,
            "days": [
                (day, by_day.get(day, [])) for day in days_between(first_day, last_day)
            ],
            "calendar": calendar,
            "calendars": [
                (each, schedule_url(period, first_day, each), each == calendar)
                for each in StaffCalendar.objects.all()
            ],
            "all_calendars_url": schedule_url(period, first_day, None),
            "previous_url": schedule_url(period, first_day - step),
            "next_url": schedule_url(period, first_day + step),
            "today_url": schedule_url(period, timezone.localdate()),
            "day_url": schedule_url("day", first_day),
            "week_url": schedule_url("week", first_day),
            "time_zone": settings.TIME_ZONE,
        }
        return TemplateResponse(
            request, "admin/bookings/booking/schedule.html", context
        )

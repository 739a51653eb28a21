import re
import secrets
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import SimpleLazyObject, cached_property
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, FormView, ListView, TemplateView, View

from pages.models import ClinicDetails
from roswell_site.client_ip import client_address

from .availability import days_between, free_slots, local_midnight, nearest_free_slots
from .caching import CachedPage, Placeholders
from .calendar_files import calendar_feed
from .forms import (
    FORM_TOKEN_MAX_AGE,
    BookingForm,
    ConsultationRequestForm,
    WaitlistForm,
    article_treatment,
    issue_form_token,
)
from .models import (
    Booking,
    ConsultationRequest,
    ConsultationType,
    SlotTaken,
    StaffCalendar,
    SubmissionCount,
    WaitlistEntry,
    can_be_booked_online,
    local_day,
)

# The thanks page learns the patient's reference from a signed cookie that only
# it receives (its path), not from a session: no session row to write per
# request, and the patient's later page views stay cacheable (pages/caching.py).
THANKS_COOKIE = "bookings_thanks"
THANKS_SALT = "bookings.thanks"
# The booking's confirmation page, likewise.
BOOKED_COOKIE = "bookings_booked"
BOOKED_SALT = "bookings.booked"
# A random key for the browser that was handed the form: a form sent again is
# thanked only there (see issue_form_token), so nobody else who has its token
# sees that patient's reference or crisis guidance.
BROWSER_COOKIE = "bookings_browser"
BROWSER_KEY = re.compile(r"[A-Za-z0-9_-]{32}")
JUST_TAKEN = (
    "That time was just taken. Your details are kept: please choose one of the "
    "nearest free times below."
)
NOT_FREE = "That time is not free"
SENT_BEFORE = (
    "This form was sent before. If it was you, we have your request and will be "
    "in touch. To send another, please check your details below and send them."
)


# What an article's call-to-action adds to the booking pages' links.
ARTICLE_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


def redirect_with_reference(url, cookie, salt, consultation):
    """
    Redirect to url with the consultation's reference in a signed cookie that
    only that page receives. The reference only: nothing about the patient's
    health (the urgent flag included) is written to their browser.
    """
    response = HttpResponseRedirect(url)
    response.set_signed_cookie(
        cookie,
        consultation.reference,
        salt=salt,
        max_age=settings.BOOKINGS_THANKS_MINUTES * 60,
        path=url,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def reference_from_cookie(request, cookie, salt):
    return request.get_signed_cookie(
        cookie,
        default=None,
        salt=salt,
        max_age=settings.BOOKINGS_THANKS_MINUTES * 60,
    )


def over_rate_limit(request):
    """Count one valid request from this client; True once past the hourly limit."""
    return SubmissionCount.objects.over_limit(client_address(request))


def article_slug(request):
    """The slug of the article the patient came from, if the link carried one."""
    slug = request.GET.get("article", "")
    return slug if ARTICLE_SLUG.fullmatch(slug) else ""


def with_article(url, request, **params):
    """The URL with these query parameters and the article the patient came from."""
    # A page rendered for the booking pages' cache links to a placeholder.
    if slug := getattr(request, "article_placeholder", "") or article_slug(request):
        params["article"] = slug
    return f"{url}?{urlencode(params)}" if params else url


class CachedPageMixin:
    """
    GET from the booking pages' cache (bookings/caching.py): the page rendered
    once with placeholders, and this visitor's own tokens put in. Views define
    page_key() (what the page depends on besides the free times, read from the
    query parameters in page_query only) and visitor_form_token(), and set
    valid_until when the page holds only until then. A GET with any other query
    parameter (e.g. ?page=, which the canonical link keeps) is rendered live.
    """

    page_query = frozenset({"article"})
    placeholders = None
    valid_until = None

    def get(self, request, *args, **kwargs):
        if not self.page_query.issuperset(request.GET):
            return super().get(request, *args, **kwargs)
        has_article = bool(article_slug(request))
        page = CachedPage(type(self).__name__, has_article, *self.page_key())
        if kept := page.get():
            content, self.placeholders = kept
            response = HttpResponse(content)
            self.add_visitor_cookies(response)
        else:
            self.placeholders = Placeholders()
            if has_article:
                request.article_placeholder = self.placeholders.article
            response = super().get(request, *args, **kwargs).render()
            content = response.content.decode()
            # A CSP nonce in the page only matches this response's header.
            if response.status_code == 200 and not get_nonce(request):
                page.keep(content, self.placeholders, self.valid_until)
        response.content = self.placeholders.fill(
            content,
            csrf_token=get_token(request),
            form_token=self.visitor_form_token(),
            article=article_slug(request),
        )
        return response

    def page_key(self):
        return ()

    def add_visitor_cookies(self, response):
        """Cookies the view sets with the page (none here)."""

    def get_context_data(self, **kwargs):
        if self.placeholders:
            kwargs["csrf_token"] = self.placeholders.csrf_token
        return super().get_context_data(**kwargs)


class ClinicFormMixin:
    """One record of the clinic's details for the form and the page around it."""

    @cached_property
    def clinic(self):
        return SimpleLazyObject(ClinicDetails.load)

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"clinic": self.clinic}

    def get_context_data(self, **kwargs):
        return super().get_context_data(clinic=self.clinic, **kwargs)


class PatientFormMixin(ClinicFormMixin):
    """
    A form of the patient's details (see PatientDetailsForm): a fresh one-time
    token bound to this browser, the treatment of the article they came from,
    the rate limit, and one consultation per token however often it is sent.
    Views define submit(form) and thank(consultation).
    """

    @cached_property
    def browser_key(self):
        key = self.request.COOKIES.get(BROWSER_COOKIE, "")
        return key if BROWSER_KEY.fullmatch(key) else secrets.token_urlsafe(24)

    def get_initial(self):
        placeholders = getattr(self, "placeholders", None)
        return super().get_initial() | {
            "form_token": placeholders.form_token
            if placeholders
            else issue_form_token(self.browser_key)
        }

    def visitor_form_token(self):
        return issue_form_token(self.browser_key)

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {
            "browser_key": self.browser_key,
            "article": article_slug(self.request),
        }

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        self.add_visitor_cookies(response)
        return response

    def add_visitor_cookies(self, response):
        response.set_cookie(
            BROWSER_COOKIE,
            self.browser_key,
            max_age=FORM_TOKEN_MAX_AGE,
            path=reverse("bookings:request"),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )

    def form_valid(self, form):
        if over_rate_limit(self.request):
            if existing := self.already_saved(form):
                return self.thank_again(form, existing)
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=429)
        try:
            consultation = self.submit(form)
        except IntegrityError:
            # This form's one-time token was used: sent before, or twice at once.
            consultation = self.already_saved(form)
            if consultation is None:
                raise
            return self.thank_again(form, consultation)
        return self.thank(consultation)

    def already_saved(self, form):
        return ConsultationRequest.objects.filter(form_token=form.token_id).first()

    def thank_again(self, form, consultation):
        """
        Thank a form sent again (double click, back button) in the browser it was
        given to; any other browser gets the form back, with a fresh token.
        """
        if form.sent_by_its_browser():
            return self.thank(consultation)
        form.data["form_token"] = issue_form_token(self.browser_key)
        form.add_error(None, ValidationError(SENT_BEFORE, code="sent_before"))
        return self.form_invalid(form)


# Each form carries its own one-time token, and the thanks page a patient's
# reference: neither may be kept by a browser or proxy cache.
@method_decorator(never_cache, name="dispatch")
class ConsultationRequestView(PatientFormMixin, CachedPageMixin, FormView):
    template_name = "bookings/request_form.html"
    form_class = ConsultationRequestForm
    http_method_names = ["get", "head", "options", "post"]

    def page_key(self):
        # The treatment chosen for the article the patient came from.
        article = article_slug(self.request)
        return (article_treatment(article) if article else None,)

    def get_initial(self):
        return super().get_initial() | {
            "preferred_time": ConsultationRequest.TimeOfDay.ANY
        }

    def get_context_data(self, **kwargs):
        book_url = with_article(reverse("bookings:book"), self.request)
        # The form is sent to its own address with the article it came from.
        form_url = with_article(reverse("bookings:request"), self.request)
        return super().get_context_data(**kwargs) | {
            "book_url": book_url,
            "form_url": form_url,
        }

    def submit(self, form):
        return form.save()

    def thank(self, consultation):
        return redirect_with_reference(
            reverse("bookings:thanks"), THANKS_COOKIE, THANKS_SALT, consultation
        )


@method_decorator(never_cache, name="dispatch")
class ThanksView(TemplateView):
    template_name = "bookings/thanks.html"

    def get(self, request, *args, **kwargs):
        reference = reference_from_cookie(request, THANKS_COOKIE, THANKS_SALT)
        consultation = (
            ConsultationRequest.objects.filter(reference=reference)
            .only("reference", "is_urgent")
            .first()
        )
        if consultation is None:
            return redirect("bookings:request")
        return super().get(
            request, reference=consultation.reference, urgent=consultation.is_urgent
        )


class TimeChoice(NamedTuple):
    """A free time as the patient sees it: its start and the link to book it."""

    starts_at: datetime
    url: str


class DayChoice(NamedTuple):
    """A coming day and the link to its times, empty when it has none free."""

    day: date
    url: str


def free_slots_by_day(consultation_type, first_day, last_day, now=None):
    """The free slots of the type in the range, by local day."""
    zone = timezone.get_default_timezone()
    slots = free_slots(consultation_type, first_day, last_day, now)
    return {
        day: list(day_slots)
        for day, day_slots in groupby(
            slots, key=lambda slot: timezone.localtime(slot.starts_at, zone).date()
        )
    }


def zone_label(day):
    """The clinic's time zone in words on that day, e.g. "New York time (EST)"."""
    zone = timezone.get_default_timezone()
    place = zone.key.rsplit("/", 1)[-1].replace("_", " ")
    if place == "UTC":
        return "UTC"
    abbreviation = datetime.combine(day, time(12), tzinfo=zone).tzname()
    if not abbreviation.isalpha():
        abbreviation = f"UTC{abbreviation}"
    return f"{place} time ({abbreviation})"


def time_choices(consultation_type, slots, request):
    """One choice per free time, however many calendars offer it."""
    starts = sorted({slot.starts_at for slot in slots})
    return [
        TimeChoice(
            starts_at,
            with_article(
                reverse("bookings:book_time", args=[consultation_type.slug, starts_at]),
                request,
            ),
        )
        for starts_at in starts
    ]


class OfferedTypesMixin:
    """Only the consultation types patients can book online."""

    def get_queryset(self):
        return ConsultationType.objects.offered_online()


class ConsultationTypeListView(OfferedTypesMixin, ListView):
    template_name = "bookings/book_types.html"
    context_object_name = "consultation_types"

    def get_context_data(self, **kwargs):
        request_url = with_article(reverse("bookings:request"), self.request)
        choices = [
            (
                consultation_type,
                with_article(
                    reverse("bookings:book_days", args=[consultation_type.slug]),
                    self.request,
                ),
            )
            for consultation_type in self.object_list
        ]
        return super().get_context_data(**kwargs) | {
            "choices": choices,
            "request_url": request_url,
        }


# The free times change with every booking: the back button must not show a
# time as free from the browser's cache.
@method_decorator(never_cache, name="dispatch")
class BookingDaysView(CachedPageMixin, OfferedTypesMixin, DetailView):
    """The coming days of a type, and the free times of the chosen day."""

    template_name = "bookings/book_days.html"
    context_object_name = "consultation_type"
    page_query = frozenset({"article", "day"})

    def page_key(self):
        return (self.kwargs["slug"], self.asked_day())

    def asked_day(self):
        """
        The ?day= asked for if it could be shown (within a year), else "": any
        other shows the first free day, the same page as none. So a visitor
        cannot make the cache keep more than a year of pages per type.
        """
        asked = self.request.GET.get("day", "")
        try:
            day = date.fromisoformat(asked)
        except ValueError:
            return ""
        today = timezone.localdate()
        # chosen_day() matches the written form only (not 20270112, say).
        if day.isoformat() != asked or not today <= day <= today + timedelta(days=366):
            return ""
        return asked

    def visitor_form_token(self):
        # The waitlist form's token is bound to no browser (see WaitlistForm).
        return issue_form_token()

    def get_context_data(self, **kwargs):
        consultation_type = self.object
        now = timezone.now()
        today = local_day(now)
        last_day = today + timedelta(days=consultation_type.horizon_days)
        slots_by_day = free_slots_by_day(consultation_type, today, last_day, now)
        self.valid_until = self.free_times_hold_until(
            consultation_type, slots_by_day, today
        )
        days_url = reverse("bookings:book_days", args=[consultation_type.slug])
        days = [
            DayChoice(
                day,
                with_article(days_url, self.request, day=day.isoformat())
                if day in slots_by_day
                else "",
            )
            for day in days_between(today, last_day)
        ]
        chosen = self.chosen_day(days)
        times = (
            time_choices(
                consultation_type, slots_by_day.get(chosen.day, []), self.request
            )
            if chosen
            else []
        )
        return super().get_context_data(**kwargs) | {
            "days": days,
            "chosen": chosen,
            "times": times,
            "zone_label": zone_label(chosen.day if chosen else today),
            "clinic_zone": timezone.get_default_timezone().key,
            "request_url": with_article(reverse("bookings:request"), self.request),
            "waitlist_form_token": self.placeholders and self.placeholders.form_token,
        }

    def free_times_hold_until(self, consultation_type, slots_by_day, today):
        """
        When the free times shown change by themselves (as a timestamp): when
        the first comes inside the minimum notice, or at midnight.
        """
        zone = timezone.get_default_timezone()
        midnight = local_midnight(today + timedelta(days=1), zone).timestamp()
        if not slots_by_day:
            return midnight
        first = min(slots_by_day)
        notice = timedelta(hours=consultation_type.notice_hours)
        return min(midnight, (slots_by_day[first][0].starts_at - notice).timestamp())

    def chosen_day(self, days):
        """The day asked for (?day=YYYY-MM-DD) if shown, else the first free one."""
        asked = self.request.GET.get("day", "")
        for choice in days:
            if choice.day.isoformat() == asked:
                return choice
        return next((choice for choice in days if choice.url), None)


# The form carries a one-time token: no cache may keep it.
@method_decorator(never_cache, name="dispatch")
class BookingDetailsView(PatientFormMixin, FormView):
    """The patient's details for a chosen time, and booking it."""

    template_name = "bookings/book_details.html"
    form_class = BookingForm
    http_method_names = ["get", "head", "options", "post"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.starts_at = kwargs["starts_at"]

    @cached_property
    def consultation_type(self):
        return get_object_or_404(
            ConsultationType.objects.offered_online(), slug=self.kwargs["slug"]
        )

    @cached_property
    def nearest(self):
        """The free times nearest the chosen one, offered when it cannot be booked."""
        return nearest_free_slots(self.consultation_type, self.starts_at)

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"consultation_type": self.consultation_type}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The chosen day's times only: all the coming days' are worked out for
        # the nearest times, when this one cannot be booked.
        is_free = can_be_booked_online(self.consultation_type, self.starts_at)
        problem = context.get("problem") or ("" if is_free else NOT_FREE)
        day = timezone.localdate(self.starts_at)
        return context | {
            "consultation_type": self.consultation_type,
            "starts_at": self.starts_at,
            "ends_at": self.starts_at + self.consultation_type.duration,
            "zone_label": zone_label(day),
            "clinic_zone": timezone.get_default_timezone().key,
            "problem": problem,
            # Whatever the patient typed stays on the page.
            "show_form": self.request.method == "POST" or not problem,
            "nearest_times": time_choices(
                self.consultation_type,
                [slot for slot in self.nearest if slot.starts_at != self.starts_at],
                self.request,
            )
            if problem
            else [],
            "days_url": with_article(
                reverse("bookings:book_days", args=[self.consultation_type.slug]),
                self.request,
                day=day.isoformat(),
            ),
        }

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except SlotTaken as taken:
            self.nearest = taken.nearest
            return self.cannot_book(form, JUST_TAKEN)
        except ValidationError as error:
            return self.cannot_book(form, error.messages[0])

    def submit(self, form):
        """Book the time (Booking.objects.take); a spam submission is only stored."""
        consultation = form.unsaved_consultation()
        Booking.objects.take(consultation, self.consultation_type, self.starts_at)
        return consultation

    def cannot_book(self, form, problem):
        # The same form sent twice at once: its own booking took the time.
        if existing := self.already_saved(form):
            return self.thank_again(form, existing)
        context = self.get_context_data(form=form, problem=problem)
        return self.render_to_response(context, status=409)

    def thank(self, consultation):
        if consultation.status != ConsultationRequest.Status.BOOKED:
            return redirect_with_reference(
                reverse("bookings:thanks"), THANKS_COOKIE, THANKS_SALT, consultation
            )
        return redirect_with_reference(
            reverse("bookings:booked"), BOOKED_COOKIE, BOOKED_SALT, consultation
        )


@method_decorator(never_cache, name="dispatch")
class BookedView(TemplateView):
    """The confirmation of the booking this browser just made."""

    template_name = "bookings/book_confirmed.html"

    def get(self, request, *args, **kwargs):
        reference = reference_from_cookie(request, BOOKED_COOKIE, BOOKED_SALT)
        booking = (
            Booking.objects.active()
            .select_related("consultation", "consultation_type")
            .filter(consultation__reference=reference)
            .first()
        )
        if booking is None:
            return redirect("bookings:book")
        return super().get(
            request,
            booking=booking,
            zone_label=zone_label(timezone.localdate(booking.starts_at)),
            clinic_zone=timezone.get_default_timezone().key,
            urgent=booking.consultation.is_urgent,
        )


class OfferedTypeMixin:
    """A view of the consultation type patients can book online named in the URL."""

    def dispatch(self, request, *args, slug, **kwargs):
        self.consultation_type = get_object_or_404(
            ConsultationType.objects.offered_online(), slug=slug
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            consultation_type=self.consultation_type, **kwargs
        )


# The form carries a one-time token: no cache may keep it.
@method_decorator(never_cache, name="dispatch")
class WaitlistView(ClinicFormMixin, OfferedTypeMixin, FormView):
    """
    Join the waitlist of a type. The type's days page shows this form too
    ({% waitlist_form %}); this page shows it alone, and with its errors.
    """

    template_name = "bookings/waitlist_form.html"
    form_class = WaitlistForm
    http_method_names = ["get", "head", "options", "post"]

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"consultation_type": self.consultation_type}

    def form_valid(self, form):
        if over_rate_limit(self.request):
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=429)
        try:
            form.save()
        except IntegrityError:
            # This form's one-time token was used: sent before, or twice at once.
            if not WaitlistEntry.objects.filter(form_token=form.token_id).exists():
                raise
        return redirect("bookings:waitlist_thanks", slug=self.consultation_type.slug)


class WaitlistThanksView(OfferedTypeMixin, TemplateView):
    template_name = "bookings/waitlist_thanks.html"


@method_decorator(never_cache, name="dispatch")
class LeaveWaitlistView(TemplateView):
    """
    Leave the waitlist from the link in an offer: a page that asks, and a POST
    that deletes the entry (mail programs that open links must not do it).
    """

    template_name = "bookings/waitlist_leave.html"
    http_method_names = ["get", "head", "options", "post"]

    def dispatch(self, request, *args, token, **kwargs):
        self.entry = WaitlistEntry.objects.from_leave_token(token)
        return super().dispatch(request, *args, token=token, **kwargs)

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(entry=self.entry, **kwargs)
        return self.render_to_response(context, status=200 if self.entry else 404)

    def post(self, request, *args, **kwargs):
        if self.entry is None:
            return self.get(request, *args, **kwargs)
        self.entry.delete()
        return self.render_to_response(self.get_context_data(left=True, **kwargs))


@method_decorator(never_cache, name="dispatch")
class BookingFromTokenMixin:
    """
    The booking of the manage link in the URL. A link that was tampered with or
    has expired gets a page that says only that, with a 404.
    """

    http_method_names = ["get", "head", "options", "post"]

    def dispatch(self, request, *args, **kwargs):
        self.booking = Booking.objects.from_manage_token(kwargs["token"])
        if self.booking is None:
            return TemplateResponse(request, "bookings/manage_invalid.html", status=404)
        return super().dispatch(request, *args, **kwargs)

    def manage_url(self, done=None):
        url = reverse("bookings:manage", args=[self.kwargs["token"]])
        return f"{url}?done={done}" if done else url

    def get_context_data(self, **kwargs):
        kwargs["token"] = self.kwargs["token"]
        return super().get_context_data(
            booking=self.booking,
            can_change=self.booking.can_be_changed_by_patient(),
            **kwargs,
        )


class ManageBookingView(BookingFromTokenMixin, TemplateView):
    template_name = "bookings/manage.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        done = self.request.GET.get("done")
        return super().get_context_data(
            done=done if done in ("moved", "cancelled") else None, **kwargs
        )


class ChangeBookingMixin(BookingFromTokenMixin):
    """Until the cut-off only: after it, the manage page gives the phone number."""

    def get(self, request, *args, **kwargs):
        if not self.booking.can_be_changed_by_patient():
            return redirect(self.manage_url())
        return super().get(request, *args, **kwargs)


class CancelBookingView(ChangeBookingMixin, TemplateView):
    template_name = "bookings/manage_cancel.html"

    def post(self, request, *args, **kwargs):
        try:
            self.booking.cancel()
        except ValidationError:
            return redirect(self.manage_url())
        return redirect(self.manage_url("cancelled"))


class MoveBookingView(ChangeBookingMixin, TemplateView):
    template_name = "bookings/manage_move.html"

    def get_context_data(self, **kwargs):
        consultation_type = self.booking.consultation_type
        today = local_day(timezone.now())
        slots = free_slots(
            consultation_type,
            today,
            today + timedelta(days=consultation_type.horizon_days),
            ignoring=self.booking,
        )
        times = sorted(
            {
                slot.starts_at
                for slot in slots
                if slot.starts_at != self.booking.starts_at
            }
        )
        days = {
            day: list(day_times) for day, day_times in groupby(times, key=local_day)
        }
        day = self.chosen_day(days)
        return super().get_context_data(
            days=list(days), day=day, times=days.get(day, []), **kwargs
        )

    def chosen_day(self, days):
        try:
            wanted = date.fromisoformat(self.request.GET.get("day", ""))
        except ValueError:
            wanted = None
        return wanted if wanted in days else next(iter(days), None)

    def post(self, request, *args, **kwargs):
        try:
            starts_at = datetime.fromisoformat(request.POST.get("starts_at", ""))
        except ValueError:
            starts_at = None
        if starts_at is None or timezone.is_naive(starts_at):
            return self.refuse("Please choose one of the times shown.", status=400)
        try:
            self.booking.move_to(starts_at)
        except ValidationError as error:
            if error.code in ("past_cutoff", "not_confirmed"):
                return redirect(self.manage_url())
            return self.refuse(error.messages[0], status=400)
        except SlotTaken as taken:
            return self.refuse(
                "That time was just taken. Please choose another.",
                status=409,
                nearest=taken.nearest,
            )
        return redirect(self.manage_url("moved"))

    def refuse(self, error, status, **context):
        context = self.get_context_data(error=error, **context)
        return self.render_to_response(context, status=status)


# Calendar programs show the recent past too; older bookings are left out.
FEED_DAYS_BACK = 30


# The address's secret token is the feed's only credential: no cache may keep
# or share what it returns.
@method_decorator(never_cache, name="dispatch")
class CalendarFeedView(View):
    """A calendar's bookings as an .ics subscription: reference, type and time."""

    http_method_names = ["get", "head", "options"]

    def get(self, request, token):
        calendar = get_object_or_404(StaffCalendar, feed_token=token)
        bookings = (
            Booking.objects.active()
            .filter(
                calendar=calendar,
                starts_at__gte=timezone.now() - timedelta(days=FEED_DAYS_BACK),
            )
            .select_related("consultation", "consultation_type")
        )
        return HttpResponse(
            calendar_feed(calendar, bookings),
            content_type="text/calendar; charset=utf-8",
        )

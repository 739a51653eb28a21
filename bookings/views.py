import re
import secrets
from datetime import date, datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView, View

from pages.models import Article
from roswell_site.client_ip import client_address

from .availability import free_slots
from .calendar_files import calendar_feed
from .forms import (
    FORM_TOKEN_MAX_AGE,
    ConsultationRequestForm,
    WaitlistForm,
    issue_form_token,
)
from .models import (
    Booking,
    ConsultationRequest,
    ConsultationType,
    SlotTaken,
    StaffCalendar,
    SubmissionCount,
    Treatment,
    WaitlistEntry,
    local_day,
)

# The thanks page learns the patient's reference from a signed cookie that only
# it receives (its path), not from a session: no session row to write per
# request, and the patient's later page views stay cacheable (pages/caching.py).
THANKS_COOKIE = "bookings_thanks"
THANKS_SALT = "bookings.thanks"
# A random key for the browser that was handed the form: a form sent again is
# thanked only there (see issue_form_token), so nobody else who has its token
# sees that patient's reference or crisis guidance.
BROWSER_COOKIE = "bookings_browser"
BROWSER_KEY = re.compile(r"[A-Za-z0-9_-]{32}")
SENT_BEFORE = (
    "This form was sent before. If it was you, we have your request and will be "
    "in touch. To send another, please check your details below and send them."
)


def over_rate_limit(request):
    """Count one valid request from this client; True once past the hourly limit."""
    return SubmissionCount.objects.over_limit(client_address(request))


# Each form carries its own one-time token, and the thanks page a patient's
# reference: neither may be kept by a browser or proxy cache.
@method_decorator(never_cache, name="dispatch")
class ConsultationRequestView(FormView):
    template_name = "bookings/request_form.html"
    form_class = ConsultationRequestForm
    http_method_names = ["get", "head", "options", "post"]

    @cached_property
    def browser_key(self):
        key = self.request.COOKIES.get(BROWSER_COOKIE, "")
        return key if BROWSER_KEY.fullmatch(key) else secrets.token_urlsafe(24)

    def get_initial(self):
        initial = {
            "form_token": issue_form_token(self.browser_key),
            "preferred_time": ConsultationRequest.TimeOfDay.ANY,
        }
        if treatment := self.treatment_from_article():
            initial["treatment"] = treatment
        return initial

    def treatment_from_article(self):
        """The treatment matching a topic of the article the patient came from."""
        slug = self.request.GET.get("article", "")
        if not slug:
            return None
        article = Article.objects.published().filter(slug=slug).first()
        if article is None:
            return None
        topic_slugs = article.topics.values_list("slug", flat=True)
        return Treatment.objects.filter(is_active=True, slug__in=topic_slugs).first()

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"browser_key": self.browser_key}

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        response.set_cookie(
            BROWSER_COOKIE,
            self.browser_key,
            max_age=FORM_TOKEN_MAX_AGE,
            path=reverse("bookings:request"),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response

    def form_valid(self, form):
        if over_rate_limit(self.request):
            if existing := self.already_saved(form):
                return self.thank_again(form, existing)
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=429)
        try:
            consultation = form.save()
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

    def thank(self, consultation):
        thanks_url = reverse("bookings:thanks")
        response = HttpResponseRedirect(thanks_url)
        # The reference only: nothing about the patient's health (the urgent flag
        # included) is written to their browser.
        response.set_signed_cookie(
            THANKS_COOKIE,
            consultation.reference,
            salt=THANKS_SALT,
            max_age=settings.BOOKINGS_THANKS_MINUTES * 60,
            path=thanks_url,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response


@method_decorator(never_cache, name="dispatch")
class ThanksView(TemplateView):
    template_name = "bookings/thanks.html"

    def get(self, request, *args, **kwargs):
        reference = request.get_signed_cookie(
            THANKS_COOKIE,
            default=None,
            salt=THANKS_SALT,
            max_age=settings.BOOKINGS_THANKS_MINUTES * 60,
        )
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


class OfferedTypeMixin:
    """A view of the consultation type patients can book online named in the URL."""

    def dispatch(self, request, *args, slug, **kwargs):
        self.consultation_type = get_object_or_404(
            ConsultationType, slug=slug, is_offered_online=True
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            consultation_type=self.consultation_type, **kwargs
        )


# The form carries a one-time token: no cache may keep it.
@method_decorator(never_cache, name="dispatch")
class WaitlistView(OfferedTypeMixin, FormView):
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

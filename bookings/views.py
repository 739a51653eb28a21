from django.conf import settings
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from pages.models import Article
from roswell_site.client_ip import client_address

from .forms import ConsultationRequestForm, issue_form_token
from .models import ConsultationRequest, SubmissionCount, Treatment

# The thanks page learns the patient's reference from a signed cookie that only
# it receives (its path), not from a session: no session row to write per
# request, and the patient's later page views stay cacheable (pages/caching.py).
THANKS_COOKIE = "bookings_thanks"
THANKS_SALT = "bookings.thanks"


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

    def get_initial(self):
        initial = {
            "form_token": issue_form_token(),
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

    def form_valid(self, form):
        if over_rate_limit(self.request):
            # A form sent again (double click, back button) still gets its thanks.
            if existing := self.already_saved(form):
                return self.thank(existing)
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=429)
        try:
            consultation = form.save()
        except IntegrityError:
            # This form's one-time token was used: sent before, or twice at once.
            consultation = self.already_saved(form)
            if consultation is None:
                raise
        return self.thank(consultation)

    def already_saved(self, form):
        return ConsultationRequest.objects.filter(form_token=form.token_id).first()

    def thank(self, consultation):
        thanks_url = reverse("bookings:thanks")
        response = HttpResponseRedirect(thanks_url)
        # The reference only: nothing about the patient's health (the urgent flag
        # included) is written to their browser.
        response.set_signed_cookie(
            THANKS_COOKIE,
            consultation.reference,
            salt=THANKS_SALT,
            max_age=settings.SESSION_COOKIE_AGE,
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
            max_age=settings.SESSION_COOKIE_AGE,
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

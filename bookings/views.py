import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from pages.models import Article
from roswell_site.client_ip import client_address

from .forms import ConsultationRequestForm, issue_form_token
from .models import ConsultationRequest, Treatment

SESSION_REFERENCE = "bookings_reference"
SESSION_URGENT = "bookings_urgent"


def over_rate_limit(request):
    """Count one request for this client; True once it is past the hourly limit."""
    address_hash = hashlib.sha256(
        (settings.SECRET_KEY + client_address(request)).encode()
    ).hexdigest()[:32]
    key = f"bookings:rate:{address_hash}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # the entry expired between add() and incr()
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > settings.BOOKINGS_RATE_LIMIT_PER_HOUR


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
        existing = ConsultationRequest.objects.filter(form_token=form.token_id).first()
        if existing:
            return self.thank(existing)
        if over_rate_limit(self.request):
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=429)
        try:
            consultation = form.save()
        except IntegrityError:
            # The same form arrived twice at once; the other submission saved it.
            consultation = ConsultationRequest.objects.get(form_token=form.token_id)
        return self.thank(consultation)

    def thank(self, consultation):
        self.request.session[SESSION_REFERENCE] = consultation.reference
        self.request.session[SESSION_URGENT] = consultation.is_urgent
        return redirect("bookings:thanks")


@method_decorator(never_cache, name="dispatch")
class ThanksView(TemplateView):
    template_name = "bookings/thanks.html"

    def get(self, request, *args, **kwargs):
        if SESSION_REFERENCE not in request.session:
            return redirect("bookings:request")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            reference=self.request.session[SESSION_REFERENCE],
            urgent=self.request.session.get(SESSION_URGENT, False),
            **kwargs,
        )

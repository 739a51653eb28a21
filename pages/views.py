from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView, RedirectView, TemplateView

from . import structured_data
from .models import Article, ClinicDetails, Page, Topic
from .seo import absolute_url

SEARCH_MAX_LENGTH = 200


def can_preview(request):
    """
    Staff who may see articles in the admin may see drafts and scheduled
    articles on the site; other staff (the front desk) see only what is public.
    """
    # Without a session cookie nobody is logged in; looking at request.user would
    # make the page vary on cookies, and no cache could share it.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = request.user
    # The admin shows a draft to holders of either right (ModelAdmin's
    # has_view_permission), so the preview shows them nothing new.
    return (
        user.is_active
        and user.is_staff
        and (
            user.has_perm("pages.view_article") or user.has_perm("pages.change_article")
        )
    )


def clinic_context():
    """
    The clinic's details, and the clinic as a MedicalClinic once staff have
    entered them. Passed to the template as "clinic", the record also serves the
    header and footer, so that it is read once.
    """
    clinic = ClinicDetails.load()
    data = [structured_data.medical_clinic(clinic)] if clinic.pk else []
    return {"clinic": clinic, "structured_data": data}


class VisibleArticlesMixin:
    def get_queryset(self):
        articles = Article.objects.prefetch_related("topics")
        return articles if can_preview(self.request) else articles.published()


class HomeView(TemplateView):
    template_name = "pages/home.html"

    def get_context_data(self, **kwargs):
        page = Page.objects.filter(slug=Page.HOME_SLUG).first()
        featured = (
            page.featured_articles.published() if page else Article.objects.none()
        )
        return super().get_context_data(
            page=page,
            featured_articles=featured,
            latest_articles=Article.objects.published().exclude(pk__in=featured)[:3],
            **clinic_context(),
            **kwargs,
        )


class ArticleListView(ListView):
    paginate_by = 10

    def get_queryset(self):
        return Article.objects.published()


class ArticleDetailView(VisibleArticlesMixin, DetailView):
    def get_object(self, queryset=None):
        article = super().get_object(queryset)
        if article.has_pending_changes and can_preview(self.request):
            return article.preview_of_working_copy()
        return article

    def get_context_data(self, **kwargs):
        article = self.object
        # Also the header and footer's: read once.
        clinic = ClinicDetails.load()
        return super().get_context_data(
            clinic=clinic,
            structured_data=[
                structured_data.medical_web_page(article, clinic),
                structured_data.breadcrumb_list(
                    ("Home", reverse("pages:home")),
                    ("Articles", reverse("pages:article_list")),
                    (article.title, article.get_absolute_url()),
                ),
            ],
            **kwargs,
        )


class TopicDetailView(ListView):
    template_name = "pages/topic_detail.html"
    paginate_by = 10

    def get_queryset(self):
        self.topic = get_object_or_404(Topic, slug=self.kwargs["slug"])
        return self.topic.articles.published()

    def get_context_data(self, **kwargs):
        return super().get_context_data(topic=self.topic, **kwargs)


class PageDetailView(DetailView):
    model = Page

    def get(self, request, *args, **kwargs):
        if kwargs["slug"] == Page.HOME_SLUG:
            return redirect("pages:home", permanent=True)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        if self.object.show_clinic_details:
            kwargs |= clinic_context()
        return super().get_context_data(**kwargs)


class SearchView(ListView):
    """Published articles matching the words in ?q=, best first."""

    template_name = "pages/search.html"
    paginate_by = 10

    def get_queryset(self):
        self.query = " ".join(self.request.GET.get("q", "").split())[:SEARCH_MAX_LENGTH]
        if not self.query:
            return Article.objects.none()
        return Article.objects.published().search(self.query).prefetch_related("topics")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(query=self.query, **kwargs)
        if self.query:
            # The title is what a screen reader reads first on the new page.
            count = context["paginator"].count
            found = f"{count} article{pluralize(count)}" if count else "nothing found"
            context["title"] = f"Search results for “{self.query}” ({found})"
        else:
            context["title"] = "Search articles"
        context["topics"] = Topic.objects.with_published_articles()
        return context


class RobotsView(TemplateView):
    template_name = "pages/robots.txt"
    content_type = "text/plain; charset=utf-8"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sitemap_url=absolute_url(reverse("sitemap")), **kwargs
        )


class FaviconView(RedirectView):
    """Browsers and crawlers ask for /favicon.ico whatever the page links to."""

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.ico")


@never_cache
def healthz(request):
    """For load balancers: 200 when the database and cache answer, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        cache.set("healthz", "ok", timeout=10)
        healthy = cache.get("healthz") == "ok"
    except Exception:  # any failure of either means: send no traffic here
        healthy = False
    return HttpResponse(
        "ok\n" if healthy else "unavailable\n",
        status=200 if healthy else 503,
        content_type="text/plain",
    )

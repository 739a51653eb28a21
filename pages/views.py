from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView, TemplateView

from .models import Article, Page, Topic


def can_preview(request):
    """Staff who are logged in may see drafts and scheduled articles."""
    return request.user.is_active and request.user.is_staff


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
            **kwargs,
        )


class ArticleListView(ListView):
    paginate_by = 10

    def get_queryset(self):
        return Article.objects.published().prefetch_related("topics")


class ArticleDetailView(VisibleArticlesMixin, DetailView):
    pass


class TopicDetailView(ListView):
    template_name = "pages/topic_detail.html"
    paginate_by = 10

    def get_queryset(self):
        self.topic = get_object_or_404(Topic, slug=self.kwargs["slug"])
        return self.topic.articles.published().prefetch_related("topics")

    def get_context_data(self, **kwargs):
        return super().get_context_data(topic=self.topic, **kwargs)


class PageDetailView(DetailView):
    model = Page

    def get(self, request, *args, **kwargs):
        if kwargs["slug"] == Page.HOME_SLUG:
            return redirect("pages:home", permanent=True)
        return super().get(request, *args, **kwargs)


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

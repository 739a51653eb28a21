from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.urls import reverse

from .models import Article, Page, Topic
from .seo import site_domain, site_protocol


class PublicSiteSitemap(Sitemap):
    """Addresses on the public site (SITE_URL), whatever host the request came to."""

    @property
    def protocol(self):
        return site_protocol()

    def get_domain(self, site=None):
        return site_domain()


class ArticleSitemap(PublicSiteSitemap):
    def items(self):
        return Article.objects.published().order_by("pk")

    def lastmod(self, article):
        return article.updated_at


class TopicSitemap(PublicSiteSitemap):
    """Topics with published articles, last changed when their newest article was."""

    def items(self):
        published = Q(articles__in=Article.objects.published())
        return (
            Topic.objects.with_published_articles()
            .annotate(last_modified=Max("articles__updated_at", filter=published))
            .order_by("name")
        )

    def lastmod(self, topic):
        return topic.last_modified


class PageSitemap(PublicSiteSitemap):
    def items(self):
        return Page.objects.order_by("navigation_order", "title")

    def lastmod(self, page):
        return page.updated_at


class ArticleListSitemap(PublicSiteSitemap):
    def items(self):
        return ["pages:article_list"]

    def location(self, url_name):
        return reverse(url_name)

    def lastmod(self, url_name):
        return Article.objects.published().aggregate(Max("updated_at"))[
            "updated_at__max"
        ]

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from .models import Article, ClinicDetails
from .seo import absolute_url

FEED_LENGTH = 20


class LatestArticlesFeed(Feed):
    """An Atom feed of the newest published articles, with absolute SITE_URL links."""

    feed_type = Atom1Feed

    def get_object(self, request, *args, **kwargs):
        return ClinicDetails.load()

    def title(self, clinic):
        return f"Articles from {clinic.name}"

    def subtitle(self, clinic):
        return (
            f"New articles from {clinic.name} about ketamine infusion therapy, "
            "fibromyalgia, chronic pain and mood disorders."
        )

    def author_name(self, clinic):
        return clinic.name

    def link(self):
        return absolute_url(reverse("pages:article_list"))

    def feed_url(self):
        return absolute_url(reverse("pages:article_feed"))

    def items(self):
        return Article.objects.published()[:FEED_LENGTH]

    def item_title(self, article):
        return article.title

    def item_description(self, article):
        return article.summary

    def item_link(self, article):
        return absolute_url(article.get_absolute_url())

    def item_pubdate(self, article):
        return article.published_at

    def item_updateddate(self, article):
        return article.updated_at

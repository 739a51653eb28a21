"""The articles' part of the admin's "Needs attention now": reviews coming due."""

from django.urls import reverse
from django.utils import dateformat
from django.utils.http import urlencode

from bookings.dashboard import Item, Line, plural

from .models import REVIEW_DUE_SOON_DAYS, Article


def may_see_articles(user):
    return user.has_perm("pages.view_article") or user.has_perm("pages.change_article")


def review_lines():
    due = list(
        Article.objects.review_due_within(REVIEW_DUE_SOON_DAYS)
        .only("pk", "title", "next_review_due")
        .order_by("next_review_due", "title")
    )
    url = reverse("admin:pages_article_changelist")
    return [
        Line(
            f"{plural(len(due), 'article')} due for clinical review within "
            f"{REVIEW_DUE_SOON_DAYS} days or overdue",
            f"{url}?{urlencode({'review': 'due'})}",
            [
                Item(
                    f"{article.title}: review due "
                    f"{dateformat.format(article.next_review_due, 'j M Y')}",
                    reverse("admin:pages_article_change", args=[article.pk]),
                )
                for article in due[:5]
            ],
        )
    ]

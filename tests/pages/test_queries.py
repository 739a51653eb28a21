import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from pages.models import Article

PUBLIC_URLS = [
    "/",
    "/articles/",
    "/articles/article-0/",
    "/topics/fibromyalgia/",
    "/about-us/",
]


@pytest.fixture
def in_memory_cache(settings):
    """The cache in the process's memory, so only the page's own queries count."""
    settings.CACHES = settings.CACHES | {
        "public_pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": uuid.uuid4().hex,
        }
    }


@pytest.fixture
def site_with_articles(clinic, make_topic, make_page):
    def make(count):
        fibromyalgia = make_topic("Fibromyalgia")
        ketamine = make_topic("Ketamine therapy")
        home = make_page("Home", slug="home")
        for title in ("About us", "Contact", "Privacy policy", "Medical disclaimer"):
            make_page(title, show_in_navigation=True)
        now = timezone.now()
        articles = Article.objects.bulk_create(
            Article(
                title=f"Article {number}",
                slug=f"article-{number}",
                summary=f"Summary of article {number}.",
                body="<h2>Part one</h2><p>Text.</p><h3>Detail</h3><p>More.</p>",
                status=Article.Status.PUBLISHED,
                published_at=now - timedelta(hours=number + 1),
            )
            for number in range(count)
        )
        Through = Article.topics.through
        Through.objects.bulk_create(
            Through(article=article, topic=topic)
            for article in articles
            for topic in (fibromyalgia, ketamine)
        )
        home.featured_articles.set(articles[:3])

    return make


@pytest.mark.parametrize("article_count", [1, 200])
@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_page_runs_a_few_queries_however_many_articles(
    client,
    in_memory_cache,
    site_with_articles,
    django_assert_max_num_queries,
    django_assert_num_queries,
    url,
    article_count,
):
    site_with_articles(article_count)

    with django_assert_max_num_queries(6):
        first = client.get(url)
    with django_assert_num_queries(0):
        cached = client.get(url)

    assert first.status_code == cached.status_code == 200
    assert cached.content == first.content


def test_article_with_many_related_articles_shows_three(client, site_with_articles):
    site_with_articles(200)

    html = client.get("/articles/article-0/").text

    related = html.split('id="related-heading"', 1)[1]
    assert related.count('class="card h-100 article-card"') == 3


def test_cached_page_costs_at_most_one_read_of_the_database_cache(
    client, site_with_articles, django_assert_num_queries, settings
):
    site_with_articles(200)
    client.get("/articles/article-0/")

    # This process's copy, while its note of the content version is recent.
    with django_assert_num_queries(0):
        client.get("/articles/article-0/")

    settings.PAGES_CONTENT_CHECK_SECONDS = 0
    with django_assert_num_queries(1) as captured:
        client.get("/articles/article-0/")
    assert "public_pages_cache" in captured.captured_queries[0]["sql"]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_pending_changes_keep_public_pages_at_their_query_budget(
    client,
    in_memory_cache,
    site_with_articles,
    django_assert_max_num_queries,
    django_assert_num_queries,
    url,
):
    site_with_articles(200)
    Article.objects.update(
        working_copy={
            "title": "Pending title",
            "slug": "pending-slug",
            "summary": "Pending summary.",
            "body": "<p>Pending text.</p>",
            "hero_image": "",
            "hero_image_alt": "",
            "topics": [],
        }
    )

    with django_assert_max_num_queries(6):
        first = client.get(url)
    with django_assert_num_queries(0):
        cached = client.get(url)

    assert first.status_code == 200
    assert cached.content == first.content
    assert "Pending" not in first.text

import gzip
import re
import time
from datetime import timedelta

import brotli
import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from pages.caching import STATE_KEY
from pages.models import Article, ClinicDetails, Page, Topic

PUBLIC_URLS = [
    "/",
    "/articles/",
    "/articles/fibro-relief/",
    "/topics/fibromyalgia/",
    "/about-us/",
]


@pytest.fixture
def site(clinic, make_topic, make_article, make_page):
    topic = make_topic("Fibromyalgia")
    home = make_page("Home", slug="home", body="<p>Welcome to the clinic.</p>")
    make_page("About us", show_in_navigation=True)
    make_page("Privacy policy")
    make_page("Medical disclaimer")
    article = make_article("Fibro relief", topics=[topic])
    home.featured_articles.add(article)
    return {"topic": topic, "article": article, "home": home}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Changes made inside it are committed, as a save in the admin would be."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def texts(client, urls=PUBLIC_URLS):
    return {url: client.get(url).text for url in urls}


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_page_may_be_kept_by_any_shared_cache(client, site, url):
    for _ in range(2):  # rendered, then served from the cache
        response = client.get(url)

        assert response.status_code == 200
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")
        cache_control = response["Cache-Control"]
        assert "public" in cache_control
        assert "max-age=60" in cache_control
        assert "stale-while-revalidate=300" in cache_control
        assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_conditional_request_for_an_unchanged_page_answers_304(client, site, url):
    etag = client.get(url)["ETag"]

    response = client.get(url, headers={"if-none-match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


DECOMPRESS = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}


def get(client, url, accept_encoding, **headers):
    return client.get(url, headers={"accept-encoding": accept_encoding} | headers)


@pytest.mark.parametrize(
    ("accept_encoding", "encoding"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("br", "br"),
        ("gzip, deflate", "gzip"),
        ("GZIP", "gzip"),
        ("deflate", None),
        ("", None),
    ],
)
@pytest.mark.parametrize("url", ["/", "/articles/fibro-relief/"])
def test_each_client_gets_the_smallest_encoding_it_accepts(
    client, site, url, accept_encoding, encoding
):
    plain = client.get(url).content
    rendered = get(client, url, accept_encoding)
    cached = get(client, url, accept_encoding)

    for response in (rendered, cached):
        assert response.get("Content-Encoding") == encoding
        assert response["Vary"] == "Accept-Encoding"
        assert int(response["Content-Length"]) == len(response.content)
        assert DECOMPRESS[encoding](response.content) == plain
    assert cached.content == rendered.content
    if encoding:
        assert len(cached.content) < len(plain) / 2


def test_a_page_is_rendered_once_for_every_encoding(client, site):
    get(client, "/about-us/", "gzip")
    Page.objects.filter(slug="about-us").update(title="Renamed behind the cache")

    for accept_encoding in ("br", "gzip", ""):
        response = get(client, "/about-us/", accept_encoding)
        html = DECOMPRESS[response.get("Content-Encoding")](response.content)
        assert b"Renamed behind the cache" not in html


@pytest.mark.parametrize("accept_encoding", ["br", "gzip", ""])
def test_conditional_request_answers_304_in_each_encoding(
    client, site, accept_encoding
):
    etag = get(client, "/articles/fibro-relief/", accept_encoding)["ETag"]

    response = get(
        client, "/articles/fibro-relief/", accept_encoding, if_none_match=etag
    )

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_each_encoding_has_an_etag_of_its_own(client, site):
    etags = {
        accept_encoding: get(client, "/about-us/", accept_encoding)["ETag"]
        for accept_encoding in ("br", "gzip", "")
    }
    assert len(set(etags.values())) == 3

    response = get(client, "/about-us/", "br", if_none_match=etags["gzip"])

    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert response["ETag"] == etags["br"]


def test_changed_page_answers_200_with_a_new_etag(client, site, committed):
    etag = client.get("/about-us/")["ETag"]
    with committed():
        page = Page.objects.get(slug="about-us")
        page.body = "<p>New text.</p>"
        page.save()

    response = client.get("/about-us/", headers={"if-none-match": etag})

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "New text." in response.text


def test_repeated_visits_are_served_from_the_cache(client, site):
    before = texts(client)
    # A change that bypasses the models' signals is invisible until a real save.
    Article.objects.update(title="Renamed behind the cache")

    assert texts(client) == before


def test_saving_an_article_refreshes_every_page_that_shows_it(client, site, committed):
    texts(client)
    with committed():
        article = site["article"]
        article.title = "Fibro relief, updated"
        article.save()

    for url in ("/", "/articles/", "/articles/fibro-relief/", "/topics/fibromyalgia/"):
        assert "Fibro relief, updated" in client.get(url).text


def test_publishing_a_draft_shows_it_at_once(client, site, make_article, committed):
    draft = make_article(
        "Quiet draft", status=Article.Status.DRAFT, topics=[site["topic"]]
    )
    assert client.get("/articles/quiet-draft/").status_code == 404
    texts(client)

    with committed():
        draft.status = Article.Status.PUBLISHED
        draft.save()

    assert client.get("/articles/quiet-draft/").status_code == 200
    for url in ("/", "/articles/", "/topics/fibromyalgia/"):
        assert "Quiet draft" in client.get(url).text


@pytest.mark.parametrize("change", ["unpublish", "delete"])
def test_unpublished_or_deleted_article_disappears_at_once(
    client, site, committed, change
):
    texts(client)
    with committed():
        article = site["article"]
        if change == "delete":
            article.delete()
        else:
            article.status = Article.Status.DRAFT
            article.save()

    assert client.get("/articles/fibro-relief/").status_code == 404
    for url in ("/", "/articles/", "/topics/fibromyalgia/"):
        assert "Fibro relief" not in client.get(url).text


def test_articles_deleted_in_bulk_in_the_admin_disappear(
    admin_client, client, site, committed
):
    texts(client)
    with committed():
        admin_client.post(
            "/admin/pages/article/",
            {
                "action": "delete_selected",
                "_selected_action": [site["article"].pk],
                "post": "yes",
                "destination": "gone",
            },
        )

    assert not Article.objects.exists()
    assert client.get("/articles/fibro-relief/").status_code == 410
    assert "Fibro relief" not in client.get("/articles/").text


def test_changing_an_articles_topics_refreshes_topic_pages(
    client, site, make_topic, committed
):
    depression = make_topic("Depression")
    assert "Fibro relief" not in client.get("/topics/depression/").text
    texts(client)

    with committed():
        site["article"].topics.add(depression)
    assert "Fibro relief" in client.get("/topics/depression/").text
    assert 'href="/topics/depression/"' in client.get("/articles/fibro-relief/").text

    with committed():
        depression.articles.clear()
    assert "Fibro relief" not in client.get("/topics/depression/").text


def test_featuring_an_article_refreshes_the_home_page(
    client, site, make_article, committed
):
    now = timezone.now()
    for day in range(4):
        make_article(f"Older {day}", published_at=now - timedelta(days=10 + day))
    assert "Older 3" not in client.get("/").text

    with committed():
        site["home"].featured_articles.add(Article.objects.get(slug="older-3"))

    assert "Older 3" in client.get("/").text


def test_saving_or_deleting_a_page_refreshes_the_menu_and_the_page(
    client, site, committed
):
    texts(client)
    with committed():
        page = Page.objects.get(slug="about-us")
        page.title = "Our team"
        page.save()
    for url in PUBLIC_URLS:
        assert ">Our team</a>" in client.get(url).text

    with committed():
        page.delete()
    assert client.get("/about-us/").status_code == 404
    assert ">Our team</a>" not in client.get("/").text


def test_saving_or_deleting_a_topic_refreshes_its_pages(client, site, committed):
    texts(client)
    with committed():
        topic = Topic.objects.get()
        topic.name = "Fibromyalgia and chronic pain"
        topic.save()
    assert "Fibromyalgia and chronic pain" in client.get("/topics/fibromyalgia/").text
    assert "Fibromyalgia and chronic pain" in client.get("/articles/fibro-relief/").text

    with committed():
        topic.delete()
    assert client.get("/topics/fibromyalgia/").status_code == 404
    assert 'href="/topics/' not in client.get("/articles/fibro-relief/").text


def test_new_clinic_details_appear_on_every_page_at_once(client, site, committed):
    texts(client)
    with committed():
        clinic = ClinicDetails.load()
        clinic.phone = "(770) 555-0199"
        clinic.save()

    for url, html in texts(client).items():
        assert "(770) 555-0199" in html, url
        assert "(770) 555-0123" not in html, url


def test_edit_saved_in_the_admin_is_public_at_once(
    admin_client, client, site, committed
):
    texts(client)
    home = site["home"]
    with committed():
        response = admin_client.post(
            f"/admin/pages/page/{home.pk}/change/",
            {
                "title": "Home",
                "slug": "home",
                "meta_description": "",
                "body": "<p>Now open on Saturdays.</p>",
                "navigation_order": 0,
                "featured_articles": [site["article"].pk],
            },
        )
    assert response.status_code == 302

    assert "Now open on Saturdays." in client.get("/").text


def test_change_saved_by_another_server_process_shows_within_the_check_interval(
    client, site, settings
):
    settings.PAGES_CONTENT_CHECK_SECONDS = 0.2
    texts(client)
    # What a save in another gunicorn worker or server leaves behind.
    Article.objects.update(title="Saved by another process")
    caches["public_pages"].delete(STATE_KEY)

    time.sleep(0.25)

    for url in ("/", "/articles/", "/articles/fibro-relief/", "/topics/fibromyalgia/"):
        assert "Saved by another process" in client.get(url).text


def test_scheduled_article_appears_when_its_time_comes(client, site, make_article):
    # Far enough ahead for the pages below to be rendered on a busy machine.
    publication = timezone.now() + timedelta(seconds=4)
    make_article("Right on time", topics=[site["topic"]], published_at=publication)
    before = texts(client)
    assert all("Right on time" not in html for html in before.values())
    assert client.get("/articles/right-on-time/").status_code == 404

    while timezone.now() <= publication:
        time.sleep(0.05)

    assert client.get("/articles/right-on-time/").status_code == 200
    for url in ("/", "/articles/", "/topics/fibromyalgia/"):
        assert "Right on time" in client.get(url).text


def test_shared_caches_are_not_told_to_keep_a_page_past_a_publication(
    client, site, make_article
):
    make_article("Soon", published_at=timezone.now() + timedelta(seconds=30))

    for _ in range(2):
        cache_control = client.get("/articles/")["Cache-Control"]
        max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
        assert 25 <= max_age <= 30


def test_logged_in_staff_always_get_live_pages(admin_client, client, site):
    texts(client)
    Article.objects.update(title="Renamed behind the cache")

    for url in ("/", "/articles/", "/articles/fibro-relief/", "/topics/fibromyalgia/"):
        response = admin_client.get(url)
        assert "Renamed behind the cache" in response.text
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert "Renamed behind the cache" not in client.get(url).text


def test_pages_for_logged_in_staff_are_never_stored(admin_client, client, site):
    for url in PUBLIC_URLS:
        response = admin_client.get(url, headers={"accept-encoding": "gzip, br"})
        assert response.status_code == 200
        assert "Content-Encoding" not in response
        assert "no-store" in response["Cache-Control"]
    assert cached_pages() == 0

    Article.objects.update(title="Renamed after staff looked")
    assert "Renamed after staff looked" in client.get("/articles/fibro-relief/").text


def test_pages_are_rendered_afresh_while_developing(client, site, settings):
    settings.DEBUG = True
    client.get("/articles/fibro-relief/")
    Article.objects.update(title="Renamed behind the cache")

    response = client.get("/articles/fibro-relief/")

    assert "Renamed behind the cache" in response.text
    assert "no-store" in response["Cache-Control"]


def test_staff_preview_of_a_draft_is_never_cached(admin_client, client, site):
    Article.objects.update(status=Article.Status.DRAFT)

    preview = admin_client.get("/articles/fibro-relief/")

    assert "Preview: not public." in preview.text
    assert "no-store" in preview["Cache-Control"]
    assert client.get("/articles/fibro-relief/").status_code == 404


def test_missing_pages_are_not_cached(client, site, make_page):
    assert client.get("/opening-soon/").status_code == 404

    make_page("Opening soon")

    assert client.get("/opening-soon/").status_code == 200


def cached_pages():
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM public_pages_cache")
        return cursor.fetchone()[0]


def test_other_query_strings_neither_grow_the_cache_nor_change_the_page(client, site):
    page = client.get("/medical-disclaimer/").text
    stored = cached_pages()

    for number in range(1, 51):
        response = client.get(f"/medical-disclaimer/?f={number}")
        assert response.text == page
        assert "no-store" in response["Cache-Control"]

    assert cached_pages() == stored


@pytest.mark.parametrize(
    "query", ["page=2&f=1", "f=1&page=2", "page=02", "page=2&page=3", "page=last"]
)
def test_only_a_plain_page_number_is_kept_with_the_path(
    client, site, make_article, query
):
    for number in range(10):
        make_article(f"More {number}")
    client.get("/articles/?page=2")
    stored = cached_pages()

    client.get(f"/articles/?{query}")

    assert cached_pages() == stored


def test_a_page_of_a_list_is_kept_under_its_number(client, site, make_article):
    for number in range(10):
        make_article(f"More {number}")
    first, second = client.get("/articles/").text, client.get("/articles/?page=2").text
    Article.objects.update(title="Renamed behind the cache")

    assert client.get("/articles/").text == first
    assert client.get("/articles/?page=2").text == second
    assert first != second


def test_the_page_cache_is_apart_from_the_default_cache(client, site):
    client.get("/about-us/")

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_cache")
        assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize("url", ["/consultation/", "/consultation/thanks/"])
def test_consultation_pages_are_never_cached(client, site, url):
    response = client.get(url)

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_each_visitor_gets_a_form_of_their_own(client, site):
    def form_token():
        html = client.get("/consultation/").text
        return re.search(r'name="form_token" value="([^"]+)"', html).group(1)

    assert form_token() != form_token()


def test_a_new_release_starts_a_new_cache(client, site, settings):
    settings.RELEASE = "1f3a9c0"
    client.get("/about-us/")
    Page.objects.filter(slug="about-us").update(title="Rendered by the new release")

    settings.RELEASE = "7d2e4b1"

    assert "Rendered by the new release" in client.get("/about-us/").text


@pytest.fixture
def cache_down(settings):
    settings.CACHES = settings.CACHES | {
        "public_pages": {
            "BACKEND": "roswell_site.redis_cache.RedisCache",
            # Nothing listens here: the cache is unreachable.
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }


def test_pages_are_served_live_when_the_cache_is_down(client, site, cache_down):
    for url in PUBLIC_URLS:
        assert client.get(url).status_code == 200
    Article.objects.update(title="Renamed behind the cache")
    assert "Renamed behind the cache" in client.get("/articles/fibro-relief/").text


def test_content_is_saved_when_the_cache_is_down(site, committed, cache_down):
    with committed():
        site["article"].title = "Saved all the same"
        site["article"].save()

    assert Article.objects.get().title == "Saved all the same"


@pytest.mark.urls("tests.pages.urls_with_nonce")
def test_page_with_a_csp_nonce_is_never_shared(client, db):
    first = client.get("/inline/")
    second = client.get("/inline/")

    nonces = [re.search(r'nonce="([^"]+)"', r.text).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1]
    for response, nonce in zip((first, second), nonces, strict=True):
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]

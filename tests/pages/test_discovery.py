"""The sitemap, robots.txt and the Atom feed: published content only, valid XML."""

from datetime import timedelta

import pytest
from django.utils import timezone
from lxml import etree

SITE = "https://www.roswellinfusions.example"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def site(settings, clinic, make_topic, make_article, make_page):
    settings.SITE_URL = SITE
    fibromyalgia = make_topic("Fibromyalgia")
    empty_topic = make_topic("Anxiety")
    make_page("Home", slug="home")
    make_page("About us")
    make_article("Fibro relief", topics=[fibromyalgia])
    make_article("Secret draft", status="draft", topics=[empty_topic])
    make_article(
        "Coming soon",
        topics=[empty_topic],
        published_at=timezone.now() + timedelta(days=3),
    )


def sitemap_entries(client):
    response = client.get("/sitemap.xml")
    assert response["Content-Type"] == "application/xml"
    urlset = etree.fromstring(response.content)
    return {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in urlset.iter(f"{SITEMAP}url")
    }


def test_sitemap_lists_published_content_with_last_modified_dates(client, site):
    entries = sitemap_entries(client)
    today = timezone.localdate().isoformat()

    assert entries == {
        f"{SITE}/": today,
        f"{SITE}/about-us/": today,
        f"{SITE}/articles/": today,
        f"{SITE}/articles/fibro-relief/": today,
        f"{SITE}/topics/fibromyalgia/": today,
        f"{SITE}/consultation/": None,
    }


def test_sitemap_never_lists_drafts_scheduled_articles_or_their_topics(client, site):
    locations = " ".join(sitemap_entries(client))

    assert "secret-draft" not in locations
    assert "coming-soon" not in locations
    assert "anxiety" not in locations


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_the_admin(client, site):
    response = client.get("/robots.txt")

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.text.splitlines()
    assert "Disallow: /admin/" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines


def test_feed_is_atom_with_published_articles_only(client, site):
    response = client.get("/articles/feed.xml")

    assert response["Content-Type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Articles from Roswell Infusions"
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["Fibro relief"]
    (entry,) = entries
    assert entry.find(f"{ATOM}link").get("href") == f"{SITE}/articles/fibro-relief/"
    assert entry.findtext(f"{ATOM}summary") == "A summary of Fibro relief."
    assert entry.findtext(f"{ATOM}published")
    assert entry.findtext(f"{ATOM}updated")

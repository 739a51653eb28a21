"""Searching the published articles at /search/?q=."""

import re
from datetime import timedelta

import lxml.html
import pytest
from django.utils import timezone

from pages.models import Article


@pytest.fixture
def articles(clinic, make_topic, make_article):
    topic = make_topic("Fibromyalgia")
    make_article(
        "Ketamine infusions for fibromyalgia",
        summary="How infusions may ease widespread pain.",
        body="<p>Many patients sleep better after a course of infusions.</p>",
        topics=[topic],
    )
    make_article(
        "Preparing for your first visit",
        summary="What to bring and what to expect.",
        body="<p>Wear comfortable clothes. Ketamine is given slowly.</p>",
    )
    make_article("Draft about ketamine", status="draft")
    make_article(
        "Scheduled ketamine news", published_at=timezone.now() + timedelta(days=2)
    )


def titles(response):
    document = lxml.html.fromstring(response.content)
    return document.xpath("//main//article//h2//a/text()")


def test_search_finds_published_articles_with_every_word(client, articles):
    assert sorted(titles(client.get("/search/", {"q": "ketamine"}))) == [
        "Ketamine infusions for fibromyalgia",
        "Preparing for your first visit",
    ]
    assert titles(client.get("/search/", {"q": "KETAMINE clothes"})) == [
        "Preparing for your first visit"
    ]


def test_search_results_page_says_how_many_were_found(client, articles):
    response = client.get("/search/", {"q": "ketamine"})
    document = lxml.html.fromstring(response.content)

    assert document.findtext(".//title") == (
        "Search results for “ketamine” (2 articles) | Roswell Infusions"
    )
    assert document.findtext(".//h1") == "Search results for “ketamine”"
    status = document.xpath('//*[@role="status"]')[0]
    assert status.text_content() == "2 articles found."
    assert document.xpath('//meta[@name="robots"]/@content') == ["noindex"]


def test_search_without_results_suggests_other_ways_to_find_help(client, articles):
    response = client.get("/search/", {"q": "zebra"})
    document = lxml.html.fromstring(response.content)

    assert titles(response) == []
    assert document.xpath('//*[@role="status"]')[0].text_content() == (
        "No articles found."
    )
    help_links = document.xpath('//section[contains(@class, "search-help")]//a/@href')
    assert "/topics/fibromyalgia/" in help_links
    assert "/articles/" in help_links
    assert "/consultation/" in help_links
    assert "tel:+17705550123" in help_links


def test_empty_search_shows_the_form_and_an_example(client, articles):
    response = client.get("/search/", {"q": "   "})

    assert response.status_code == 200
    assert titles(response) == []
    assert "for example “fibromyalgia”" in response.text
    assert 'role="status"' not in response.text


def test_search_query_is_shown_escaped(client, articles):
    response = client.get("/search/", {"q": "<script>alert(1)</script>"})

    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_pages_of_results_keep_the_query(client, make_article, clinic):
    for number in range(12):
        make_article(f"Pain relief {number}")

    response = client.get("/search/", {"q": "pain relief"})

    assert len(titles(response)) == 10
    assert re.search(r'href="\?q=pain\+relief&amp;page=2"', response.text)
    assert len(titles(client.get("/search/", {"q": "pain relief", "page": 2}))) == 2


def test_every_page_has_a_search_box_sending_a_get_request(client, articles):
    document = lxml.html.fromstring(client.get("/articles/").content)
    (form,) = document.xpath('//header//form[@role="search"]')

    assert form.get("method") == "get"
    assert form.get("action") == "/search/"
    assert form.xpath('.//input[@type="search"]/@name') == ["q"]
    assert form.xpath(".//label/text()") == ["Search articles"]


@pytest.mark.postgresql
def test_postgresql_ranks_title_matches_first_and_matches_word_forms(
    client, clinic, make_article
):
    make_article(
        "Sleep and pain",
        summary="Rest matters.",
        body="<p>Ketamine infusion sessions are calm.</p>",
    )
    make_article("Infusions explained", summary="A guide.", body="<p>Details.</p>")

    results = titles(client.get("/search/", {"q": "infusion"}))

    assert results == ["Infusions explained", "Sleep and pain"]


@pytest.mark.postgresql
def test_postgresql_search_ignores_markup_and_understands_exclusions(
    clinic, make_article
):
    make_article("Pain diary", body="<p><strong>Track</strong> your pain daily.</p>")
    make_article("Pain and mood", body="<p>Pain affects mood.</p>")

    assert not Article.objects.published().search("strong").exists()
    assert [
        article.title for article in Article.objects.published().search("pain -mood")
    ] == ["Pain diary"]

"""The article a patient came from, recorded with their request and nowhere else."""

import logging
from datetime import timedelta

from django.utils import timezone

from bookings.models import ConsultationRequest

URL = "/consultation/"


def test_request_sent_from_an_articles_link_records_that_article(
    client, form_data, make_article
):
    article = make_article("Fibro")

    page = client.get(URL, {"article": "fibro"})
    assert 'action="/consultation/?article=fibro"' in page.text
    response = client.post(f"{URL}?article=fibro", form_data())

    assert response.status_code == 302
    assert ConsultationRequest.objects.get().source_article == article


def test_request_without_an_article_or_from_an_unpublished_one_records_none(
    client, form_data, make_article, settings
):
    settings.BOOKINGS_RATE_LIMIT_PER_HOUR = 100
    make_article("Draft one", status="draft")

    client.post(URL, form_data())
    client.post(f"{URL}?article=draft-one", form_data())
    client.post(f"{URL}?article=no-such-article", form_data())

    assert ConsultationRequest.objects.count() == 3
    assert not ConsultationRequest.objects.filter(source_article__isnull=False).exists()


def test_attribution_adds_no_cookie_and_no_log_line(
    client, form_data, make_article, caplog
):
    make_article("Fibro")
    plain = cookies_set_by(client, URL)
    with caplog.at_level(logging.DEBUG):
        from_article = cookies_set_by(client, f"{URL}?article=fibro")
        response = client.post(f"{URL}?article=fibro", form_data())

    assert from_article == plain
    assert set(response.cookies) == {"bookings_thanks"}
    assert "fibro" not in response.cookies["bookings_thanks"].value
    assert "fibro" not in caplog.text


def cookies_set_by(client, url):
    return sorted(client.get(url).cookies)


def test_deleting_the_article_keeps_the_request(client, form_data, make_article):
    article = make_article("Fibro")
    client.post(f"{URL}?article=fibro", form_data())

    article.delete()

    assert ConsultationRequest.objects.get().source_article is None


def test_article_admin_page_counts_requests_from_it_in_the_last_90_days(
    admin_client, make_article, make_consultation
):
    article = make_article("Fibro")
    other = make_article("Other")
    now = timezone.now()
    for days in (1, 10, 30, 60, 89, 89):
        make_consultation(now - timedelta(days=days), source_article=article)
    make_consultation(now - timedelta(days=91), source_article=article)
    make_consultation(now, source_article=article, status="spam")
    make_consultation(now, source_article=other)

    html = admin_client.get(f"/admin/pages/article/{article.pk}/change/").text
    other_html = admin_client.get(f"/admin/pages/article/{other.pk}/change/").text

    assert "Requests in the last 90 days" in html
    assert "6 (counted from the article&#x27;s link to the form)" in html
    assert "&lt;5 (counted from the article&#x27;s link to the form)" in other_html

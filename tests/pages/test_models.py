from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from pages.models import Article, ClinicDetails, Topic


def test_published_queryset_excludes_drafts_and_scheduled(make_article):
    public = make_article("Public")
    make_article("Draft", status=Article.Status.DRAFT)
    make_article("Later", published_at=timezone.now() + timedelta(hours=1))

    assert list(Article.objects.published()) == [public]


def test_publishing_without_a_date_sets_it_to_now(db):
    article = Article.objects.create(
        title="T", slug="t", summary="S", status=Article.Status.PUBLISHED
    )

    assert article.published_at is not None
    assert article.is_public


def test_scheduled_article_is_not_public_until_its_time(make_article):
    article = make_article(published_at=timezone.now() + timedelta(days=2))

    assert article.is_scheduled
    assert not article.is_public


def test_summary_longer_than_160_characters_is_rejected(make_article):
    article = make_article()
    article.summary = "x" * 161

    with pytest.raises(ValidationError) as error:
        article.full_clean()

    assert "summary" in error.value.message_dict


def test_hero_image_requires_alt_text(make_article, png_upload):
    article = make_article()
    article.hero_image = png_upload

    with pytest.raises(ValidationError) as error:
        article.full_clean()
    assert "hero_image_alt" in error.value.message_dict

    with pytest.raises(IntegrityError):
        article.save()


def test_slug_is_unique(make_article):
    make_article("Same", slug="same")

    with pytest.raises(IntegrityError):
        make_article("Other", slug="same")


def test_body_is_sanitised_whenever_an_article_is_saved(make_article):
    article = make_article(
        body='<p onclick="steal()">Hi<script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a></p>'
    )
    article.refresh_from_db()

    assert "script" not in article.body
    assert "onclick" not in article.body
    assert "javascript:" not in article.body
    assert "Hi" in article.body


def test_table_of_contents_lists_h2_and_h3_with_unique_anchors(make_article):
    article = make_article(
        body="<h2>Symptoms</h2><p>a</p><h3>Sleep &amp; <em>pain</em></h3>"
        "<h4>Not listed</h4><h2>Symptoms</h2>"
    )

    assert article.table_of_contents == [
        {"level": 2, "text": "Symptoms", "anchor": "symptoms"},
        {"level": 3, "text": "Sleep & pain", "anchor": "sleep-pain"},
        {"level": 2, "text": "Symptoms", "anchor": "symptoms-2"},
    ]
    assert '<h2 id="symptoms">' in article.body_html
    assert '<h2 id="symptoms-2">' in article.body_html


def test_review_overdue_finds_articles_past_their_review_date(make_article):
    overdue = make_article(
        "Old", next_review_due=timezone.localdate() - timedelta(days=1)
    )
    make_article("Fresh", next_review_due=timezone.localdate() + timedelta(days=30))
    make_article("Never")

    assert list(Article.objects.review_overdue()) == [overdue]


def test_clinic_details_is_a_single_record(clinic):
    second = ClinicDetails(name="Other", phone="1", email="a@b.c", address="x")
    second.save()

    assert ClinicDetails.objects.count() == 1
    assert ClinicDetails.load().name == "Other"


@pytest.mark.parametrize(
    ("phone", "href"),
    [
        ("(770) 555-0123", "tel:+17705550123"),
        ("+1 770 555 0123", "tel:+17705550123"),
        ("+44 20 7946 0000", "tel:+442079460000"),
    ],
)
def test_clinic_phone_becomes_a_tel_link(phone, href):
    assert ClinicDetails(phone=phone).phone_href == href


def test_topics_with_published_articles_leave_out_drafts_and_scheduled(
    make_topic, make_article
):
    public = make_topic("Fibromyalgia")
    drafts_only = make_topic("Anxiety")
    scheduled_only = make_topic("Depression")
    make_topic("Migraine")
    make_article("Fibro relief", topics=[public])
    make_article("Fibro sleep", topics=[public, drafts_only], status="draft")
    make_article(
        "Coming soon",
        topics=[scheduled_only],
        published_at=timezone.now() + timedelta(days=1),
    )

    assert list(Topic.objects.with_published_articles()) == [public]

"""Each publish check with an article it flags and one it lets through."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pages import publish_checks
from pages.models import Article, Topic
from pages.publish_checks import BodyText

GOOD_BODY = (
    "<h2>What to expect</h2>"
    "<p>An infusion takes about an hour. You sit in a quiet room.</p>"
    "<h3>After the visit</h3>"
    "<p>Results vary from person to person. Ask us what to expect.</p>"
)


@pytest.fixture
def fibromyalgia(make_topic, make_article):
    """A topic with a published article, so a new article on it has a related one."""
    topic = make_topic("Fibromyalgia")
    make_article("Sleep and fibromyalgia", topics=[topic])
    return topic


@pytest.fixture
def draft(db):
    """
    An unsaved article about to be published that passes every check, its
    text approved by a clinical reviewer.
    """

    def make(**fields):
        today = timezone.localdate()
        values = {
            "title": "What an infusion is like",
            "slug": "what-an-infusion-is-like",
            "summary": "What happens during a ketamine infusion, step by step.",
            "body": GOOD_BODY,
            "status": Article.Status.PUBLISHED,
            "reviewed_by": "Dr. Jane Doe, MD",
            "last_reviewed": today,
            "next_review_due": today + timedelta(days=365),
        }
        article = Article(**(values | fields))
        article.mark_text_approved()
        return article

    return make


def codes(article, topics):
    return [finding.code for finding in publish_checks.findings(article, topics)]


def test_an_article_that_passes_every_check_has_no_findings(draft, fibromyalgia):
    assert publish_checks.findings(draft(), [fibromyalgia]) == []
    assert publish_checks.blocking_errors(draft(), [fibromyalgia]) == []


def test_errors_come_before_warnings(draft):
    article = draft(summary="")
    article.review_state = Article.Review.IN_REVIEW
    found = publish_checks.findings(article, [])

    levels = [finding.level for finding in found]
    assert levels == sorted(levels)  # "error" sorts before "warning"
    assert {"summary_missing", "not_approved", "no_topic"} <= {f.code for f in found}


# Clinical approval


@pytest.mark.parametrize(
    "state",
    [
        Article.Review.EDITING,
        Article.Review.IN_REVIEW,
        Article.Review.CHANGES_REQUESTED,
    ],
)
def test_article_whose_text_is_not_approved_is_blocked(draft, fibromyalgia, state):
    article = draft()
    article.review_state = state

    found = publish_checks.blocking_errors(article, [fibromyalgia])

    assert [finding.code for finding in found] == ["not_approved"]
    assert found[0].field == "reviewed_by"


@pytest.mark.parametrize("field", ["title", "summary", "body"])
def test_text_changed_after_its_approval_needs_approval_again(
    draft, fibromyalgia, field
):
    article = draft()
    setattr(article, field, getattr(article, field) + " Changed since the review.")

    assert codes(article, [fibromyalgia]) == ["not_approved"]


def test_a_new_address_needs_no_new_approval(draft, fibromyalgia):
    article = draft()
    article.slug = "a-new-address"

    assert codes(article, [fibromyalgia]) == []


# Review dates


def test_overdue_review_blocks_publishing(draft, fibromyalgia):
    yesterday = timezone.localdate() - timedelta(days=1)

    found = publish_checks.blocking_errors(
        draft(next_review_due=yesterday), [fibromyalgia]
    )

    assert [finding.code for finding in found] == ["review_overdue"]
    assert found[0].field == "next_review_due"


@pytest.mark.parametrize("days", [0, 30])
def test_review_due_today_or_later_is_not_overdue(draft, fibromyalgia, days):
    due = timezone.localdate() + timedelta(days=days)

    assert codes(draft(next_review_due=due), [fibromyalgia]) == []


# Summary and pictures


@pytest.mark.parametrize("summary", ["", "   "])
def test_missing_summary_blocks_publishing(draft, fibromyalgia, summary):
    assert codes(draft(summary=summary), [fibromyalgia]) == ["summary_missing"]


def test_hero_image_without_description_blocks_publishing(draft, fibromyalgia):
    article = draft(hero_image="articles/room.png", hero_image_alt=" ")

    assert codes(article, [fibromyalgia]) == ["hero_image_alt_missing"]


def test_hero_image_with_description_passes(draft, fibromyalgia):
    article = draft(hero_image="articles/room.png", hero_image_alt="A quiet room")

    assert codes(article, [fibromyalgia]) == []


def test_picture_in_the_text_without_description_is_an_error(draft):
    # The body's sanitiser keeps no <img> today; the check is ready for a body
    # that allows pictures, and for HTML from elsewhere.
    body = BodyText('<p><img src="/media/a.png"></p><p><img src="b.png" alt=""></p>')

    found = publish_checks.image_findings(draft(), body)

    assert [(f.code, f.text) for f in found] == [
        ("image_alt_missing", "/media/a.png"),
        ("image_alt_missing", "b.png"),
    ]


def test_picture_in_the_text_with_description_passes(draft):
    body = BodyText('<p><img src="/media/a.png" alt="The infusion chair"></p>')

    assert publish_checks.image_findings(draft(), body) == []


# Headings


@pytest.mark.parametrize(
    ("body", "skipped"),
    [
        ("<h2>Overview</h2><h4>Details</h4>", "Details"),
        ("<h3>Starts too deep</h3><p>Text.</p>", "Starts too deep"),
        ("<h2>A</h2><h3>B</h3><h2>C</h2><h4>Skips from C</h4>", "Skips from C"),
    ],
)
def test_heading_that_skips_a_level_blocks_publishing(
    draft, fibromyalgia, body, skipped
):
    body += "<p>Results vary.</p>"

    found = publish_checks.blocking_errors(draft(body=body), [fibromyalgia])

    assert [(f.code, f.field, f.text) for f in found] == [
        ("heading_skips_level", "body", skipped)
    ]


def test_headings_going_down_one_level_at_a_time_pass(draft, fibromyalgia):
    body = "<h2>A</h2><h3>B</h3><h4>C</h4><h2>D</h2><h3>E</h3><p>Results vary.</p>"

    assert codes(draft(body=body), [fibromyalgia]) == []


# Links


@pytest.mark.parametrize(
    "text", ["click here", "Click here!", "here", "Here.", "read more", "Read more…"]
)
def test_link_text_that_says_nothing_blocks_publishing(draft, fibromyalgia, text):
    body = f'{GOOD_BODY}<p>For the study <a href="https://example.org/s">{text}</a></p>'

    found = publish_checks.blocking_errors(draft(body=body), [fibromyalgia])

    assert [(f.code, f.text) for f in found] == [("link_text_vague", text)]


def test_link_without_text_blocks_publishing(draft, fibromyalgia):
    body = f'{GOOD_BODY}<p>See <a href="https://example.org/s"> </a></p>'

    found = publish_checks.blocking_errors(draft(body=body), [fibromyalgia])

    assert [(f.code, f.text) for f in found] == [
        ("link_text_empty", "https://example.org/s")
    ]


def test_link_text_naming_its_target_passes(draft, fibromyalgia):
    link = '<a href="https://example.org/s">Read more about sleep</a>'
    body = f"{GOOD_BODY}<p>{link}</p>"

    assert codes(draft(body=body), [fibromyalgia]) == []


@pytest.fixture
def site_content(make_article, make_topic, make_page, fibromyalgia):
    make_article("Draft article", status=Article.Status.DRAFT)
    make_article("Scheduled article", published_at=timezone.now() + timedelta(days=3))
    make_topic("Empty topic")
    make_page("About us")


@pytest.mark.parametrize(
    "href",
    [
        "/articles/no-such-article/",
        "/articles/draft-article/",
        "/articles/scheduled-article/",
        "/topics/empty-topic/",
        "/topics/no-such-topic/",
        "/no-such-page/",
        "/articles/no-such-article/extra/",
        "http://127.0.0.1:8000/articles/draft-article/",
    ],
)
def test_link_to_this_site_that_nobody_can_read_blocks_publishing(
    draft, site_content, fibromyalgia, href, settings
):
    settings.SITE_URL = "http://127.0.0.1:8000"
    body = f'{GOOD_BODY}<p>See <a href="{href}">the other text</a>.</p>'

    found = publish_checks.blocking_errors(draft(body=body), [fibromyalgia])

    assert [(f.code, f.text) for f in found] == [
        ("link_target_missing", "the other text")
    ]
    assert href in found[0].message


@pytest.mark.parametrize(
    "href",
    [
        "/articles/sleep-and-fibromyalgia/",
        "/articles/sleep-and-fibromyalgia",
        "/articles/sleep-and-fibromyalgia/#why",
        "http://127.0.0.1:8000/articles/sleep-and-fibromyalgia/",
        "/topics/fibromyalgia/",
        "/about-us/",
        "/",
        "/articles/",
        "/consultation/",
        "/articles/what-an-infusion-is-like/",  # the article itself
        "#after-the-visit",
        "https://www.nih.gov/articles/no-such-article/",
        "mailto:info@example.com",
        "tel:+17705550123",
    ],
)
def test_link_to_public_content_or_elsewhere_passes(
    draft, site_content, fibromyalgia, href, settings
):
    settings.SITE_URL = "http://127.0.0.1:8000"
    body = f'{GOOD_BODY}<p>See <a href="{href}">the other text</a>.</p>'

    assert codes(draft(body=body), [fibromyalgia]) == []


# Unfounded claims (the lists are in pages/claims.py)


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("Ketamine cures fibromyalgia.", "claim_cure"),
        ("An infusion can cure your pain.", "claim_cure"),
        ("Many patients were cured after three sessions.", "claim_cure"),
        ("Not only can ketamine cure pain, it lifts the mood.", "claim_cure"),
        ("No other clinic can cure your pain like we can.", "claim_cure"),
        ("Relief is guaranteed.", "claim_guaranteed"),
        ("We guarantee results within a week.", "claim_guaranteed"),
        ("Ketamine is 100% effective for nerve pain.", "claim_100_percent"),
        ("It is 100 percent effective.", "claim_100_percent"),
        ("There are no side effects.", "claim_no_side_effects"),
        ("Infusions come without any side effects.", "claim_no_side_effects"),
        ("The treatment is free of side-effects.", "claim_no_side_effects"),
        ("Ketamine is FDA-approved for fibromyalgia.", "claim_fda_approved"),
        ("Ketamine is FDA approved to treat depression.", "claim_fda_approved"),
        ("Ketamine, approved by the FDA, eases PTSD.", "claim_fda_approved"),
        # Only esketamine nasal spray is approved for it, not ketamine infusions.
        (
            "Ketamine is FDA-approved for treatment-resistant depression.",
            "claim_fda_approved",
        ),
        (
            "Ketamine is FDA-approved as an anesthetic and for chronic pain.",
            "claim_fda_approved",
        ),
        ("FDA-approved ketamine infusions for your migraines.", "claim_fda_approved"),
    ],
)
def test_unfounded_claim_blocks_publishing(draft, fibromyalgia, sentence, code):
    body = f"{GOOD_BODY}<p>Some text first. {sentence} Some text after.</p>"

    found = publish_checks.blocking_errors(draft(body=body), [fibromyalgia])

    assert [(f.code, f.field, f.text) for f in found] == [(code, "body", sentence)]


@pytest.mark.parametrize(
    "sentence",
    [
        # Denied, the claim is honest: a judgement documented in pages/claims.py.
        "There is no cure for fibromyalgia.",
        "There is no known cure for fibromyalgia.",
        "Ketamine is not a cure.",
        "Ketamine isn’t a cure, but it may ease the pain.",
        "No treatment is guaranteed to work.",
        "There is no guarantee that an infusion will help.",
        "No treatment is 100% effective.",
        "Ketamine is not FDA-approved for fibromyalgia; its use is off-label.",
        # Approvals as they are.
        "Ketamine is FDA-approved as an anesthetic.",
        "Ketamine was FDA-approved in 1970 as an anaesthetic.",
        "Esketamine nasal spray (Spravato) is FDA-approved for "
        "treatment-resistant depression.",
        "The FDA approved our infusion pumps for home use.",
        # Whole words only.
        "Your records are kept secure.",
        "Side effects can include nausea and dizziness.",
    ],
)
def test_honest_sentence_passes_the_claim_checks(draft, fibromyalgia, sentence):
    body = f"{GOOD_BODY}<p>{sentence}</p>"

    assert codes(draft(body=body), [fibromyalgia]) == []


def test_claims_in_the_title_and_summary_block_publishing(draft, fibromyalgia):
    article = draft(
        title="The guaranteed way out of pain",
        summary="Ketamine cures fibromyalgia.",
    )

    found = publish_checks.blocking_errors(article, [fibromyalgia])

    assert [(f.code, f.field) for f in found] == [
        ("claim_guaranteed", "title"),
        ("claim_cure", "summary"),
    ]


# Warnings: reading grade, paragraphs, topics, results vary


HARD_PARAGRAPH = (
    "<p>Characterized by widespread musculoskeletal pain, fatigue, and sleep "
    "disturbances, fibromyalgia can significantly impact an individual’s overall "
    "quality of life, necessitating comprehensive multidisciplinary management "
    "strategies incorporating pharmacological interventions. Results vary.</p>"
)


def test_text_above_grade_eight_is_a_warning_quoting_the_hardest_sentence(
    draft, fibromyalgia
):
    found = publish_checks.findings(draft(body=HARD_PARAGRAPH), [fibromyalgia])

    assert [(f.level, f.code) for f in found] == [("warning", "reading_grade_high")]
    assert found[0].text.startswith("Characterized by widespread")
    assert publish_checks.blocking_errors(draft(body=HARD_PARAGRAPH), []) == []


def test_plain_text_has_no_reading_grade_warning(draft, fibromyalgia):
    assert "reading_grade_high" not in codes(draft(), [fibromyalgia])


def paragraph(words):
    """A paragraph of this many words, in short sentences of three or four."""
    threes = next(n for n in range(4) if (words - 4 - 3 * n) % 4 == 0)
    fours = (words - 4 - 3 * threes) // 4
    sentences = ["We rest at home."] * fours + ["We sleep well."] * threes
    return "<p>" + " ".join([*sentences, "Results vary for everyone."]) + "</p>"


def test_paragraph_over_120_words_is_a_warning(draft, fibromyalgia):
    found = publish_checks.findings(draft(body=paragraph(121)), [fibromyalgia])

    assert [(f.level, f.code) for f in found] == [("warning", "paragraph_long")]
    assert "121 words" in found[0].message
    assert found[0].text.startswith("We rest at home. We rest at home.")


def test_paragraph_of_120_words_has_no_warning(draft, fibromyalgia):
    assert codes(draft(body=paragraph(120)), [fibromyalgia]) == []


def test_article_without_topic_gets_a_warning(draft):
    found = publish_checks.findings(draft(), [])

    assert [(f.level, f.code, f.field) for f in found] == [
        ("warning", "no_topic", "topics")
    ]


def test_topic_without_other_published_articles_gets_a_warning(draft, make_article):
    lonely = Topic.objects.create(name="Anxiety", slug="anxiety")
    make_article("Draft on anxiety", topics=[lonely], status=Article.Status.DRAFT)

    assert codes(draft(), [lonely]) == ["no_related_article"]


def test_saved_topics_are_used_when_none_are_given(draft, fibromyalgia):
    article = draft()
    article.save()
    assert codes(article, None) == ["no_topic"]

    article.topics.set([fibromyalgia])
    assert codes(article, None) == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Results may vary.",
        "Individual results can differ.",
        "How well it works varies from person to person.",
        "Not everyone responds to ketamine.",
        "Each person responds differently.",
    ],
)
def test_saying_results_vary_passes(draft, fibromyalgia, sentence):
    body = f"<h2>What to expect</h2><p>An infusion takes an hour. {sentence}</p>"

    assert codes(draft(body=body), [fibromyalgia]) == []


def test_not_saying_results_vary_is_a_warning(draft, fibromyalgia):
    body = "<h2>What to expect</h2><p>An infusion takes about an hour.</p>"

    found = publish_checks.findings(draft(body=body), [fibromyalgia])

    assert [(f.level, f.code) for f in found] == [("warning", "results_vary_missing")]

"""
What is checked before an article goes public.

`findings(article)` looks at an article as it is about to be published (the
values typed in the admin, saved or not) and returns what it found, errors
first. Errors block publishing (`blocking_errors`); warnings are advice. Each
finding names the field it is about and, where it helps, quotes the text (the
sentence, the link's text, the start of the paragraph), so the admin can point
at it. The claims an article may not make are listed in pages/claims.py.
"""

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import textstat
from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.text import Truncator

from . import claims
from .models import Article, Page, Topic, sanitize_body
from .seo import site_domain

ERROR = "error"
WARNING = "warning"

MAX_READING_GRADE = 8
MAX_PARAGRAPH_WORDS = 120

# Link texts that say nothing about where the link goes (WCAG 2.4.4), compared
# without case or punctuation.
VAGUE_LINK_TEXTS = {"click here", "here", "read more", "more", "this link", "link"}

# Ways of saying the medical disclaimer's key point, that results vary.
RESULTS_VARY = re.compile(
    r"\bresults?\b[^.!?]{0,40}\b(?:vary|varies|differ|differs)\b|"
    r"\b(?:vary|varies|differ|differs) from (?:person|patient) to (?:person|patient)\b|"
    r"\bnot everyone (?:responds|benefits|improves)\b|"
    r"\b(?:everyone|each (?:person|patient)) (?:responds|reacts) differently\b",
    re.IGNORECASE,
)

SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+")


@dataclass(frozen=True)
class Finding:
    level: str
    code: str
    message: str
    field: str
    text: str = ""

    @property
    def is_error(self):
        return self.level == ERROR

    def __str__(self):
        """The message, quoting the text it is about."""
        return f"{self.message} (“{self.text}”)" if self.text else self.message


def findings(article, topics=None):
    """
    Everything the checks find in the article, errors first. topics are the
    article's topics as typed (a form's cleaned data); by default, as saved.
    """
    if topics is None:
        topics = list(article.topics.all()) if article.pk else []
    body = BodyText(sanitize_body(article.body))
    found = [
        *approval_findings(article),
        *review_date_findings(article),
        *summary_findings(article),
        *image_findings(article, body),
        *heading_findings(body),
        *link_findings(article, body),
        *claim_findings(article, body),
        *reading_grade_findings(body),
        *paragraph_length_findings(body),
        *topic_findings(article, topics),
        *results_vary_findings(article, body),
    ]
    return sorted(found, key=lambda finding: not finding.is_error)


def blocking_errors(article, topics=None):
    """The findings that keep the article from being published."""
    return [finding for finding in findings(article, topics) if finding.is_error]


class BodyText(HTMLParser):
    """The headings, links, images and text blocks of an article's body HTML."""

    BLOCKS = {"p", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self, body_html):
        super().__init__(convert_charrefs=True)
        self.headings = []  # (level, text)
        self.links = []  # (href, text)
        self.images = []  # (src, alt)
        self.blocks = []  # (tag, text)
        self._block = None
        self._link = None
        self.feed(body_html)
        self.close()
        self._end_block()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.BLOCKS:
            self._end_block()
            self._block = [tag, ""]
        elif tag == "a":
            self._link = [attrs.get("href") or "", ""]
        elif tag == "img":
            self.images.append((attrs.get("src") or "", attrs.get("alt")))
        elif tag == "br" and self._block:
            self._block[1] += " "

    def handle_endtag(self, tag):
        if tag == "a" and self._link:
            self.links.append((self._link[0], " ".join(self._link[1].split())))
            self._link = None
        elif self._block and tag == self._block[0]:
            self._end_block()

    def handle_data(self, data):
        if self._block:
            self._block[1] += data
        if self._link:
            self._link[1] += data

    def _end_block(self):
        if self._block:
            tag, text = self._block
            text = " ".join(text.split())
            if text:
                self.blocks.append((tag, text))
                if tag[0] == "h" and tag[1:].isdigit():
                    self.headings.append((int(tag[1:]), text))
        self._block = None

    @property
    def paragraphs(self):
        return [text for tag, text in self.blocks if tag == "p"]

    @property
    def sentences(self):
        return [
            sentence
            for _, text in self.blocks
            for sentence in SENTENCE_END.split(text)
            if sentence
        ]

    @property
    def prose(self):
        """The text as sentences, headings and list items ending like sentences."""
        return " ".join(
            text if text[-1] in ".!?:" else f"{text}." for _, text in self.blocks
        )


def error(code, message, field, text=""):
    return Finding(ERROR, code, message, field, text)


def warning(code, message, field, text=""):
    return Finding(WARNING, code, message, field, text)


def quote_start(text, words=12):
    return Truncator(text).words(words, truncate="…")


def approval_findings(article):
    if article.is_approved:
        return []
    return [
        error(
            "not_approved",
            "A clinical reviewer must approve this text before it is published: "
            "submit it for review.",
            "reviewed_by",
        )
    ]


def review_date_findings(article):
    due = article.next_review_due
    if due and due < timezone.localdate():
        return [
            error(
                "review_overdue",
                f"The clinical review was due on {due:%B %-d, %Y}: have the text "
                "reviewed again and set the next review date.",
                "next_review_due",
            )
        ]
    return []


def summary_findings(article):
    if not article.summary.strip():
        return [
            error(
                "summary_missing",
                "There is no summary: search engines and article lists show it "
                "under the title.",
                "summary",
            )
        ]
    return []


def image_findings(article, body):
    found = []
    if article.hero_image and not article.hero_image_alt.strip():
        found.append(
            error(
                "hero_image_alt_missing",
                "The picture has no description for people who cannot see it.",
                "hero_image_alt",
            )
        )
    for src, alt in body.images:
        if not (alt or "").strip():
            found.append(
                error(
                    "image_alt_missing",
                    "A picture in the text has no description for people who "
                    "cannot see it.",
                    "body",
                    src,
                )
            )
    return found


def heading_findings(body):
    found = []
    previous = 1  # the article's title is the page's h1
    for level, text in body.headings:
        if level > previous + 1:
            found.append(
                error(
                    "heading_skips_level",
                    f"This heading is at level {level} but follows a heading of "
                    f"level {previous}: screen readers use the levels as the "
                    f"outline. Make it level {previous + 1}.",
                    "body",
                    text,
                )
            )
        previous = level
    return found


def link_findings(article, body):
    found = []
    for href, text in body.links:
        plain = re.sub(r"[^\w\s]", "", text).strip().lower()
        if not plain:
            found.append(
                error(
                    "link_text_empty",
                    "A link has no text: screen readers announce only its address.",
                    "body",
                    href,
                )
            )
        elif plain in VAGUE_LINK_TEXTS:
            found.append(
                error(
                    "link_text_vague",
                    f"The link text “{text}” does not say where it goes: use words "
                    "that do, such as the title of the page it opens.",
                    "body",
                    text,
                )
            )
        if not links_to_public_content(href, article):
            found.append(
                error(
                    "link_target_missing",
                    f"This link goes to {href}, which does not exist on this site "
                    "or is not published.",
                    "body",
                    text or href,
                )
            )
    return found


def site_path(href):
    """The path of a link to this site, or None for a link elsewhere."""
    parts = urlsplit(html.unescape(href))
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != site_domain():
            return None
        return parts.path or "/"
    return parts.path if parts.path.startswith("/") else None


def links_to_public_content(href, article):
    """False for a link to an address of this site that nobody can read."""
    path = site_path(href)
    if path is None or path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        try:
            match = resolve(f"{path}/")
        except Resolver404:
            return False
    slug = match.kwargs.get("slug")
    if match.namespace != "pages" or slug is None:
        return True
    if match.url_name == "article":
        published = Article.objects.published().filter(slug=slug)
        return slug == article.slug or published.exists()
    if match.url_name == "topic":
        return Topic.objects.with_published_articles().filter(slug=slug).exists()
    if match.url_name == "page":
        return Page.objects.filter(slug=slug).exists()
    return True


def claim_findings(article, body):
    texts = [("title", article.title), ("summary", article.summary)]
    texts += [("body", sentence) for sentence in body.sentences]
    return [
        error(code, message, field, sentence)
        for field, text in texts
        for sentence in SENTENCE_END.split(text)
        for code, message in claims.claims_in(sentence)
    ]


def reading_grade_findings(body):
    prose = body.prose
    if not prose:
        return []
    grade = textstat.flesch_kincaid_grade(prose)
    if grade <= MAX_READING_GRADE:
        return []
    hardest = max(
        (s for s in body.sentences if len(s.split()) >= 5),
        key=textstat.flesch_kincaid_grade,
        default="",
    )
    return [
        warning(
            "reading_grade_high",
            f"The text reads at school grade {grade:.0f}; aim for {MAX_READING_GRADE} "
            "or below, since many readers are in pain or tired. Shorter sentences "
            "and everyday words help. The hardest sentence is quoted.",
            "body",
            hardest,
        )
    ]


def paragraph_length_findings(body):
    return [
        warning(
            "paragraph_long",
            f"This paragraph has {len(text.split())} words; paragraphs of at most "
            f"{MAX_PARAGRAPH_WORDS} are easier to read. Split it.",
            "body",
            quote_start(text),
        )
        for text in body.paragraphs
        if len(text.split()) > MAX_PARAGRAPH_WORDS
    ]


def topic_findings(article, topics):
    if not topics:
        return [
            warning(
                "no_topic",
                "The article has no topic, so it is not listed on any topic's page "
                "and shows no related articles.",
                "topics",
            )
        ]
    related = (
        Article.objects.published()
        .filter(topics__in=topics)
        .exclude(pk=article.pk)
        .exists()
    )
    if not related:
        return [
            warning(
                "no_related_article",
                "No other published article shares a topic with this one, so it "
                "shows no related articles. Add a topic that other articles have.",
                "topics",
            )
        ]
    return []


def results_vary_findings(article, body):
    text = " ".join((article.title, article.summary, body.prose))
    if RESULTS_VARY.search(text):
        return []
    return [
        warning(
            "results_vary_missing",
            "The article does not say that results vary from person to person, the "
            "key point of the medical disclaimer.",
            "body",
        )
    ]

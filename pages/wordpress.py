"""
Reading a WordPress export (WXR, from Tools → Export in WordPress 6.x) for
`manage.py import_wordpress`: its posts, pages, categories, tags and featured
images, with bodies cleaned of block-editor comments and shortcodes.

The file is parsed with defusedxml, which refuses entity tricks (billion
laughs, external entities): an export is a file from elsewhere.
"""

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from defusedxml import ElementTree

NAMESPACES = {
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "wp": "http://wordpress.org/export/1.2/",
}

BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->", re.DOTALL)
# WordPress's own shortcodes whose content means nothing without WordPress (a
# caption's picture, a gallery); embed's content is an address, kept as a link.
REMOVED_SHORTCODES = ("audio", "caption", "gallery", "playlist", "video", "wp_caption")
EMBED = re.compile(r"\[embed[^\]]*\](.*?)\[/embed\]", re.DOTALL)
# A plugin's shortcode: a [name ...]...[/name] pair, or [name key="value"]; so a
# "[1]" or "[citation needed]" in the text stays.
ENCLOSING_SHORTCODE = re.compile(
    r"\[([a-zA-Z][\w-]*)(?:\s[^\]]*)?\](.*?)\[/\1\]", re.DOTALL
)
SHORTCODE_WITH_ATTRIBUTES = re.compile(r"\[[a-zA-Z][\w-]*\s+[\w-]+=[^\]]*\]")
BLOCK_TAG = re.compile(r"<(p|h[1-6]|ul|ol|blockquote|figure|div|table)[\s>]", re.I)
EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>")
HEADING_LEVELS = {"h1": "h2", "h5": "h4", "h6": "h4"}
NO_DATE = "0000-00-00 00:00:00"


@dataclass
class Term:
    """A category or tag."""

    wordpress_id: int
    taxonomy: str
    slug: str
    name: str
    description: str = ""

    @property
    def old_path(self):
        return f"/{'category' if self.taxonomy == 'category' else 'tag'}/{self.slug}/"

    @property
    def fingerprint(self):
        fields = [self.slug, self.name, self.description]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()

    @property
    def query_path(self):
        if self.taxonomy == "category":
            return f"/?cat={self.wordpress_id}"
        return f"/?tag={self.slug}"


@dataclass
class Attachment:
    wordpress_id: int
    url: str
    file: str
    alt_text: str
    caption: str


@dataclass
class Item:
    """A post or a page."""

    wordpress_id: int
    post_type: str
    title: str
    slug: str
    status: str
    date: datetime | None
    link: str
    content: str
    excerpt: str
    terms: list = field(default_factory=list)  # (taxonomy, slug)
    thumbnail_id: int | None = None

    @property
    def old_paths(self):
        """Where WordPress showed it: its permalink, and /?p=ID or /?page_id=ID."""
        parameter = "p" if self.post_type == "post" else "page_id"
        paths = [f"/?{parameter}={self.wordpress_id}"]
        if self.status in ("publish", "future") and self.link:
            parts = urlsplit(self.link)
            if not parts.query:
                paths.insert(0, parts.path or "/")
        return paths

    @property
    def fingerprint(self):
        """A digest of what the export says of it, to see it changed there."""
        fields = [
            self.title,
            self.slug,
            self.status,
            self.date and self.date.isoformat(),
            self.content,
            self.excerpt,
            sorted(self.terms),
            self.thumbnail_id,
        ]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


@dataclass
class Export:
    site_url: str
    terms: list
    items: list
    attachments: dict


def text(element, path):
    found = element.find(path, NAMESPACES)
    return (found.text or "").strip() if found is not None else ""


def gmt_date(value):
    if not value or value == NO_DATE:
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def post_meta(item):
    return {
        text(meta, "wp:meta_key"): text(meta, "wp:meta_value")
        for meta in item.findall("wp:postmeta", NAMESPACES)
    }


def read_terms(channel):
    terms = []
    for category in channel.findall("wp:category", NAMESPACES):
        terms.append(
            Term(
                wordpress_id=int(text(category, "wp:term_id")),
                taxonomy="category",
                slug=text(category, "wp:category_nicename"),
                name=html.unescape(text(category, "wp:cat_name")),
                description=text(category, "wp:category_description"),
            )
        )
    for tag in channel.findall("wp:tag", NAMESPACES):
        terms.append(
            Term(
                wordpress_id=int(text(tag, "wp:term_id")),
                taxonomy="post_tag",
                slug=text(tag, "wp:tag_slug"),
                name=html.unescape(text(tag, "wp:tag_name")),
                description=text(tag, "wp:tag_description"),
            )
        )
    return terms


def read_item(element, meta):
    thumbnail = meta.get("_thumbnail_id", "")
    return Item(
        wordpress_id=int(text(element, "wp:post_id")),
        post_type=text(element, "wp:post_type"),
        title=html.unescape(text(element, "title")),
        slug=text(element, "wp:post_name"),
        status=text(element, "wp:status"),
        date=gmt_date(text(element, "wp:post_date_gmt")),
        link=text(element, "link"),
        content=text(element, "content:encoded"),
        excerpt=text(element, "excerpt:encoded"),
        terms=[
            (category.get("domain"), category.get("nicename"))
            for category in element.findall("category")
            if category.get("domain") in ("category", "post_tag")
        ],
        thumbnail_id=int(thumbnail) if thumbnail.isdigit() else None,
    )


def read_export(path):
    """The export at path, as Terms, Items (posts and pages) and Attachments."""
    channel = ElementTree.parse(path, forbid_dtd=True).getroot().find("channel")
    if channel is None:
        raise ValueError("This is not a WordPress export: it has no <channel>.")
    items, attachments = [], {}
    for element in channel.findall("item"):
        post_type = text(element, "wp:post_type")
        meta = post_meta(element)
        if post_type == "attachment":
            wordpress_id = int(text(element, "wp:post_id"))
            attachments[wordpress_id] = Attachment(
                wordpress_id=wordpress_id,
                url=text(element, "wp:attachment_url"),
                file=meta.get("_wp_attached_file", ""),
                alt_text=meta.get("_wp_attachment_image_alt", "").strip(),
                caption=html.unescape(text(element, "excerpt:encoded")),
            )
        elif post_type in ("post", "page"):
            items.append(read_item(element, meta))
    return Export(
        site_url=text(channel, "wp:base_blog_url") or text(channel, "link"),
        terms=read_terms(channel),
        items=items,
        attachments=attachments,
    )


def autop(content):
    """Paragraphs for text written without them (the classic editor's way)."""
    if BLOCK_TAG.search(content):
        return content
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", content)]
    return "".join(
        "<p>{}</p>".format(part.replace("\n", "<br>")) for part in paragraphs if part
    )


def clean_content(content):
    """A WordPress body without block comments and shortcodes, before sanitising."""
    content = BLOCK_COMMENT.sub("", content)
    content = EMBED.sub(r'<p><a href="\1">\1</a></p>', content)
    for name in REMOVED_SHORTCODES:
        content = re.sub(
            rf"\[{name}[^\]]*\].*?\[/{name}\]", "", content, flags=re.DOTALL
        )
        content = re.sub(rf"\[{name}[^\]]*\]", "", content)
    previous = None
    while previous != content:  # shortcodes inside shortcodes
        previous = content
        content = ENCLOSING_SHORTCODE.sub(r"\2", content)
    content = SHORTCODE_WITH_ATTRIBUTES.sub("", content)
    for old, new in HEADING_LEVELS.items():
        content = re.sub(rf"<(/?){old}([\s>])", rf"<\1{new}\2", content, flags=re.I)
    content = EMPTY_PARAGRAPH.sub("", content)
    return autop(re.sub(r"\n\s*\n\s*(?=<)", "\n", content).strip())

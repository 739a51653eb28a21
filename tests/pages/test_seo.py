"""What search engines and link previews read: titles, canonical and share tags."""

import lxml.html
import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from pages.seo import DEFAULT_SHARE_IMAGE
from tests.pages.conftest import approve_and_publish
from tests.pages.test_admin import article_form
from tests.pages.test_images import photo_with_metadata, stored_image

SITE = "https://www.roswellinfusions.example"

PUBLIC_PAGES = [
    "/",
    "/articles/",
    "/articles/fibro-relief/",
    "/topics/fibromyalgia/",
    "/about-us/",
    "/contact/",
    "/privacy-policy/",
    "/consultation/",
]


@pytest.fixture
def site(settings, clinic, make_topic, make_article, make_page):
    settings.SITE_URL = SITE
    topic = make_topic("Fibromyalgia", description="Articles about fibromyalgia.")
    make_page(
        "Home",
        slug="home",
        body="<p>Welcome.</p>",
        meta_description="Ketamine infusions in Roswell.",
    )
    make_page("About us", body="<p>Who we are and how we care for patients.</p>")
    make_page("Contact", show_clinic_details=True)
    make_page("Privacy policy", meta_description="How we protect your details.")
    make_page("Medical disclaimer")
    return make_article("Fibro relief", topics=[topic], summary="How to feel better.")


def head(client, path):
    return lxml.html.fromstring(client.get(path).content)


def meta(document, name):
    """The content of <meta name=...> or <meta property=...>."""
    found = document.xpath(f'//meta[@name="{name}" or @property="{name}"]/@content')
    assert len(found) == 1, f"{len(found)} <meta> named {name}"
    return found[0]


def test_every_public_page_has_its_own_title_and_description(client, site):
    documents = [head(client, path) for path in PUBLIC_PAGES]
    titles = [document.findtext(".//title") for document in documents]
    descriptions = [meta(document, "description") for document in documents]

    assert len(set(titles)) == len(PUBLIC_PAGES), titles
    assert len(set(descriptions)) == len(PUBLIC_PAGES), descriptions
    assert all(title.endswith("| Roswell Infusions") for title in titles)
    assert all(0 < len(description) <= 160 for description in descriptions)
    assert all(document.get("lang") == "en" for document in documents)


def test_page_without_meta_description_is_described_by_its_text(client, site):
    assert meta(head(client, "/about-us/"), "description") == (
        "Who we are and how we care for patients."
    )


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_canonical_and_share_urls_are_absolute_on_the_public_address(
    client, site, path
):
    document = head(client, path)
    canonical = document.xpath('//link[@rel="canonical"]/@href')

    assert canonical == [SITE + path]
    assert meta(document, "og:url") == SITE + path
    assert meta(document, "og:image").startswith(SITE + "/")
    assert meta(document, "twitter:card") == "summary_large_image"


def test_canonical_url_keeps_only_the_page_number(client, site, make_article):
    for number in range(10):
        make_article(f"Article {number}")

    document = head(client, "/articles/?page=2&utm_source=newsletter")

    assert document.xpath('//link[@rel="canonical"]/@href') == [
        SITE + "/articles/?page=2"
    ]
    assert document.findtext(".//title") == "Articles, page 2 | Roswell Infusions"


def test_shared_article_shows_title_summary_and_a_jpeg_copy_of_its_picture(
    editor_client, client, site
):
    photo, _ = photo_with_metadata("WEBP", size=(3000, 2000), orientation=1)
    response = editor_client.post(
        f"/admin/pages/article/{site.pk}/change/",
        article_form(
            title=site.title,
            slug=site.slug,
            summary=site.summary,
            hero_image=SimpleUploadedFile("photo.webp", photo, "image/webp"),
            hero_image_alt="A teal square",
        ),
    )
    assert response.status_code == 302
    # The picture waits in the working copy until it is approved and published.
    assert (
        'property="og:image" content="' + SITE + "/media/"
        not in client.get("/articles/fibro-relief/").text
    )
    approve_and_publish(site)

    document = head(client, "/articles/fibro-relief/")

    assert meta(document, "og:type") == "article"
    assert meta(document, "og:title") == "Fibro relief"
    assert meta(document, "og:description") == "How to feel better."
    share_url = meta(document, "og:image")
    assert share_url.startswith(SITE + "/media/articles/")
    assert share_url.endswith(".jpg")
    assert share_url != SITE + site.hero_image.url
    image = stored_image(share_url.removeprefix(SITE))
    assert (image.format, image.size) == ("JPEG", (1200, 800))
    assert not image.getexif()
    assert meta(document, "og:image:alt") == "A teal square"
    assert (meta(document, "og:image:width"), meta(document, "og:image:height")) == (
        "1200",
        "800",
    )
    assert meta(document, "og:image:type") == "image/jpeg"
    assert meta(document, "twitter:image") == share_url


def test_article_without_picture_shares_the_default_image(client, site):
    document = head(client, "/articles/fibro-relief/")

    assert meta(document, "og:image") == f"{SITE}/static/{DEFAULT_SHARE_IMAGE}"
    assert meta(document, "og:image:type") == "image/png"
    with Image.open(finders.find(DEFAULT_SHARE_IMAGE)) as image:
        assert image.width >= 1200
        assert image.height >= 630
        assert (
            meta(document, "og:image:width"),
            meta(document, "og:image:height"),
        ) == (
            str(image.width),
            str(image.height),
        )


def test_drafts_previewed_by_staff_are_not_indexed(admin_client, site, make_article):
    make_article("Work in progress", status="draft")

    document = head(admin_client, "/articles/work-in-progress/")

    assert meta(document, "robots") == "noindex"
    assert not head(admin_client, "/articles/fibro-relief/").xpath(
        '//meta[@name="robots"]'
    )


def test_head_links_the_atom_feed_and_an_icon(client, site):
    document = head(client, "/")

    assert document.xpath(
        '//link[@rel="alternate" and @type="application/atom+xml"]/@href'
    ) == ["/articles/feed.xml"]
    assert document.xpath('//link[@rel="icon"]/@href')


def test_favicon_ico_leads_to_the_icon(client, site):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.ico"

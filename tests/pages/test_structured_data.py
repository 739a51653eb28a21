"""JSON-LD for search engines, read back out of the HTML with extruct."""

from datetime import date

import extruct
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pages.structured_data import opening_hours, postal_address
from tests.conftest import image_bytes

SITE = "https://www.roswellinfusions.example"


@pytest.fixture
def site(settings, clinic, make_topic, make_article, make_page):
    settings.SITE_URL = SITE
    make_page("Home", slug="home")
    make_page("Contact", show_clinic_details=True)
    make_page("About us")
    return make_article("Fibro relief", topics=[make_topic("Fibromyalgia")])


def json_ld(client, path):
    html = client.get(path).text
    return extruct.extract(html, base_url=SITE + path, syntaxes=["json-ld"])["json-ld"]


def of_type(items, schema_type):
    found = [item for item in items if item["@type"] == schema_type]
    assert len(found) == 1, f"{len(found)} {schema_type} in {items}"
    return found[0]


@pytest.mark.parametrize("path", ["/", "/contact/"])
def test_home_and_contact_pages_describe_the_clinic(client, site, path):
    clinic = of_type(json_ld(client, path), "MedicalClinic")

    assert clinic["@context"] == "https://schema.org"
    assert clinic["name"] == "Roswell Infusions"
    assert clinic["url"] == SITE + "/"
    assert clinic["telephone"] == "+17705550123"
    assert clinic["email"] == "info@example.com"
    assert clinic["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "100 Example Street",
        "addressLocality": "Roswell",
        "addressRegion": "GA",
        "postalCode": "30075",
        "addressCountry": "US",
    }
    assert clinic["openingHoursSpecification"] == [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
            "opens": "09:00",
            "closes": "17:00",
        }
    ]


def test_other_pages_do_not_repeat_the_clinic(client, site):
    assert json_ld(client, "/about-us/") == []


def test_article_is_a_medical_web_page_with_dates_and_publisher(client, site):
    page = of_type(json_ld(client, "/articles/fibro-relief/"), "MedicalWebPage")

    assert page["headline"] == "Fibro relief"
    assert page["description"] == "A summary of Fibro relief."
    assert page["url"] == SITE + "/articles/fibro-relief/"
    assert page["image"]["url"].startswith(SITE + "/static/img/")
    assert page["datePublished"].startswith(site.published_at.date().isoformat())
    assert page["dateModified"].startswith(site.updated_at.date().isoformat())
    assert page["publisher"]["name"] == "Roswell Infusions"
    assert page["author"]["name"] == "Roswell Infusions"
    assert page["publisher"]["logo"].startswith(SITE + "/static/img/")
    assert "lastReviewed" not in page
    assert "reviewedBy" not in page


def test_article_image_is_the_link_preview_copy(client, site):
    site.hero_image = SimpleUploadedFile("photo.png", image_bytes(size=(2400, 1200)))
    site.hero_image_alt = "A teal rectangle"
    site.save()

    page = of_type(json_ld(client, "/articles/fibro-relief/"), "MedicalWebPage")

    preview = site.hero_preview
    assert preview["url"].endswith("-preview.jpg")
    assert page["image"] == {
        "@type": "ImageObject",
        "url": SITE + preview["url"],
        "width": 1200,
        "height": 600,
    }


def test_reviewed_article_names_its_reviewer_and_review_date(client, site):
    site.reviewed_by = "Jane Doe, MD"
    site.last_reviewed = date(2026, 10, 1)
    site.save()

    page = of_type(json_ld(client, "/articles/fibro-relief/"), "MedicalWebPage")

    assert page["lastReviewed"] == "2026-10-01"
    assert page["reviewedBy"] == {"@type": "Person", "name": "Jane Doe, MD"}


def test_article_has_breadcrumbs_from_home_to_itself(client, site):
    crumbs = of_type(json_ld(client, "/articles/fibro-relief/"), "BreadcrumbList")

    assert [
        (crumb["position"], crumb["name"], crumb["item"])
        for crumb in crumbs["itemListElement"]
    ] == [
        (1, "Home", SITE + "/"),
        (2, "Articles", SITE + "/articles/"),
        (3, "Fibro relief", SITE + "/articles/fibro-relief/"),
    ]


def test_text_in_the_data_cannot_end_the_script_block(client, site):
    site.title = "Pain </script><script>alert(1)</script> & more"
    site.save()

    html = client.get("/articles/fibro-relief/").text
    page = of_type(json_ld(client, "/articles/fibro-relief/"), "MedicalWebPage")

    assert "<script>alert(1)" not in html
    assert page["headline"] == site.title


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Monday–Friday: 9am–5pm", [(["Monday", "Friday"], "09:00", "17:00")]),
        ("Mon - Thu: 8:30 am - 6:30 pm", [(["Monday", "Thursday"], "08:30", "18:30")]),
        (
            "Saturday and Sunday: 10:00–14:00",
            [(["Saturday", "Sunday"], "10:00", "14:00")],
        ),
        ("Tue, Thu: 12pm to 8pm", [(["Tuesday", "Thursday"], "12:00", "20:00")]),
        ("Saturday and Sunday: closed", []),
        ("By appointment only", []),
        ("Funday: 9am–5pm", []),
    ],
)
def test_opening_hours_are_understood_in_their_usual_forms(text, expected):
    specifications = opening_hours(text)

    assert [
        ([spec["dayOfWeek"][0], spec["dayOfWeek"][-1]], spec["opens"], spec["closes"])
        for spec in specifications
    ] == expected


def test_address_in_another_form_is_kept_whole():
    assert postal_address("Unit 4, Mill Lane\nSomewhere") == {
        "@type": "PostalAddress",
        "streetAddress": "Unit 4, Mill Lane, Somewhere",
    }

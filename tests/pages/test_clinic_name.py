"""Pages and the admin name the clinic as staff entered it in the clinic details."""

import re

import pytest
from django.test import Client

from pages.models import ClinicDetails

NEW_NAME = "Willow Creek Pain Clinic"

# The default share picture shows the name it was drawn with; its description
# (og:image:alt) describes that picture.
SHARE_IMAGE_ALT = re.compile(r'<meta (?:property|name)="\w+:image:alt"[^>]*>')


@pytest.fixture(autouse=True)
def renamed_clinic(clinic):
    ClinicDetails.objects.filter(pk=clinic.pk).update(name=NEW_NAME)


def test_public_pages_name_the_clinic_from_its_details(client, make_article):
    article = make_article("Sleep and pain")

    for url in ("/", "/articles/", article.get_absolute_url(), "/search/"):
        html = client.get(url).text
        assert f"| {NEW_NAME}</title>" in html or f"<title>{NEW_NAME}" in html
        assert f'<meta property="og:site_name" content="{NEW_NAME}">' in html
        assert f'title="Articles from {NEW_NAME}"' in html
        assert "Roswell Infusions" not in SHARE_IMAGE_ALT.sub("", html), url


def test_page_without_description_is_described_with_the_clinic_name(client):
    html = client.get("/no-such-page/").text

    assert (
        '<meta name="description" content="Ketamine infusion therapy for chronic '
        f'pain, fibromyalgia and mood disorders at {NEW_NAME}.">'
    ) in html


def test_csrf_failure_page_names_the_clinic(db):
    html = Client(enforce_csrf_checks=True).post("/consultation/", {}).text

    assert f"<title>Please try again | {NEW_NAME}</title>" in html


def test_admin_header_names_the_clinic(admin_client):
    html = admin_client.get("/admin/").text

    assert f"{NEW_NAME}: site administration" in html
    assert f"| {NEW_NAME} admin</title>" in html

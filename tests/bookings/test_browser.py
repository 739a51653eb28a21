"""A patient asks for a consultation from an article, in Debian's Chromium."""

import re

import pytest
from playwright.sync_api import expect

from bookings.models import ConsultationRequest

ARTICLE = "/articles/ketamine-therapy-for-fibromyalgia/"


@pytest.fixture
def site(live_server, starter_content, fibromyalgia):
    return live_server.url


def test_patient_requests_a_consultation_from_an_article(site, page, screenshots_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site + ARTICLE)
    page.get_by_role("region", name="Talk to our team").get_by_role(
        "link", name="Contact us"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a consultation")
    expect(page.get_by_label("Which treatment are you interested in?")).to_have_value(
        re.compile(r"\d+")
    )

    page.get_by_role("button", name="Send my request").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please enter your name.")
    expect(page.get_by_label("Full name")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=screenshots_dir / "consultation-errors.png", full_page=True)

    page.get_by_label("Full name").fill("Maria Lopez")
    page.get_by_label("E-mail address").fill("maria@example.org")
    page.get_by_label("Phone number").fill("(770) 555-0188")
    page.get_by_label("Phone call").check()
    page.get_by_label("Wednesday").check()
    page.get_by_label("Morning (9am–12pm)").check()
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send my request").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, we have your request"
    )
    consultation = ConsultationRequest.objects.get()
    expect(page.locator("[data-reference]")).to_have_text(consultation.reference)
    assert consultation.treatment.slug == "fibromyalgia"
    page.screenshot(path=screenshots_dir / "consultation-thanks.png", full_page=True)

    page.reload()
    assert ConsultationRequest.objects.count() == 1


def test_crisis_guidance_appears_while_typing(site, page):
    page.goto(site + "/consultation/")
    guidance = page.get_by_role("region", name=re.compile("ending your life"))
    expect(guidance).to_be_hidden()

    page.get_by_label("Anything you would like us to know").fill(
        "Some nights I want to die."
    )

    expect(guidance).to_be_visible()
    expect(guidance.get_by_role("link", name="988")).to_have_attribute(
        "href", "tel:988"
    )

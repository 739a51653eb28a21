"""Staff delete a published article in the admin and choose where its address goes."""

import pytest
from playwright.sync_api import expect

from pages.models import Article


@pytest.fixture
def staff_page(live_server, page, admin_user, clinic):
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def test_staff_delete_an_article_and_its_address_leads_to_a_topic(
    live_server, staff_page, make_article, make_topic, axe_violations
):
    page = staff_page
    topic = make_topic("Fibromyalgia")
    article = make_article("Old fibro news", topics=[topic])
    page.goto(f"{live_server.url}/admin/pages/article/{article.pk}/delete/")

    page.get_by_role("button", name="Yes, I’m sure").click()
    # The browser itself asks for a choice first; nothing is deleted.
    assert Article.objects.filter(pk=article.pk).exists()
    assert axe_violations(page) == []

    page.get_by_label("To a topic").check()
    page.get_by_role("button", name="Yes, I’m sure").click()
    expect(page.get_by_text("Choose the topic visitors should go to.")).to_be_visible()
    expect(page.get_by_label("To a topic")).to_be_checked()
    page.get_by_label("Topic:").select_option("Fibromyalgia")
    page.get_by_role("button", name="Yes, I’m sure").click()
    expect(page.locator(".messagelist")).to_contain_text("deleted successfully")

    page.goto(f"{live_server.url}/articles/old-fibro-news/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fibromyalgia")
    assert page.url == f"{live_server.url}/topics/fibromyalgia/"

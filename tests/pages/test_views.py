import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from pages.models import Article


@pytest.fixture
def site(clinic, make_topic, make_article, make_page):
    topic = make_topic("Fibromyalgia")
    home = make_page("Home", slug="home", body="<p>Welcome to the clinic.</p>")
    make_page("About us", show_in_navigation=True)
    make_page("Contact", show_clinic_details=True, show_in_navigation=True)
    make_page("Privacy policy")
    make_page("Medical disclaimer")
    article = make_article("Fibro relief", topics=[topic])
    home.featured_articles.add(article)
    return {"topic": topic, "article": article}


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/articles/",
        "/articles/fibro-relief/",
        "/topics/fibromyalgia/",
        "/about-us/",
        "/contact/",
        "/privacy-policy/",
        "/medical-disclaimer/",
        "/consultation/",
    ],
)
def test_public_urls_answer_200(client, site, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/articles/no-such-article/", "/topics/no-such-topic/", "/no-such-page/"],
)
def test_unknown_slugs_answer_404_with_the_site_look(client, site, url):
    response = client.get(url)

    assert response.status_code == 404
    assert "We can’t find that page" in response.text
    assert "(770) 555-0123" in response.text


def test_home_page_slug_redirects_to_root(client, site):
    response = client.get("/home/")

    assert response.status_code == 301
    assert response["Location"] == "/"


def test_home_page_shows_intro_and_featured_article(client, site):
    response = client.get("/")

    assert "Welcome to the clinic." in response.text
    assert 'href="/articles/fibro-relief/"' in response.text


def test_navigation_lists_pages_marked_for_it(client, site):
    nav = re.search(r'<nav class="navbar.*?</nav>', client.get("/").text, re.DOTALL)

    assert 'href="/about-us/"' in nav.group()
    assert 'href="/contact/"' in nav.group()
    assert 'href="/privacy-policy/"' not in nav.group()
    assert 'href="/consultation/"' in nav.group()


def test_every_page_shows_the_clinic_phone_and_footer_links(client, site):
    for url in ("/", "/articles/", "/about-us/", "/articles/fibro-relief/"):
        html = client.get(url).text
        assert 'href="tel:+17705550123"' in html
        assert 'href="/privacy-policy/"' in html
        assert 'href="/medical-disclaimer/"' in html


def test_contact_page_shows_clinic_details(client, site):
    html = client.get("/contact/").text

    assert "100 Example Street" in html
    assert "Monday–Friday: 9am–5pm" in html
    assert "mailto:info@example.com" in html


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Article.Status.DRAFT},
        {"published_at": timezone.now() + timedelta(days=3)},
    ],
    ids=["draft", "scheduled"],
)
def test_unpublished_article_is_hidden_from_public(client, site, make_article, fields):
    make_article("Hidden", **fields)

    assert client.get("/articles/hidden/").status_code == 404
    assert "Hidden" not in client.get("/articles/").text
    assert "Hidden" not in client.get("/topics/fibromyalgia/").text
    assert "Hidden" not in client.get("/").text


@pytest.mark.parametrize(
    ("fields", "notice"),
    [
        ({"status": Article.Status.DRAFT}, "This article is a draft"),
        ({"published_at": timezone.now() + timedelta(days=3)}, "scheduled"),
    ],
    ids=["draft", "scheduled"],
)
def test_staff_preview_unpublished_article_marked_not_public(
    admin_client, site, make_article, fields, notice
):
    make_article("Hidden", **fields)

    response = admin_client.get("/articles/hidden/")

    assert response.status_code == 200
    assert "Preview: not public." in response.text
    assert notice in response.text


def staff_login(client, *, group=None, permissions=()):
    user = User.objects.create_user("staff", password="unused", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="pages", codename__in=permissions
        )
    )
    client.force_login(user)
    return client


def test_front_desk_cannot_preview_a_draft(client, site, make_article):
    make_article("Hidden", status=Article.Status.DRAFT)
    front_desk = staff_login(client, group="Front desk")

    response = front_desk.get("/articles/hidden/")

    assert response.status_code == 404
    assert "Hidden" not in response.text


@pytest.mark.parametrize("permission", ["view_article", "change_article"])
def test_staff_with_article_rights_preview_a_draft(
    client, site, make_article, permission
):
    make_article("Hidden", status=Article.Status.DRAFT)
    editor = staff_login(client, permissions=[permission])

    response = editor.get("/articles/hidden/")

    assert response.status_code == 200
    assert "Preview: not public." in response.text


def test_public_article_has_no_preview_banner(admin_client, site):
    assert "Preview" not in admin_client.get("/articles/fibro-relief/").text


def test_article_list_is_newest_first_and_paginated(client, site, make_article):
    now = timezone.now()
    for day in range(12):
        make_article(f"Day {day}", published_at=now - timedelta(days=day, hours=2))

    first = client.get("/articles/").text
    second = client.get("/articles/?page=2").text

    # Ten a page: Day 0, the site's article (a day old), then Day 1 to Day 8.
    assert first.index("Day 0") < first.index("Fibro relief") < first.index("Day 8")
    assert "Day 9" not in first
    assert "Day 9" in second and "Day 11" in second
    assert client.get("/articles/?page=9").status_code == 404


def test_topic_page_lists_only_its_articles(client, site, make_article, make_topic):
    other = make_topic("Depression")
    make_article("Mood", topics=[other])

    html = client.get("/topics/fibromyalgia/").text

    assert "Fibro relief" in html
    assert "Mood" not in html


def test_article_page_structure(client, site, make_article):
    topic = site["topic"]
    make_article("Related one", topics=[topic])
    make_article(
        "Full",
        topics=[topic],
        summary="The summary.",
        body="<p>Intro</p><h2>Causes</h2><p>a</p><h3>Genes</h3><p>b</p>",
        reviewed_by="Jane Doe, MD",
        last_reviewed=timezone.localdate(),
    )

    html = client.get("/articles/full/").text

    assert html.count("<h1") == 1
    assert "The summary." in html
    assert "Published <time" in html and "Updated <time" in html
    assert "Medically reviewed by Jane Doe, MD" in html
    assert '<a href="#causes">Causes</a>' in html
    assert '<h2 id="causes">Causes</h2>' in html
    assert '<a href="#genes">Genes</a>' in html
    assert 'href="/consultation/?article=full">Contact us</a>' in html
    assert 'href="tel:+17705550123"' in html
    for share in (
        "mailto:?subject=",
        "facebook.com/sharer",
        "x.com/intent",
        "linkedin.com/sharing",
        "data-copy-link",
    ):
        assert share in html
    assert "Related articles" in html and "Related one" in html
    assert "Medical disclaimer:" in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>")[0]


@pytest.mark.parametrize("url", ["/", "/articles/fibro-relief/", "/consultation/"])
def test_pages_load_one_small_script_that_never_blocks_rendering(client, site, url):
    tags = re.findall(r"<script[^>]*>", client.get(url).text)
    # JSON-LD blocks are data, not scripts a browser runs.
    scripts = [tag for tag in tags if 'type="application/ld+json"' not in tag]

    assert scripts == ['<script src="/static/js/site.js" defer>']

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pages.models import Article, Redirect

pytestmark = pytest.mark.django_db


def rename(record, slug):
    record.slug = slug
    record.save()
    return record


def test_changing_a_published_article_slug_redirects_the_old_address(
    client, make_article
):
    article = make_article("Sleep and pain", slug="sleep")
    rename(article, "sleep-and-pain")

    response = client.get("/articles/sleep/")

    assert response.status_code == 301
    assert response["Location"] == "/articles/sleep-and-pain/"
    assert client.get(response["Location"]).status_code == 200


def test_changing_a_draft_slug_leaves_no_redirect(make_article):
    article = make_article("Sleep", status=Article.Status.DRAFT)
    rename(article, "rest")

    assert not Redirect.objects.exists()


def test_changing_a_page_or_topic_slug_redirects(client, make_page, make_topic):
    rename(make_page("About us"), "about")
    rename(make_topic("Pain"), "chronic-pain")

    assert client.get("/about-us/")["Location"] == "/about/"
    assert client.get("/topics/pain/")["Location"] == "/topics/chronic-pain/"


def test_saving_without_changing_the_slug_leaves_no_redirect(make_article):
    article = make_article()
    article.title = "A new title"
    article.save()

    assert not Redirect.objects.exists()


def test_a_chain_of_slug_changes_collapses_to_one_hop(client, make_article):
    article = make_article("A", slug="a")
    rename(article, "b")
    rename(article, "c")

    assert client.get("/articles/a/")["Location"] == "/articles/c/"
    assert client.get("/articles/b/")["Location"] == "/articles/c/"


def test_changing_the_slug_back_removes_the_redirect_from_it(client, make_article):
    article = make_article("A", slug="a")
    rename(article, "b")
    rename(article, "a")

    assert client.get("/articles/a/").status_code == 200
    assert client.get("/articles/b/")["Location"] == "/articles/a/"
    assert list(Redirect.objects.values_list("old_path", flat=True)) == ["/articles/b/"]


def test_redirects_to_addresses_collapse_and_never_loop(make_article):
    Redirect.objects.create(old_path="/old/", target_path="/older/")
    Redirect.objects.create(old_path="/older/", target_path="/contact/")

    assert Redirect.objects.get(old_path="/old/").url == "/contact/"

    looping = Redirect(old_path="/contact/", target_path="/old/")
    with pytest.raises(ValidationError) as error:
        looping.full_clean()
    assert error.value.error_dict["__all__"][0].code == "redirect_loop"


def test_redirect_to_an_unpublished_article_is_refused(make_article):
    draft = make_article("Coming soon", status=Article.Status.DRAFT)
    scheduled = make_article("Later", published_at=timezone.now() + timedelta(days=3))

    for target in (draft, scheduled):
        with pytest.raises(ValidationError) as error:
            Redirect(old_path="/old/", article=target).full_clean()
        assert "is not published" in error.value.message_dict["article"][0]
    with pytest.raises(ValidationError) as error:
        Redirect(old_path="/old/", target_path="/articles/later/").full_clean()
    assert error.value.error_dict["target_path"][0].code == "unpublished_target"


def test_redirect_to_an_article_unpublished_later_answers_404(client, make_article):
    article = make_article("A", slug="a")
    rename(article, "b")
    article.status = Article.Status.DRAFT
    article.save()

    assert client.get("/articles/a/").status_code == 404


def test_gone_redirect_answers_410_with_the_site_layout(client, clinic):
    Redirect.objects.create(old_path="/old-offer/", answer=Redirect.Answer.GONE)

    response = client.get("/old-offer/")

    assert response.status_code == 410
    assert "This page has been removed" in response.text
    assert clinic.phone in response.text


def test_temporary_redirect_answers_302(client):
    Redirect.objects.create(
        old_path="/summer/", target_path="/articles/", answer=Redirect.Answer.TEMPORARY
    )

    assert client.get("/summer/").status_code == 302


def test_address_without_trailing_slash_finds_the_redirect(client):
    Redirect.objects.create(old_path="/old/", target_path="/articles/")

    assert client.get("/old")["Location"] == "/articles/"


def test_unknown_address_keeps_the_404_page(client, clinic):
    response = client.get("/no-such-thing/")

    assert response.status_code == 404
    assert "We can’t find that page" in response.text


def test_each_visit_counts(client):
    Redirect.objects.create(old_path="/old/", target_path="/articles/")

    client.get("/old/")
    client.get("/old/")

    redirect = Redirect.objects.get()
    assert redirect.hits == 2
    assert timezone.now() - redirect.last_hit < timedelta(minutes=1)


def redirect_queries(queries):
    return [query["sql"] for query in queries if "pages_redirect" in query["sql"]]


def test_visit_count_is_one_update_not_a_read_and_write(client):
    Redirect.objects.create(old_path="/old/", target_path="/articles/")
    Redirect.objects.filter(old_path="/old/").update(hits=41)

    with CaptureQueriesContext(connection) as queries:
        client.get("/old/")

    lookup, count = redirect_queries(queries)
    assert lookup.startswith("SELECT")
    assert count.startswith("UPDATE")
    assert '"hits" = ("pages_redirect"."hits" + 1)' in count
    assert Redirect.objects.get().hits == 42


def test_wordpress_query_address_redirects_from_the_home_page(client, make_article):
    article = make_article("Fibro")
    Redirect.objects.create(old_path="/?p=12", article=article)

    response = client.get("/?p=12&utm_source=newsletter")

    assert response["Location"] == article.get_absolute_url()
    assert client.get("/?p=99").status_code == 200


def test_full_address_pasted_as_old_path_keeps_path_and_wordpress_parameter():
    redirect = Redirect.objects.create(
        old_path="https://old.example.com/?p=12&x=1", target_path="/articles/"
    )
    other = Redirect.objects.create(
        old_path="https://old.example.com/caf%C3%A9/?utm=x", target_path="/articles/"
    )

    assert redirect.old_path == "/?p=12"
    assert other.old_path == "/café/"


def test_existing_pages_never_look_up_redirects(
    client, make_article, django_assert_num_queries
):
    article = make_article()
    client.get(article.get_absolute_url())  # now in the page cache

    with django_assert_num_queries(0):
        assert client.get(article.get_absolute_url()).status_code == 200


def test_lookup_among_10000_redirects_costs_one_query(
    client, django_assert_max_num_queries
):
    Redirect.objects.bulk_create(
        Redirect(old_path=f"/old-{number}/", target_path="/articles/")
        for number in range(10_000)
    )
    client.get("/warm-up/")
    with CaptureQueriesContext(connection) as not_found:
        assert client.get("/no-such-page/").status_code == 404

    # What any 404 costs, the lookup and the visit count.
    with django_assert_max_num_queries(len(not_found) + 2) as queries:
        response = client.get("/old-9876/")

    assert response["Location"] == "/articles/"
    assert len(redirect_queries(queries)) == 2


def delete_url(article):
    return f"/admin/pages/article/{article.pk}/delete/"


def test_deleting_a_published_article_asks_where_its_address_goes(
    admin_client, make_article
):
    article = make_article("Old news")

    response = admin_client.get(delete_url(article))

    assert "Where should its address send visitors?" in response.text
    assert "410 Gone" in response.text


def test_deleted_article_redirects_to_the_chosen_article(
    admin_client, client, make_article
):
    article = make_article("Old news", slug="old-news")
    rename(article, "older-news")
    replacement = make_article("New news")

    response = admin_client.post(
        delete_url(article),
        {"post": "yes", "destination": "article", "article": replacement.pk},
    )

    assert response.status_code == 302
    assert not Article.objects.filter(pk=article.pk).exists()
    for old in ("/articles/older-news/", "/articles/old-news/"):
        assert client.get(old)["Location"] == replacement.get_absolute_url()


def test_deleted_article_can_answer_410_gone(admin_client, client, make_article):
    article = make_article("Old offer")

    admin_client.post(delete_url(article), {"post": "yes", "destination": "gone"})

    assert client.get("/articles/old-offer/").status_code == 410


def test_deleting_without_a_choice_keeps_the_article_and_says_why(
    admin_client, make_article
):
    article = make_article("Old news")

    response = admin_client.post(
        delete_url(article), {"post": "yes", "destination": "article"}
    )

    assert response.status_code == 200
    assert "Choose the article visitors should go to." in response.text
    assert 'value="article" required id="id_destination_0" checked' in response.text
    assert Article.objects.filter(pk=article.pk).exists()


def test_deleting_a_draft_asks_nothing(admin_client, make_article):
    draft = make_article("Draft", status=Article.Status.DRAFT)

    assert "Where should" not in admin_client.get(delete_url(draft)).text
    admin_client.post(delete_url(draft), {"post": "yes"})

    assert not Article.objects.exists()
    assert not Redirect.objects.exists()


def test_bulk_delete_sends_every_published_address_to_a_topic(
    admin_client, client, make_article, make_topic
):
    topic = make_topic("Pain")
    articles = [make_article("One"), make_article("Two")]
    selected = {
        "action": "delete_selected",
        "_selected_action": [a.pk for a in articles],
    }

    asked = admin_client.post("/admin/pages/article/", selected)
    refused = admin_client.post(
        "/admin/pages/article/", selected | {"post": "yes", "destination": "topic"}
    )
    admin_client.post(
        "/admin/pages/article/",
        selected | {"post": "yes", "destination": "topic", "topic": topic.pk},
    )

    assert "Where should its address send visitors?" in asked.text
    assert "Choose the topic visitors should go to." in refused.text
    assert not Article.objects.exists()
    for old in ("/articles/one/", "/articles/two/"):
        assert client.get(old)["Location"] == "/topics/pain/"


def test_deleted_article_can_send_visitors_to_the_article_list(
    admin_client, client, make_article
):
    article = make_article("Old news")

    admin_client.post(delete_url(article), {"post": "yes", "destination": "list"})

    assert client.get("/articles/old-news/")["Location"] == "/articles/"


def test_staff_see_redirects_with_their_visits(admin_client, make_article):
    article = make_article("A", slug="a")
    rename(article, "b")
    Redirect.objects.create(old_path="/gone/", answer=Redirect.Answer.GONE).record_hit()

    listing = admin_client.get("/admin/pages/redirect/")
    permanent = admin_client.get("/admin/pages/redirect/?answer__exact=301")
    found = admin_client.get("/admin/pages/redirect/?q=gone")

    assert "/articles/a/" in listing.text and "/articles/b/" in listing.text
    assert "(removed)" in listing.text
    assert "/gone/" not in permanent.text
    assert "/articles/a/" not in found.text and "/gone/" in found.text


def test_staff_form_refuses_an_unpublished_target(admin_client, make_article):
    draft = make_article("Coming soon", status=Article.Status.DRAFT)

    response = admin_client.post(
        "/admin/pages/redirect/add/",
        {"old_path": "/soon/", "answer": 301, "article": draft.pk, "target_path": ""},
    )

    assert response.status_code == 200
    assert "“Coming soon” is not published" in response.text
    assert 'value="/soon/"' in response.text
    assert not Redirect.objects.exists()


def test_redirects_need_the_pages_permissions(client, django_user_model):
    staff = django_user_model.objects.create_user(
        "desk", password="a long passphrase", is_staff=True
    )
    client.force_login(staff)

    assert client.get("/admin/pages/redirect/").status_code == 403


def test_a_cached_old_address_redirects_once_the_slug_changes(
    client, make_article, django_capture_on_commit_callbacks
):
    article = make_article("Sleep", slug="sleep")
    for _ in range(2):  # rendered, then served from the public page cache
        assert client.get("/articles/sleep/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        rename(article, "sleep-and-pain")

    assert client.get("/articles/sleep/")["Location"] == "/articles/sleep-and-pain/"
    assert client.get("/articles/sleep-and-pain/").status_code == 200


def test_renaming_in_the_admin_redirects_the_old_address_once_published(
    admin_client, client, make_article, django_capture_on_commit_callbacks
):
    article = make_article("Sleep", slug="sleep")
    form = {
        "title": article.title,
        "slug": "sleep-and-pain",
        "summary": article.summary,
        "body": article.body,
        "hero_image_alt": "",
    }
    change_url = f"/admin/pages/article/{article.pk}/change/"

    admin_client.post(change_url, form | {"_workflow": "approve"})
    # The new address waits in the working copy with the other changes.
    assert client.get("/articles/sleep/").status_code == 200
    assert client.get("/articles/sleep-and-pain/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(change_url, form | {"_workflow": "publish"})

    assert client.get("/articles/sleep/")["Location"] == "/articles/sleep-and-pain/"
    assert client.get("/articles/sleep-and-pain/").status_code == 200


@pytest.mark.postgresql
def test_lookup_among_10000_redirects_uses_the_index():
    Redirect.objects.bulk_create(
        Redirect(old_path=f"/old-{number}/", target_path="/articles/")
        for number in range(10_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pages_redirect")

    lookup = Redirect.objects.filter(
        old_path__in=["/old-9876", "/old-9876/"]
    ).select_related("article", "page", "topic")

    assert "Index" in lookup.explain()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"answer": 410, "target_path": "/articles/"},
            "A removed page sends visitors nowhere",
        ),
        ({"answer": 301, "target_path": ""}, "Choose one place to send visitors"),
    ],
)
def test_staff_form_explains_a_missing_or_needless_target(
    admin_client, fields, message
):
    response = admin_client.post(
        "/admin/pages/redirect/add/", {"old_path": "/old/"} | fields
    )

    assert response.status_code == 200
    assert response.text.count(message) == 1
    assert "is violated" not in response.text
    assert not Redirect.objects.exists()

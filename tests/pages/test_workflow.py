"""Roles, the review workflow and its approval stamps, through the admin."""

import importlib
from datetime import date, timedelta

import pytest
import reversion
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from reversion.models import Version

from pages.models import Article, add_months, fingerprint
from tests.pages.conftest import logged_in
from tests.pages.test_admin import article_form


def change_url(article):
    return f"/admin/pages/article/{article.pk}/change/"


def form_for(article, **overrides):
    """The change form as it stands, with the given edits."""
    current = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "body": article.body,
    }
    return article_form(**(current | overrides))


def press(client, article, step, **overrides):
    """Press one of the change page's review and publishing buttons."""
    return client.post(
        change_url(article), form_for(article, _workflow=step, **overrides)
    )


def bulk(client, action, *articles):
    return client.post(
        "/admin/pages/article/",
        {"action": action, "_selected_action": [article.pk for article in articles]},
    )


@pytest.fixture
def draft(make_article, writer):
    article = make_article("Sleep and pain", status=Article.Status.DRAFT)
    with reversion.create_revision():
        article.save()
    return article


@pytest.fixture
def approved_draft(draft, reviewer):
    draft.approve(by=reviewer)
    return draft


@pytest.fixture
def live(make_article, reviewer, publisher):
    article = make_article("Ketamine and fibromyalgia", status=Article.Status.DRAFT)
    article.approve(by=reviewer)
    article.publish(by=publisher)
    with reversion.create_revision():
        article.save()
    return article


def test_the_migration_makes_the_three_groups_and_takes_them_away(db):
    migration = importlib.import_module("pages.migrations.0006_article_review_workflow")
    state = MigrationExecutor(connection).loader.project_state(
        ("pages", "0006_article_review_workflow")
    )

    migration.remove_groups(state.apps, None)
    assert not Group.objects.filter(name__in=migration.GROUPS).exists()

    migration.make_groups(state.apps, None)
    permissions = {
        group.name: set(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.filter(name__in=migration.GROUPS)
    }
    assert "publish_article" in permissions["Publishers"]
    assert "approve_article" in permissions["Clinical reviewers"]
    assert {"add_article", "change_article"} <= permissions["Writers"]
    assert (
        not {"publish_article", "approve_article", "delete_article"}
        & (permissions["Writers"])
    )
    assert "publish_article" not in permissions["Clinical reviewers"]
    assert "approve_article" not in permissions["Publishers"]


def test_writer_cannot_publish_by_the_change_form(writer, approved_draft, client):
    response = press(logged_in(writer), approved_draft, "publish")

    assert response.status_code == 200
    assert "This step is not open to you" in response.text
    approved_draft.refresh_from_db()
    assert approved_draft.status == Article.Status.DRAFT
    assert client.get(approved_draft.get_absolute_url()).status_code == 404


def test_writer_cannot_publish_by_posting_the_status_field(writer, approved_draft):
    now = timezone.localtime()
    logged_in(writer).post(
        change_url(approved_draft),
        form_for(
            approved_draft,
            status="published",
            published_at_0=now.strftime("%Y-%m-%d"),
            published_at_1="00:00:00",
        ),
    )

    approved_draft.refresh_from_db()
    assert approved_draft.status == Article.Status.DRAFT
    assert approved_draft.published_at is None


@pytest.mark.parametrize("action", ["publish_selected", "approve_selected"])
def test_writer_cannot_publish_or_approve_by_a_bulk_action(writer, draft, action):
    writer_client = logged_in(writer)
    page = writer_client.get("/admin/pages/article/").text
    assert action not in page

    bulk(writer_client, action, draft)

    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
    assert draft.review_state == Article.Review.EDITING


def test_writer_cannot_bulk_edit_the_status_in_the_list(writer, approved_draft):
    logged_in(writer).post(
        "/admin/pages/article/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": approved_draft.pk,
            "form-0-status": "published",
            "_save": "Save",
        },
    )

    approved_draft.refresh_from_db()
    assert approved_draft.status == Article.Status.DRAFT


def test_writer_cannot_delete_or_recover_an_article(writer, live):
    writer_client = logged_in(writer)
    assert writer_client.get(f"{change_url(live)[:-7]}delete/").status_code == 403
    version = Version.objects.get_for_object(live).first()
    live.delete()

    response = writer_client.post(f"/admin/pages/article/recover/{version.pk}/")

    assert response.status_code == 403
    assert not Article.objects.exists()


def test_history_revert_puts_old_text_in_the_working_copy_unapproved(
    writer, live, client
):
    first_version = Version.objects.get_for_object(live).first()
    writer_client = logged_in(writer)
    writer_client.post(change_url(live), form_for(live, summary="Newer summary."))
    live.refresh_from_db()
    assert live.working_copy["summary"] == "Newer summary."

    revert_url = f"/admin/pages/article/{live.pk}/history/{first_version.pk}/"
    form = writer_client.get(revert_url).context["adminform"].form
    assert form.initial["summary"] == "A summary of Ketamine and fibromyalgia."
    versions_before = Version.objects.get_for_object(live).count()
    writer_client.post(revert_url, form_for(live, summary="Reverted summary."))

    assert Version.objects.get_for_object(live).count() == versions_before + 1
    live.refresh_from_db()
    assert live.summary == "A summary of Ketamine and fibromyalgia."
    assert live.working_copy["summary"] == "Reverted summary."
    assert live.state == Article.State.PENDING_CHANGES
    assert not live.is_approved


def test_history_revert_to_a_published_version_does_not_publish(
    writer, live, publisher
):
    published_version = Version.objects.get_for_object(live).first()
    live.unpublish(by=publisher)

    logged_in(writer).post(
        f"/admin/pages/article/{live.pk}/history/{published_version.pk}/",
        form_for(live),
    )

    live.refresh_from_db()
    assert live.status == Article.Status.DRAFT


def test_writer_may_not_take_the_publishers_steps_in_the_model(writer, live):
    for step in (
        lambda: live.publish(by=writer),
        lambda: live.unpublish(by=writer),
        lambda: live.approve(by=writer),
    ):
        with pytest.raises(ValidationError) as refusal:
            step()
        assert refusal.value.code == "permission_denied"


def test_each_role_sees_only_its_buttons(writer, reviewer, publisher, draft):
    def buttons(user):
        html = logged_in(user).get(change_url(draft)).text
        return [
            label
            for label in ("Submit for review", "Approve", "Send back", "Publish")
            if f">{label}</button>" in html
        ]

    assert buttons(writer) == ["Submit for review"]
    draft.submit_for_review(by=writer)
    assert buttons(writer) == []
    assert buttons(reviewer) == ["Approve", "Send back"]
    assert buttons(publisher) == []
    draft.approve(by=reviewer)
    assert buttons(publisher) == ["Submit for review", "Publish"]


def test_reviewer_cannot_publish_and_publisher_cannot_approve(
    reviewer, publisher, draft, writer
):
    draft.submit_for_review(by=writer)
    assert "not open to you" in press(logged_in(reviewer), draft, "publish").text
    assert "not open to you" in press(logged_in(publisher), draft, "approve").text
    draft.refresh_from_db()
    assert draft.review_state == Article.Review.IN_REVIEW
    assert draft.status == Article.Status.DRAFT


def test_publisher_cannot_publish_unapproved_text(publisher, draft):
    with pytest.raises(ValidationError) as refusal:
        draft.publish(by=publisher)
    assert refusal.value.code == "not_approved"

    bulk(logged_in(publisher), "publish_selected", draft)
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


CLAIM = "<h2>Why sleep matters</h2><p>Ketamine cures fibromyalgia.</p>"


def test_publisher_cannot_publish_what_the_publish_checks_block(
    reviewer, publisher, draft
):
    draft.body = CLAIM
    draft.save()
    draft.approve(by=reviewer)

    with pytest.raises(ValidationError) as refusal:
        draft.publish(by=publisher)

    assert {error.code for error in refusal.value.error_list} == {"publish_checks"}
    assert refusal.value.messages[0].startswith("This article cannot be published")
    assert any("(“Ketamine cures fibromyalgia.”)" in m for m in refusal.value.messages)
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


def test_refused_pending_changes_leave_the_public_version(
    reviewer, publisher, live, client
):
    live.keep_working_copy(live.live_text() | {"body": CLAIM}, [])
    live.approve(by=reviewer)

    with pytest.raises(ValidationError):
        live.publish(by=publisher)

    live.refresh_from_db()
    assert "cures" in live.working_copy["body"]
    assert "cures" not in client.get(live.get_absolute_url()).text


def test_a_new_address_redirects_from_the_old_one_once_published(
    publisher, live, client, django_capture_on_commit_callbacks
):
    old_address = live.get_absolute_url()
    live.keep_working_copy(live.live_text() | {"slug": "ketamine-for-pain"}, [])

    assert client.get(old_address).status_code == 200
    assert client.get("/articles/ketamine-for-pain/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        live.publish(by=publisher)

    response = client.get(old_address)
    assert response.status_code == 301
    assert response["Location"] == "/articles/ketamine-for-pain/"
    assert client.get("/articles/ketamine-for-pain/").status_code == 200


def test_send_back_needs_a_comment_and_keeps_what_was_typed(reviewer, writer, draft):
    draft.submit_for_review(by=writer)
    reviewer_client = logged_in(reviewer)

    response = press(
        reviewer_client, draft, "send_back", summary="Typed by the reviewer."
    )
    assert "Please say what needs to change" in response.text
    assert "Typed by the reviewer." in response.text
    draft.refresh_from_db()
    assert draft.review_state == Article.Review.IN_REVIEW

    press(
        reviewer_client,
        draft,
        "send_back",
        workflow_comment="Cite the 2019 trial for the dose.",
    )
    draft.refresh_from_db()
    assert draft.review_state == Article.Review.CHANGES_REQUESTED
    assert draft.review_comment == "Cite the 2019 trial for the dose."
    assert "Cite the 2019 trial" in logged_in(writer).get(change_url(draft)).text


def test_approval_stamps_the_reviewers_byline_and_the_dates(reviewer, writer, draft):
    draft.submit_for_review(by=writer)

    press(logged_in(reviewer), draft, "approve")

    draft.refresh_from_db()
    today = timezone.localdate()
    assert draft.reviewed_by == "Dr. Rita Ames, MD"
    assert draft.last_reviewed == today
    assert draft.next_review_due == add_months(today, 12)
    assert 365 <= (draft.next_review_due - today).days <= 366
    assert draft.approved_by == reviewer
    assert draft.is_approved


def test_review_interval_is_the_setting(reviewer, draft, settings):
    settings.PAGES_REVIEW_INTERVAL_MONTHS = 6

    draft.approve(by=reviewer)

    assert draft.next_review_due == add_months(timezone.localdate(), 6)
    assert 181 <= (draft.next_review_due - timezone.localdate()).days <= 184


def test_months_are_added_to_the_last_day_of_a_shorter_month():
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2027, 1, 31), 12) == date(2028, 1, 31)


def test_review_fields_cannot_be_typed_by_hand(writer, draft):
    logged_in(writer).post(
        change_url(draft),
        form_for(draft, reviewed_by="Dr. Nobody", last_reviewed="2027-01-01"),
    )

    draft.refresh_from_db()
    assert draft.reviewed_by == ""
    assert draft.last_reviewed is None


def test_a_change_to_the_text_after_approval_needs_approval_again(
    writer, approved_draft, publisher
):
    logged_in(writer).post(
        change_url(approved_draft), form_for(approved_draft, body="<p>New claim.</p>")
    )

    approved_draft.refresh_from_db()
    assert approved_draft.state == Article.State.DRAFT
    with pytest.raises(ValidationError):
        approved_draft.publish(by=publisher)


def test_a_change_to_the_topics_keeps_the_approval(writer, approved_draft, make_topic):
    topic = make_topic("Sleep")
    logged_in(writer).post(
        change_url(approved_draft), form_for(approved_draft, topics=[topic.pk])
    )

    approved_draft.refresh_from_db()
    assert approved_draft.is_approved


def test_states_show_in_the_list_and_filter_it(
    writer, reviewer, publisher, make_article, live
):
    in_review = make_article("Waiting", status=Article.Status.DRAFT)
    in_review.submit_for_review(by=writer)
    scheduled = make_article("Later", status=Article.Status.DRAFT)
    scheduled.approve(by=reviewer)
    scheduled.schedule(by=publisher, at=timezone.now() + timedelta(days=3))
    logged_in(writer).post(change_url(live), form_for(live, summary="Pending."))
    admin_list = logged_in(publisher)

    html = admin_list.get("/admin/pages/article/").text
    assert "Published with pending changes (being written)" in html
    assert "Scheduled for" in html
    assert "In review" in html

    def listed(state):
        html = admin_list.get("/admin/pages/article/", {"state": state}).text
        return [
            article.title
            for article in (in_review, scheduled, live)
            if f">{article.title}</a>" in html
        ]

    assert listed("in_review") == ["Waiting"]
    assert listed("scheduled") == ["Later"]
    assert listed("pending_changes") == [live.title]
    assert listed("published") == []


def test_reviewers_see_what_waits_for_their_review_first(
    reviewer, writer, make_article
):
    make_article("Old news", status=Article.Status.DRAFT)
    waiting = make_article("Please check me", status=Article.Status.DRAFT)
    waiting.submit_for_review(by=writer)
    make_article("Newest draft", status=Article.Status.DRAFT)
    reviewer_client = logged_in(reviewer)

    html = reviewer_client.get("/admin/pages/article/").text
    assert html.index("Please check me") < html.index("Newest draft")
    assert html.index("Please check me") < html.index("Old news")

    mine = reviewer_client.get("/admin/pages/article/", {"for_me": "waiting"}).text
    assert "Please check me" in mine
    assert "Newest draft" not in mine


def test_staff_edit_their_own_profile_and_no_one_elses(writer, reviewer):
    writer_client = logged_in(writer)
    own = writer_client.get("/admin/pages/staffprofile/")
    assert own.status_code == 302
    assert own.url == f"/admin/pages/staffprofile/{writer.staff_profile.pk}/change/"

    writer_client.post(
        own.url, {"display_name": "Dr. Wendy Writer", "credentials": "PhD"}
    )
    writer.staff_profile.refresh_from_db()
    assert writer.staff_profile.byline == "Dr. Wendy Writer, PhD"

    others = f"/admin/pages/staffprofile/{reviewer.staff_profile.pk}/change/"
    assert writer_client.get(others).status_code in (302, 403, 404)
    writer_client.post(others, {"display_name": "Hacked", "credentials": ""})
    reviewer.staff_profile.refresh_from_db()
    assert reviewer.staff_profile.display_name == "Dr. Rita Ames"


def test_staff_without_a_profile_make_their_own(make_staff):
    newcomer = make_staff("nina", "Clinical reviewers")
    newcomer_client = logged_in(newcomer)
    assert newcomer_client.get("/admin/pages/staffprofile/").url == (
        "/admin/pages/staffprofile/add/"
    )

    newcomer_client.post(
        "/admin/pages/staffprofile/add/",
        {"display_name": "Nina Novak", "credentials": "RN"},
    )

    assert newcomer.staff_profile.byline == "Nina Novak, RN"


def test_the_reviewer_is_named_from_the_user_without_a_profile(
    make_staff, draft, django_user_model
):
    nameless = make_staff("sam", "Clinical reviewers")
    nameless.first_name, nameless.last_name = "Sam", "Lee"
    nameless.save()

    draft.approve(by=nameless)

    assert draft.reviewed_by == "Sam Lee"


def test_staff_who_may_only_view_articles_see_the_state_and_no_buttons(
    make_staff, live
):
    front_desk = make_staff("fran")
    front_desk.user_permissions.set(Permission.objects.filter(codename="view_article"))

    response = logged_in(front_desk).get(change_url(live))

    assert response.status_code == 200
    assert "Published" in response.text
    assert "</button>" not in response.text.split('id="content-main"', 1)[1]
    assert press(logged_in(front_desk), live, "unpublish").status_code == 403


def test_publisher_bulk_publishes_the_approved_and_is_told_why_not_the_rest(
    publisher, approved_draft, make_article, client
):
    unapproved = make_article("Not yet", status=Article.Status.DRAFT)

    response = bulk(
        logged_in(publisher), "publish_selected", approved_draft, unapproved
    )

    messages = [str(message) for message in response.wsgi_request._messages]
    assert "1 article(s) published." in messages
    assert "“Not yet”: A clinical reviewer must approve this text" in messages[1]
    assert client.get(approved_draft.get_absolute_url()).status_code == 200
    assert client.get(unapproved.get_absolute_url()).status_code == 404


def test_reviewer_bulk_approves_and_publisher_bulk_unpublishes(
    reviewer, publisher, writer, draft, live, client
):
    draft.submit_for_review(by=writer)

    bulk(logged_in(reviewer), "approve_selected", draft)
    bulk(logged_in(publisher), "unpublish_selected", live)

    draft.refresh_from_db()
    assert draft.is_approved
    assert draft.reviewed_by == "Dr. Rita Ames, MD"
    assert client.get(live.get_absolute_url()).status_code == 404


def test_a_migrated_published_article_counts_as_approved(db):
    migration = importlib.import_module("pages.migrations.0006_article_review_workflow")
    text = {
        "title": "T",
        "summary": "S",
        "body": "<p>B</p>",
        "hero_image": "",
        "hero_image_alt": "",
    }

    assert migration.fingerprint(text) == fingerprint(text | {"slug": "t"})


def test_publisher_schedules_from_the_change_form_and_a_past_date_is_refused(
    publisher, approved_draft, client
):
    publisher_client = logged_in(publisher)
    past = timezone.localtime() - timedelta(days=1)
    response = press(
        publisher_client,
        approved_draft,
        "schedule",
        publish_at_0=past.strftime("%Y-%m-%d"),
        publish_at_1="09:00:00",
    )
    assert "Please choose a publication date and time in the future." in response.text
    assert past.strftime("%Y-%m-%d") in response.text

    future = timezone.localtime() + timedelta(days=2)
    press(
        publisher_client,
        approved_draft,
        "schedule",
        publish_at_0=future.strftime("%Y-%m-%d"),
        publish_at_1="09:00:00",
    )

    approved_draft.refresh_from_db()
    assert approved_draft.state == Article.State.SCHEDULED
    assert timezone.localtime(approved_draft.published_at).date() == future.date()
    assert client.get(approved_draft.get_absolute_url()).status_code == 404


def test_staff_with_a_profile_are_sent_to_it_instead_of_making_another(writer):
    writer_client = logged_in(writer)

    response = writer_client.get("/admin/pages/staffprofile/add/")

    assert response.status_code == 302
    assert response.url == (
        f"/admin/pages/staffprofile/{writer.staff_profile.pk}/change/"
    )

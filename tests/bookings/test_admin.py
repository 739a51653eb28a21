import csv
import io
import logging
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from reversion.models import Revision, Version

from bookings.models import (
    BlockedSender,
    ConsultationRequest,
    ContactAttempt,
    Treatment,
)

LIST_URL = "/admin/bookings/consultationrequest/"


@pytest.fixture
def consultations_made(client, form_data):
    def make(count=1, **overrides):
        for _ in range(count):
            client.post("/consultation/", form_data(**overrides))
        return list(ConsultationRequest.objects.order_by("pk"))

    return make


@pytest.fixture
def front_desk_client(client, db):
    user = User.objects.create_user("desk", password="a long test password 1")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name="Front desk"))
    client.force_login(user)
    return client


def change_url(consultation):
    return f"{LIST_URL}{consultation.pk}/change/"


def test_list_shows_the_columns_staff_work_from(admin_client, consultations_made):
    [consultation] = consultations_made()

    html = admin_client.get(LIST_URL).text

    for text in (
        consultation.reference,
        "Maria Lopez",
        "Fibromyalgia",
        "Phone call",
        "New",
        "Queued",
    ):
        assert text in html


def test_urgent_requests_come_first(admin_client, consultations_made):
    consultations_made()
    consultations_made(message="I want to end my life")
    consultations_made()

    listed = admin_client.get(LIST_URL).context["cl"].result_list
    assert listed[0].is_urgent
    assert [c.is_urgent for c in listed[1:]] == [False, False]
    assert listed[1].created_at >= listed[2].created_at


@pytest.mark.parametrize(
    "query", ["Maria", "maria@example.org", "+17705550188", "reference"]
)
def test_search_by_name_email_phone_and_reference(
    admin_client, consultations_made, query
):
    [consultation] = consultations_made()
    if query == "reference":
        query = consultation.reference

    listed = admin_client.get(LIST_URL, {"q": query}).context["cl"].result_list

    assert list(listed) == [consultation]


def test_filters_by_status_treatment_and_delivery(
    admin_client, consultations_made, fibromyalgia
):
    consultations_made(2)
    depression = Treatment.objects.get(slug="depression")

    assert (
        admin_client.get(LIST_URL, {"status__exact": "new"}).context["cl"].result_count
        == 2
    )
    assert (
        admin_client.get(LIST_URL, {"status__exact": "closed"})
        .context["cl"]
        .result_count
        == 0
    )
    assert (
        admin_client.get(LIST_URL, {"notified": "no"}).context["cl"].result_count == 2
    )
    by_treatment = {
        treatment.slug: admin_client.get(
            LIST_URL, {"treatment__id__exact": treatment.pk}
        )
        .context["cl"]
        .result_count
        for treatment in (fibromyalgia, depression)
    }
    assert by_treatment == {"fibromyalgia": 2, "depression": 0}


def test_undelivered_request_is_shown_as_not_delivered(
    admin_client, consultations_made
):
    [consultation] = consultations_made()
    ConsultationRequest.objects.filter(pk=consultation.pk).update(
        notification_attempts=2, notification_last_error="ConnectionRefusedError: x"
    )

    html = admin_client.get(LIST_URL).text

    assert "Not delivered: 2 failed tries" in html


def test_request_waiting_over_a_business_day_stands_out(
    admin_client, consultations_made
):
    [consultation] = consultations_made()
    ConsultationRequest.objects.filter(pk=consultation.pk).update(
        created_at=timezone.now() - timedelta(days=4)
    )

    html = admin_client.get(LIST_URL).text

    assert "business day" in html
    assert 'class="request-overdue"' in html


def test_staff_log_contact_attempts_and_move_through_the_workflow(
    admin_client, admin_user, consultations_made
):
    [consultation] = consultations_made()
    now = timezone.localtime()
    data = {
        "status": "closed",
        "outcome": "patient",
        "assigned_to": admin_user.pk,
        "internal_notes": "Booked for Tuesday.",
        "contact_attempts-TOTAL_FORMS": "1",
        "contact_attempts-INITIAL_FORMS": "0",
        "contact_attempts-0-attempted_at_0": now.strftime("%Y-%m-%d"),
        "contact_attempts-0-attempted_at_1": now.strftime("%H:%M:%S"),
        "contact_attempts-0-method": "phone",
        "contact_attempts-0-result": "reached",
        "contact_attempts-0-notes": "Happy to come in.",
    }

    response = admin_client.post(change_url(consultation), data)

    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == "closed"
    assert consultation.outcome == "patient"
    attempt = ContactAttempt.objects.get()
    assert attempt.staff == admin_user
    versions = Version.objects.get_for_object(consultation)
    assert versions[0].revision.user == admin_user
    assert "1" in admin_client.get(LIST_URL).text


def test_closing_without_an_outcome_is_refused(admin_client, consultations_made):
    [consultation] = consultations_made()

    response = admin_client.post(
        change_url(consultation),
        {
            "status": "closed",
            "outcome": "",
            "contact_attempts-TOTAL_FORMS": "0",
            "contact_attempts-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert (
        "consultation_closed_has_outcome" in response.text or "outcome" in response.text
    )
    consultation.refresh_from_db()
    assert consultation.status == "new"


def test_patient_data_is_read_only_in_the_admin(admin_client, consultations_made):
    [consultation] = consultations_made()

    form = admin_client.get(change_url(consultation)).context["adminform"].form

    for field in ("full_name", "email", "phone", "message", "treatment"):
        assert field not in form.fields


def test_resend_queues_the_mail_again(admin_client, consultations_made):
    [consultation] = consultations_made()
    DBTaskResult.objects.all().delete()

    admin_client.post(
        LIST_URL,
        {"action": "resend_notifications", "_selected_action": [consultation.pk]},
    )

    assert DBTaskResult.objects.count() == 1


def test_mark_spam_and_block_sender(
    admin_client, admin_user, consultations_made, client, form_data
):
    [consultation] = consultations_made()

    admin_client.post(
        LIST_URL,
        {"action": "mark_spam_and_block_sender", "_selected_action": [consultation.pk]},
    )

    consultation.refresh_from_db()
    assert consultation.status == "spam"
    assert Version.objects.get_for_object(consultation)[0].revision.user == admin_user
    assert BlockedSender.objects.filter(value="maria@example.org").exists()
    client.post("/consultation/", form_data())
    assert ConsultationRequest.objects.latest("pk").status == "spam"


def test_block_whole_domain(admin_client, consultations_made, client, form_data):
    [consultation] = consultations_made()

    admin_client.post(
        LIST_URL, {"action": "block_domain", "_selected_action": [consultation.pk]}
    )

    assert BlockedSender.objects.filter(value="example.org").exists()
    client.post("/consultation/", form_data(email="other@example.org"))
    assert ConsultationRequest.objects.latest("pk").status == "spam"


def test_front_desk_can_view_and_change_but_not_delete(
    front_desk_client, consultations_made
):
    [consultation] = consultations_made()

    assert front_desk_client.get(LIST_URL).status_code == 200
    assert front_desk_client.get(change_url(consultation)).status_code == 200
    delete_url = f"{LIST_URL}{consultation.pk}/delete/"
    assert front_desk_client.get(delete_url).status_code == 403
    front_desk_client.post(delete_url, {"post": "yes"})
    assert ConsultationRequest.objects.exists()
    actions = front_desk_client.get(LIST_URL).context["cl"].model_admin.get_actions
    assert "delete_selected" not in actions(
        front_desk_client.get(LIST_URL).wsgi_request
    )


def test_superuser_deletion_is_logged(admin_client, consultations_made, caplog):
    [consultation] = consultations_made()

    with caplog.at_level(logging.INFO, logger="bookings.admin"):
        admin_client.post(f"{LIST_URL}{consultation.pk}/delete/", {"post": "yes"})

    assert not ConsultationRequest.objects.exists()
    assert f"Consultation request {consultation.reference} deleted" in caplog.text
    assert "Maria" not in caplog.text


def log_a_call(admin_client, consultation):
    """Record a contact attempt through the admin, which keeps a revision of both."""
    now = timezone.localtime()
    admin_client.post(
        change_url(consultation),
        {
            "status": "contacted",
            "internal_notes": "Prefers mornings.",
            "contact_attempts-TOTAL_FORMS": "1",
            "contact_attempts-INITIAL_FORMS": "0",
            "contact_attempts-0-attempted_at_0": now.strftime("%Y-%m-%d"),
            "contact_attempts-0-attempted_at_1": now.strftime("%H:%M:%S"),
            "contact_attempts-0-method": "phone",
            "contact_attempts-0-result": "reached",
            "contact_attempts-0-notes": "Happy to come in.",
        },
    )


@pytest.mark.parametrize("how", ["delete page", "delete selected action"])
def test_superuser_deletion_leaves_no_history_of_the_request(
    admin_client, consultations_made, how
):
    deleted, kept = consultations_made(2)
    for consultation in (deleted, kept):
        log_a_call(admin_client, consultation)
    deleted_revisions = set(
        Version.objects.get_for_object(deleted).values_list("revision", flat=True)
    )
    assert Version.objects.filter(revision__in=deleted_revisions).count() == 2
    kept_versions = set(
        Version.objects.exclude(revision__in=deleted_revisions).values_list(
            "pk", flat=True
        )
    )
    assert kept_versions

    if how == "delete page":
        admin_client.post(f"{LIST_URL}{deleted.pk}/delete/", {"post": "yes"})
    else:
        admin_client.post(
            LIST_URL,
            {
                "action": "delete_selected",
                "_selected_action": [deleted.pk],
                "post": "yes",
            },
        )

    assert list(ConsultationRequest.objects.all()) == [kept]
    assert set(Version.objects.values_list("pk", flat=True)) == kept_versions
    assert not Revision.objects.filter(pk__in=deleted_revisions).exists()
    # What reversion's recover list would offer.
    assert not Version.objects.get_deleted(ConsultationRequest).exists()
    assert not Version.objects.get_deleted(ContactAttempt).exists()


def test_csv_export_needs_its_permission(front_desk_client, consultations_made):
    [consultation] = consultations_made()
    data = {"action": "export_csv", "_selected_action": [consultation.pk]}

    refused = front_desk_client.post(LIST_URL, data)
    assert refused.get("Content-Type", "").startswith("text/html")

    user = User.objects.get(username="desk")
    user.user_permissions.add(
        Permission.objects.get(codename="export_consultationrequest")
    )
    response = front_desk_client.post(LIST_URL, data)

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Reference", "Received", "Name"]
    assert rows[1][0] == consultation.reference
    assert rows[1][2] == "Maria Lopez"


def test_csv_export_neutralises_formulas(admin_client, consultations_made):
    [consultation] = consultations_made(full_name='=HYPERLINK("http://evil")')

    response = admin_client.post(
        LIST_URL, {"action": "export_csv", "_selected_action": [consultation.pk]}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][2].startswith("'=")


def test_anonymous_visitors_cannot_reach_requests(client, consultations_made):
    consultations_made()

    response = client.get(LIST_URL)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def staff_client(client, *codenames):
    """A client logged in as staff with exactly these bookings permissions."""
    user = User.objects.create_user("staff", password="a long test password 1")
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="bookings", codename__in=codenames
        )
    )
    client.force_login(user)
    return client


def offered_actions(staff):
    form = staff.get(LIST_URL).context["action_form"]
    return [name for name, _ in form.fields["action"].choices] if form else []


REQUEST_ACTIONS = ("resend_notifications", "mark_spam_and_block_sender", "block_domain")


@pytest.mark.parametrize("blocked_sender_rights", [["view"], ["view", "add"]])
def test_view_only_staff_can_neither_see_nor_run_the_request_actions(
    client, consultations_made, blocked_sender_rights
):
    [consultation] = consultations_made()
    DBTaskResult.objects.all().delete()
    viewer = staff_client(
        client,
        "view_consultationrequest",
        *(f"{right}_blockedsender" for right in blocked_sender_rights),
    )

    offered = offered_actions(viewer)
    for action in REQUEST_ACTIONS:
        assert action not in offered
        viewer.post(LIST_URL, {"action": action, "_selected_action": [consultation.pk]})

    consultation.refresh_from_db()
    assert consultation.status == "new"
    assert not BlockedSender.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_blocking_needs_the_right_to_add_blocked_senders(client, consultations_made):
    [consultation] = consultations_made()
    editor = staff_client(
        client, "view_consultationrequest", "change_consultationrequest"
    )

    offered = offered_actions(editor)
    assert "resend_notifications" in offered
    for action in ("mark_spam_and_block_sender", "block_domain"):
        assert action not in offered
        editor.post(LIST_URL, {"action": action, "_selected_action": [consultation.pk]})

    consultation.refresh_from_db()
    assert consultation.status == "new"
    assert not BlockedSender.objects.exists()


def test_front_desk_can_still_block_a_sender(front_desk_client, consultations_made):
    [consultation] = consultations_made()

    front_desk_client.post(
        LIST_URL,
        {"action": "mark_spam_and_block_sender", "_selected_action": [consultation.pk]},
    )

    consultation.refresh_from_db()
    assert consultation.status == "spam"
    assert BlockedSender.objects.filter(value="maria@example.org").exists()


def test_free_mail_domains_are_never_blocked_as_a_domain(
    admin_client, consultations_made
):
    consultations_made(email="maria@Gmail.com")
    consultations_made(email="spam@example.org")
    gmail, example = ConsultationRequest.objects.order_by("pk")

    response = admin_client.post(
        LIST_URL,
        {"action": "block_domain", "_selected_action": [gmail.pk, example.pk]},
        follow=True,
    )

    assert list(BlockedSender.objects.values_list("value", flat=True)) == [
        "example.org"
    ]
    gmail.refresh_from_db()
    example.refresh_from_db()
    assert gmail.status == "new"
    assert example.status == "spam"
    assert "Not blocked, and left as they were: requests from gmail.com" in (
        response.text
    )


def test_blocked_sender_form_refuses_a_free_mail_domain(admin_client, db):
    response = admin_client.post(
        "/admin/bookings/blockedsender/add/", {"value": " Outlook.com "}
    )

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors.as_data()["value"]
    assert error.code == "free_mail_domain"
    assert "outlook.com is a free e-mail service" in response.text
    assert not BlockedSender.objects.exists()

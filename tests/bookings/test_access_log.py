import csv
import io
from datetime import timedelta

import pytest
import reversion
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.utils import timezone
from reversion.models import Version

from bookings.models import AccessLogEntry, ConsultationRequest

LIST_URL = "/admin/bookings/consultationrequest/"
LOG_URL = "/admin/bookings/accesslogentry/"


@pytest.fixture
def consultations_made(client, form_data):
    def make(count=1, **overrides):
        for _ in range(count):
            client.post("/consultation/", form_data(**overrides))
        return list(ConsultationRequest.objects.order_by("pk"))

    return make


def change_url(consultation):
    return f"{LIST_URL}{consultation.pk}/change/"


def lines():
    return list(AccessLogEntry.objects.order_by("pk"))


def assert_line(line, user, action, reference="", address="127.0.0.1"):
    assert line.user == user
    assert line.username == user.username
    assert line.action == action
    assert line.reference == reference
    assert line.address == address
    assert timezone.now() - line.at < timedelta(minutes=1)


def test_opening_a_request_is_logged(admin_client, admin_user, consultations_made):
    [consultation] = consultations_made()

    assert admin_client.get(change_url(consultation)).status_code == 200

    [line] = lines()
    assert_line(line, admin_user, "view", consultation.reference)


def test_the_address_comes_from_the_proxy_header_when_configured(
    admin_client, admin_user, consultations_made, settings
):
    [consultation] = consultations_made()
    settings.CLIENT_IP_HEADER = "X-Real-IP"

    admin_client.get(change_url(consultation), HTTP_X_REAL_IP="203.0.113.9")

    [line] = lines()
    assert_line(line, admin_user, "view", consultation.reference, "203.0.113.9")


def test_opening_the_history_of_a_request_is_logged(
    admin_client, admin_user, consultations_made
):
    [consultation] = consultations_made()
    for notes in ("Called back.", "Called again."):
        with reversion.create_revision():
            consultation.internal_notes = notes
            consultation.save()
    first, second = Version.objects.get_for_object(consultation).order_by("pk")
    compare = f"history/compare/?version_id1={first.pk}&version_id2={second.pk}"

    for url in ("history/", f"history/{first.pk}/", compare):
        response = admin_client.get(f"{LIST_URL}{consultation.pk}/{url}")
        assert response.status_code == 200

    assert [line.action for line in lines()] == ["history"] * 3
    for line in lines():
        assert_line(line, admin_user, "history", consultation.reference)


def test_a_csv_export_logs_each_request_exported(
    admin_client, admin_user, consultations_made
):
    exported, also_exported, not_exported = consultations_made(3)

    response = admin_client.post(
        LIST_URL,
        {
            "action": "export_csv",
            "_selected_action": [exported.pk, also_exported.pk],
        },
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 3
    assert sorted(line.reference for line in lines()) == sorted(
        [exported.reference, also_exported.reference]
    )
    for line in lines():
        assert_line(line, admin_user, "export", line.reference)


def test_a_search_logs_how_many_it_found_but_not_the_words(
    admin_client, admin_user, consultations_made
):
    consultations_made(2)
    consultations_made(full_name="Jon Smith")

    response = admin_client.get(LIST_URL, {"q": "Maria Lopez"})
    assert response.context["cl"].result_count == 2
    admin_client.get(LIST_URL)  # no search, no line

    [line] = lines()
    assert_line(line, admin_user, "search")
    assert line.result_count == 2
    stored = str(AccessLogEntry.objects.values().get())
    assert "Maria" not in stored and "Lopez" not in stored


def test_sending_the_email_again_is_logged(
    admin_client, admin_user, consultations_made
):
    [consultation] = consultations_made()

    admin_client.post(
        LIST_URL,
        {"action": "resend_notifications", "_selected_action": [consultation.pk]},
    )

    [line] = lines()
    assert_line(line, admin_user, "resend", consultation.reference)


def test_a_refused_look_is_not_logged_as_a_view(client, consultations_made):
    [consultation] = consultations_made()
    user = User.objects.create_user("nobody", password="a long test password 1")
    user.is_staff = True
    user.save()
    client.force_login(user)

    assert client.get(change_url(consultation)).status_code == 403

    assert lines() == []


def staff_with_every_bookings_right(client):
    user = User.objects.create_user("desk", password="a long test password 1")
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="bookings")
    )
    client.force_login(user)
    return client


def log_admin_urls(line):
    """Every address the access log's admin answers, for this line."""
    model_admin = admin.site.get_model_admin(AccessLogEntry)
    urls = []
    for pattern in model_admin.get_urls():
        route = str(pattern.pattern)
        if route.startswith("<path:object_id>"):
            urls.append(LOG_URL + route.replace("<path:object_id>", str(line.pk)))
        elif "<" not in route:
            urls.append(LOG_URL + route)
    return urls


@pytest.fixture
def logged_line(admin_client, consultations_made):
    [consultation] = consultations_made()
    admin_client.get(change_url(consultation))
    return AccessLogEntry.objects.get()


def test_staff_with_every_bookings_right_cannot_reach_the_log(client, logged_line):
    staff = staff_with_every_bookings_right(client)
    urls = log_admin_urls(logged_line)
    assert len(urls) >= 5  # list, add, history, delete, change

    # The bare object address redirects to its change page: followed.
    for url in urls:
        assert staff.get(url, follow=True).status_code == 403, url
        posted = staff.post(url, {"post": "yes", "username": "x"}, follow=True)
        assert posted.status_code == 403, url
    assert "accesslogentry" not in staff.get("/admin/").content.decode()
    assert AccessLogEntry.objects.values().get()["username"] == "admin"
    assert AccessLogEntry.objects.count() == 1


def test_superusers_read_the_log_but_cannot_change_or_delete_it(
    admin_client, logged_line
):
    before = AccessLogEntry.objects.values().get()
    assert logged_line.reference in admin_client.get(LOG_URL).content.decode()
    assert admin_client.get(f"{LOG_URL}{logged_line.pk}/change/").status_code == 200
    assert admin_client.get(f"{LOG_URL}{logged_line.pk}/history/").status_code == 200
    for url in (f"{LOG_URL}add/", f"{LOG_URL}{logged_line.pk}/delete/"):
        assert admin_client.get(url).status_code == 403
        assert admin_client.post(url, {"post": "yes"}).status_code == 403
    changed = admin_client.post(
        f"{LOG_URL}{logged_line.pk}/change/",
        {"username": "someone-else", "action": "search", "reference": ""},
    )
    deleted = admin_client.post(
        LOG_URL,
        {"action": "delete_selected", "_selected_action": [logged_line.pk]},
    )

    assert changed.status_code == 403
    assert deleted.status_code == 200
    assert AccessLogEntry.objects.values().get() == before


def test_every_log_address_lets_a_superuser_read_and_nothing_else(
    admin_client, logged_line
):
    before = AccessLogEntry.objects.values().get()
    # The bare object address redirects to its change page.
    reading = ("", "ID/history/", "ID/change/", "ID/")

    for url in log_admin_urls(logged_line):
        route = url.removeprefix(LOG_URL).replace(f"{logged_line.pk}/", "ID/", 1)
        read = admin_client.get(url, follow=True)
        posted = admin_client.post(
            url, {"post": "yes", "username": "x", "action": "search"}, follow=True
        )

        assert read.status_code == (200 if route in reading else 403), url
        # A list or history page shown again is no change; nor is the redirect,
        # which the client follows with a GET.
        shown = ("", "ID/history/", "ID/")
        assert posted.status_code == (200 if route in shown else 403), route
        assert AccessLogEntry.objects.values().get() == before


def purge(*args):
    output = io.StringIO()
    call_command("purge_consultation_requests", *args, stdout=output)
    return output.getvalue()


def test_the_purge_deletes_lines_older_than_the_access_log_period(
    admin_client, admin_user, settings
):
    AccessLogEntry.objects.record(admin_user, "127.0.0.1", "search", result_count=0)
    old, recent = AccessLogEntry.objects.record(
        admin_user, "127.0.0.1", "search", result_count=1
    ) + AccessLogEntry.objects.record(admin_user, "127.0.0.1", "search", result_count=2)
    AccessLogEntry.objects.filter(pk=old.pk).update(
        at=timezone.now() - timedelta(days=2193)
    )
    AccessLogEntry.objects.exclude(pk__in=[old.pk, recent.pk]).update(
        at=timezone.now() - timedelta(days=100)
    )

    assert "Would delete 1 access log line(s) over 2192 days old" in purge("--dry-run")
    assert AccessLogEntry.objects.count() == 3
    assert "Deleted 1 access log line(s)" in purge()
    assert old.pk not in AccessLogEntry.objects.values_list("pk", flat=True)
    settings.BOOKINGS_ACCESS_LOG_DAYS = 30
    assert "Deleted 1 access log line(s)" in purge("--access-log-days", "30")
    assert list(AccessLogEntry.objects.all()) == [recent]


@pytest.mark.parametrize("how", [(), ("--anonymise",)])
def test_purging_a_request_keeps_its_lines_with_the_reference_only(
    admin_client, consultations_made, how
):
    [consultation] = consultations_made()
    admin_client.get(change_url(consultation))
    admin_client.post(
        LIST_URL, {"action": "export_csv", "_selected_action": [consultation.pk]}
    )

    assert "1 request(s)" in purge("--days", "0", *how)

    assert ConsultationRequest.objects.not_anonymised().count() == 0
    kept = list(AccessLogEntry.objects.values())
    assert [line["reference"] for line in kept] == [consultation.reference] * 2
    assert "Maria" not in str(kept) and "maria@" not in str(kept)

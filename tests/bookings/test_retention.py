import io
from datetime import timedelta

import reversion
from django.core.management import call_command
from django.utils import timezone
from reversion.models import Version

from bookings.models import ConsultationRequest


def make_request(client, form_data, days_old):
    client.post("/consultation/", form_data())
    consultation = ConsultationRequest.objects.latest("pk")
    with reversion.create_revision():
        consultation.internal_notes = "Called twice."
        consultation.save()
    ConsultationRequest.objects.filter(pk=consultation.pk).update(
        created_at=timezone.now() - timedelta(days=days_old)
    )
    return consultation


def purge(*args):
    output = io.StringIO()
    call_command("purge_consultation_requests", *args, stdout=output)
    return output.getvalue()


def test_dry_run_counts_and_changes_nothing(client, form_data):
    make_request(client, form_data, days_old=800)
    make_request(client, form_data, days_old=10)

    assert "Would delete 1 request(s)" in purge("--dry-run")
    assert ConsultationRequest.objects.count() == 2


def test_old_requests_and_their_history_are_deleted(client, form_data):
    old = make_request(client, form_data, days_old=800)
    recent = make_request(client, form_data, days_old=10)

    assert "Deleted 1 request(s)" in purge()

    assert list(ConsultationRequest.objects.all()) == [recent]
    assert not Version.objects.filter(object_id=str(old.pk)).exists()
    assert Version.objects.filter(object_id=str(recent.pk)).exists()


def test_retention_period_is_configurable(client, form_data, settings):
    make_request(client, form_data, days_old=40)
    settings.BOOKINGS_RETENTION_DAYS = 30

    assert "Would delete 1" in purge("--dry-run", "--days", "30")
    assert "Deleted 0" in purge("--days", "60")
    assert "Deleted 1" in purge("--days", "30")


def test_anonymise_keeps_statistics_but_no_personal_details(client, form_data):
    old = make_request(client, form_data, days_old=800)

    assert "Anonymised 1 request(s)" in purge("--anonymise")
    old.refresh_from_db()

    assert old.full_name == "(removed)"
    assert old.email == "removed@invalid"
    assert str(old.phone) == ""
    assert old.message == "" and old.internal_notes == ""
    assert old.treatment.slug == "fibromyalgia"
    assert not Version.objects.filter(object_id=str(old.pk)).exists()
    assert "Anonymised 0" in purge("--anonymise")

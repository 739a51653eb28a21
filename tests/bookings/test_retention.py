import io
from datetime import timedelta

import reversion
from django.core.management import call_command
from django.utils import timezone
from reversion.models import Revision, Version

from bookings.models import ConsultationRequest, ContactAttempt


def make_consultation(client, form_data, days_old):
    """A request with a contact attempt, both in its revision history."""
    client.post("/consultation/", form_data())
    consultation = ConsultationRequest.objects.latest("pk")
    with reversion.create_revision():
        consultation.contact_attempts.create(
            method="phone", result="voicemail", notes="Asked about her new job."
        )
        consultation.internal_notes = "Called twice."
        consultation.save()
    ConsultationRequest.objects.filter(pk=consultation.pk).update(
        created_at=timezone.now() - timedelta(days=days_old)
    )
    return consultation


def history_of(consultation):
    """
    A function giving the versions left of the request and of the contact
    attempts it has now, and their revisions; it works after they are deleted.
    """
    attempt_ids = [
        str(pk) for pk in consultation.contact_attempts.values_list("pk", flat=True)
    ]
    revision_ids = list(
        Version.objects.get_for_object(consultation).values_list("revision", flat=True)
    )

    def history_left():
        versions = Version.objects.get_for_object_reference(
            ConsultationRequest, consultation.pk
        ) | Version.objects.get_for_model(ContactAttempt).filter(
            object_id__in=attempt_ids
        )
        return list(versions) + list(Revision.objects.filter(pk__in=revision_ids))

    return history_left


def purge(*args):
    output = io.StringIO()
    call_command("purge_consultation_requests", *args, stdout=output)
    return output.getvalue()


def test_dry_run_counts_and_changes_nothing(client, form_data):
    old = make_consultation(client, form_data, days_old=800)
    make_consultation(client, form_data, days_old=10)
    history_left = history_of(old)
    before = history_left()

    assert "Would delete 1 request(s)" in purge("--dry-run")
    assert ConsultationRequest.objects.count() == 2
    assert history_left() == before


def test_old_requests_and_their_history_are_deleted(client, form_data):
    old = make_consultation(client, form_data, days_old=800)
    recent = make_consultation(client, form_data, days_old=10)
    history_left = history_of(old)

    assert "Deleted 1 request(s)" in purge()

    assert list(ConsultationRequest.objects.all()) == [recent]
    assert history_left() == []
    assert len(history_of(recent)()) == 3


def test_retention_period_is_configurable(client, form_data, settings):
    make_consultation(client, form_data, days_old=40)
    settings.BOOKINGS_RETENTION_DAYS = 30

    assert "Would delete 1" in purge("--dry-run", "--days", "30")
    assert "Deleted 0" in purge("--days", "60")
    assert "Deleted 1" in purge("--days", "30")


def test_anonymise_keeps_statistics_but_no_personal_details(client, form_data):
    old = make_consultation(client, form_data, days_old=800)
    history_left = history_of(old)

    assert "Anonymised 1 request(s)" in purge("--anonymise")
    old.refresh_from_db()

    assert old.full_name == "(removed)"
    assert old.email == "removed@invalid"
    assert str(old.phone) == ""
    assert old.message == "" and old.internal_notes == ""
    assert old.treatment.slug == "fibromyalgia"
    assert history_left() == []
    assert "Anonymised 0" in purge("--anonymise")


def test_purge_leaves_no_version_of_the_request_or_its_contact_attempts(
    client, form_data
):
    old = make_consultation(client, form_data, days_old=1)
    history_left = history_of(old)
    assert len(history_left()) == 3  # request, attempt and their revision

    assert "Deleted 1 request(s)" in purge("--days", "0")

    assert history_left() == []
    assert not Version.objects.exists()
    assert not Revision.objects.exists()


def test_purge_removes_the_history_of_requests_deleted_before(client, form_data):
    deleted_earlier = make_consultation(client, form_data, days_old=1)
    history_left = history_of(deleted_earlier)
    deleted_earlier.delete()
    kept = make_consultation(client, form_data, days_old=1)

    assert "Deleted 0 request(s)" in purge()

    assert history_left() == []
    assert len(history_of(kept)()) == 3


def test_anonymise_clears_contact_notes_and_the_history_holding_them(client, form_data):
    old = make_consultation(client, form_data, days_old=800)
    deleted_earlier = make_consultation(client, form_data, days_old=1)
    history_left = history_of(old)
    history_left_of_deleted = history_of(deleted_earlier)
    deleted_earlier.delete()

    assert "Anonymised 1 request(s)" in purge("--anonymise")

    assert history_left() == []
    assert history_left_of_deleted() == []
    assert list(ContactAttempt.objects.values_list("notes", "result")) == [
        ("", "voicemail")
    ]

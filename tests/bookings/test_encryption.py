import io
import json
import subprocess

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from reversion.models import Version

from bookings.encryption import DecryptionError, new_key
from bookings.models import ConsultationRequest, ContactAttempt

LIST_URL = "/admin/bookings/consultationrequest/"
MESSAGE = "My fibromyalgia flares every winter."
NOTES = "Prefers mornings; on duloxetine."
ATTEMPT_NOTES = "Happy to come in after her MRI."


@pytest.fixture
def consultation(client, admin_client, form_data):
    """A request sent through the form, a note and a call logged in the admin."""
    client.post("/consultation/", form_data(message=MESSAGE))
    consultation = ConsultationRequest.objects.get()
    admin_client.post(
        f"{LIST_URL}{consultation.pk}/change/",
        {
            "status": "contacted",
            "internal_notes": NOTES,
            "contact_attempts-TOTAL_FORMS": "1",
            "contact_attempts-INITIAL_FORMS": "0",
            "contact_attempts-0-attempted_at_0": "2026-01-05",
            "contact_attempts-0-attempted_at_1": "10:00:00",
            "contact_attempts-0-method": "phone",
            "contact_attempts-0-result": "reached",
            "contact_attempts-0-notes": ATTEMPT_NOTES,
        },
    )
    consultation.refresh_from_db()
    assert consultation.internal_notes == NOTES
    return consultation


def raw_columns():
    """The encrypted columns as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT message, internal_notes FROM bookings_consultationrequest"
        )
        rows = cursor.fetchall()
        cursor.execute("SELECT notes FROM bookings_contactattempt")
        rows += cursor.fetchall()
    return [value for row in rows for value in row]


def raw_versions():
    return list(Version.objects.values_list("serialized_data", flat=True))


def test_the_database_holds_no_plain_text_of_the_health_fields(consultation):
    raw = raw_columns()

    assert len(raw) == 3
    for value in raw:
        assert value.startswith("gAAAAA")
        for text in (MESSAGE, NOTES, ATTEMPT_NOTES, "fibromyalgia", "mornings"):
            assert text not in value
    consultation = ConsultationRequest.objects.get()
    assert consultation.message == MESSAGE
    assert consultation.contact_attempts.get().notes == ATTEMPT_NOTES


def test_the_revision_history_holds_no_plain_text_but_shows_it_to_staff(
    consultation, admin_client
):
    versions = raw_versions()
    assert len(versions) == 2  # the request and its contact attempt
    for text in (MESSAGE, NOTES, ATTEMPT_NOTES, "mornings", "MRI"):
        assert all(text not in data for data in versions)

    version = Version.objects.get_for_object(consultation).get()
    assert version.field_dict["internal_notes"] == NOTES
    page = admin_client.get(f"{LIST_URL}{consultation.pk}/history/{version.pk}/")
    assert NOTES in page.content.decode()


def test_comparing_versions_shows_the_plain_text_to_staff(consultation, admin_client):
    admin_client.post(
        f"{LIST_URL}{consultation.pk}/change/",
        {
            "status": "contacted",
            "internal_notes": "Booked for Tuesday.",
            "contact_attempts-TOTAL_FORMS": "0",
            "contact_attempts-INITIAL_FORMS": "0",
        },
    )
    first, second = Version.objects.get_for_object(consultation).order_by("pk")

    page = admin_client.get(
        f"{LIST_URL}{consultation.pk}/history/compare/",
        {"version_id1": first.pk, "version_id2": second.pk},
    ).content.decode()

    # The diff marks up the changed words separately.
    assert "Prefers mornings; on duloxetine" in page and "Tuesday" in page
    assert "gAAAAA" not in page


def test_reverting_to_an_old_version_restores_the_text_encrypted(
    consultation, admin_client
):
    version = Version.objects.get_for_object(consultation).get()
    ConsultationRequest.objects.filter(pk=consultation.pk).update(
        internal_notes="Changed later."
    )

    version.revision.revert()

    consultation.refresh_from_db()
    assert consultation.internal_notes == NOTES
    assert all(NOTES not in value for value in raw_columns())


def test_empty_text_stays_empty_and_anonymising_still_works(
    client, form_data, consultation
):
    client.post("/consultation/", form_data(message=""))
    empty = ConsultationRequest.objects.latest("pk")

    assert ConsultationRequest.objects.filter(message="").get() == empty
    assert ConsultationRequest.objects.all().anonymise() == 2
    assert set(raw_columns()) == {""}


def test_the_database_cannot_be_asked_about_the_encrypted_text(consultation):
    """So nobody adds them to the admin's search, which would find nothing."""
    with pytest.raises(FieldError, match="Unsupported lookup 'icontains'"):
        ConsultationRequest.objects.filter(message__icontains="winter").exists()
    with pytest.raises(FieldError, match="only be compared with the empty string"):
        ConsultationRequest.objects.filter(message=MESSAGE).exists()
    assert ConsultationRequest.objects.filter(internal_notes__isnull=False).exists()


def test_search_and_export_keep_working(consultation, admin_client):
    found = admin_client.get(LIST_URL, {"q": "Maria"}).context["cl"].result_count
    exported = admin_client.post(
        LIST_URL, {"action": "export_csv", "_selected_action": [consultation.pk]}
    )

    assert found == 1
    assert consultation.reference in exported.content.decode()


def rotate(*args):
    output = io.StringIO()
    call_command("rotate_encryption_key", *args, stdout=output)
    return output.getvalue()


def every_text():
    """What staff read of every encrypted value, the history's included."""
    consultation = ConsultationRequest.objects.get()
    return [
        consultation.message,
        consultation.internal_notes,
        ContactAttempt.objects.get().notes,
        *(
            version.field_dict.get("internal_notes", version.field_dict.get("notes"))
            for version in Version.objects.order_by("pk")
        ),
    ]


def test_rotation_moves_every_row_and_version_to_the_new_key(consultation, settings):
    old_key, key = settings.BOOKINGS_ENCRYPTION_KEYS[0], new_key()
    before_rows, before_versions = raw_columns(), raw_versions()
    texts = every_text()
    assert texts == [MESSAGE, NOTES, ATTEMPT_NOTES, NOTES, ATTEMPT_NOTES]

    settings.BOOKINGS_ENCRYPTION_KEYS = [key, old_key]
    assert "Would re-encrypt 1 consultation requests" in rotate("--dry-run")
    assert raw_columns() == before_rows
    output = rotate()
    settings.BOOKINGS_ENCRYPTION_KEYS = [key]

    assert "Re-encrypted 1 consultation requests and 1 of their history" in output
    assert "Re-encrypted 1 contact attempts and 1 of their history" in output
    assert every_text() == texts
    assert not set(raw_columns()) & set(before_rows)
    assert not set(raw_versions()) & set(before_versions)
    settings.BOOKINGS_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(DecryptionError):
        ConsultationRequest.objects.get()


def test_removing_a_key_before_rotating_fails_loudly(consultation, settings):
    settings.BOOKINGS_ENCRYPTION_KEYS = [new_key()]

    with pytest.raises(DecryptionError, match="BOOKINGS_ENCRYPTION_KEYS"):
        ConsultationRequest.objects.get()


def test_new_key_prints_a_key_that_works(settings, consultation):
    key = rotate("--new-key").strip()
    settings.BOOKINGS_ENCRYPTION_KEYS = [key, *settings.BOOKINGS_ENCRYPTION_KEYS]

    rotate()

    assert ConsultationRequest.objects.get().message == MESSAGE


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_shows_no_plain_text_of_the_health_fields(consultation):
    database = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            database["HOST"],
            "-p",
            str(database["PORT"] or 5432),
            "-U",
            database["USER"],
            database["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PGPASSWORD": database["PASSWORD"] or "", "PATH": "/usr/bin:/bin"},
    ).stdout

    assert consultation.reference in dump
    assert "Maria Lopez" in dump  # the name is not one of the encrypted fields
    for text in (MESSAGE, NOTES, ATTEMPT_NOTES, "fibromyalgia flares", "MRI"):
        assert text not in dump
    assert json.dumps(NOTES)[1:-1] not in dump


PLAIN_TEXTS = [MESSAGE, NOTES, ATTEMPT_NOTES]


def encryption_migrations():
    """[the migration encrypting the text], [the bookings migration before it]."""
    graph = MigrationExecutor(connection).loader.graph
    [encryption] = [
        node
        for node in graph.nodes
        if node[0] == "bookings" and node[1].endswith("_encrypt_health_text")
    ]
    [before] = [
        node for node in graph.node_map[encryption].parents if node[0] == "bookings"
    ]
    return [encryption], [before.key]


REVERSION = ("reversion", "0002_add_index_on_version_for_content_type_and_db")


def migrate(targets):
    """Migrate bookings to the targets; the models as they were then."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([*targets, REVERSION]).apps


def make_plain_request(apps):
    """A request and its contact attempt, and their history, as before encryption."""
    Treatment = apps.get_model("bookings", "Treatment")
    Request = apps.get_model("bookings", "ConsultationRequest")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Revision = apps.get_model("reversion", "Revision")
    Version = apps.get_model("reversion", "Version")
    consultation = Request.objects.create(
        form_token="token",
        full_name="Maria Lopez",
        email="maria@example.org",
        phone="+17705550188",
        preferred_contact="phone",
        treatment=Treatment.objects.get_or_create(slug="depression")[0],
        consent_at=timezone.now(),
        message=MESSAGE,
        internal_notes=NOTES,
    )
    attempt = consultation.contact_attempts.create(
        method="phone", result="reached", notes=ATTEMPT_NOTES
    )
    revision = Revision.objects.create(date_created=timezone.now())
    for obj, fields in (
        (consultation, {"message": MESSAGE, "internal_notes": NOTES}),
        (attempt, {"notes": ATTEMPT_NOTES}),
    ):
        content_type = ContentType.objects.get_for_model(obj)
        Version.objects.create(
            revision=revision,
            object_id=str(obj.pk),
            content_type=content_type,
            db="default",
            format="json",
            object_repr="old",
            serialized_data=json.dumps(
                [
                    {
                        "model": f"bookings.{content_type.model}",
                        "pk": obj.pk,
                        "fields": fields,
                    }
                ]
            ),
        )


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_text_and_history_and_back():
    encryption, before_encryption = encryption_migrations()
    make_plain_request(migrate(before_encryption))
    assert set(PLAIN_TEXTS) <= set(raw_columns())

    # With every later migration too: the models below are today's.
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    raw = raw_columns() + raw_versions()
    assert all(text not in value for value in raw for text in PLAIN_TEXTS)
    consultation = ConsultationRequest.objects.get()
    assert [consultation.message, consultation.internal_notes] == [MESSAGE, NOTES]
    assert ContactAttempt.objects.get().notes == ATTEMPT_NOTES
    assert [
        value
        for version in Version.objects.order_by("pk")
        for value in version.field_dict.values()
        if value in PLAIN_TEXTS
    ] == PLAIN_TEXTS

    migrate(before_encryption)
    assert set(PLAIN_TEXTS) <= set(raw_columns())
    assert all(any(text in data for data in raw_versions()) for text in PLAIN_TEXTS)
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

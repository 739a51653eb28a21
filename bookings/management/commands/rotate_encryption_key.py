"""
Encrypt the request's message, internal notes and contact-attempt notes, and
their copies in the revision history, again with the first key of
BOOKINGS_ENCRYPTION_KEYS. Run it after putting a new key first; afterwards the
old keys can be removed.
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from reversion.models import Version

from bookings import encryption
from bookings.encryption import (
    change_serialized_fields,
    encrypted_field_names,
    rotate,
)
from bookings.models import ConsultationRequest, ContactAttempt

ENCRYPTED_MODELS = (ConsultationRequest, ContactAttempt)


def with_text(model, field_names):
    """The model's rows with some encrypted text (an empty one is stored empty)."""
    return model.objects.exclude(**dict.fromkeys(field_names, ""))


def rotate_rows(model, field_names):
    """
    Re-encrypt the model's rows: the ORM decrypts them and encrypts anew. Each
    row is locked from its reading to its writing, so that no note a member of
    staff saves meanwhile is overwritten with the one read before.
    """
    rows = with_text(model, field_names).select_for_update()
    count = 0
    for pk, *values in rows.values_list("pk", *field_names).iterator():
        model.objects.filter(pk=pk).update(
            **dict(zip(field_names, values, strict=True))
        )
        count += 1
    return count


def rotate_versions(model, field_names):
    count = 0
    for version in Version.objects.get_for_model(model).filter(format="json"):
        version.serialized_data = change_serialized_fields(
            version.serialized_data, field_names, rotate
        )
        version.save(update_fields=["serialized_data"])
        count += 1
    return count


class Command(BaseCommand):
    help = (
        "Encrypt the health text of consultation requests, and of their history, "
        "again with the first key of BOOKINGS_ENCRYPTION_KEYS."
    )
    # --new-key must work while the key in the settings is not one yet.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-key",
            action="store_true",
            help="Only print a new key, to put first in BOOKINGS_ENCRYPTION_KEYS.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many would change."
        )

    def handle(self, *args, new_key, dry_run, **options):
        if new_key:
            self.stdout.write(encryption.new_key())
            return
        with transaction.atomic():
            for model in ENCRYPTED_MODELS:
                field_names = encrypted_field_names(model)
                if dry_run:
                    rows = with_text(model, field_names).count()
                    versions = Version.objects.get_for_model(model).count()
                    verb = "Would re-encrypt"
                else:
                    rows = rotate_rows(model, field_names)
                    versions = rotate_versions(model, field_names)
                    verb = "Re-encrypted"
                self.stdout.write(
                    f"{verb} {rows} {model._meta.verbose_name_plural} "
                    f"and {versions} of their history versions."
                )

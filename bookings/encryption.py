"""
Encryption at rest of the free text in which patients and staff write health
details: Fernet (AES-128-CBC with an HMAC-SHA256, so a changed value is refused,
not misread) from the cryptography package, with the keys in
BOOKINGS_ENCRYPTION_KEYS. The first key encrypts; every key decrypts, so a new
key can go first while the old ones still read what they encrypted
(`manage.py rotate_encryption_key` then moves everything to the new one).
"""

import functools
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models.lookups import Exact, IsNull

# Every Fernet token starts with its version byte, 0x80, base64-encoded.
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - not a secret


class DecryptionError(Exception):
    pass


def new_key():
    return Fernet.generate_key().decode()


@functools.cache
def fernet_for(keys):
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "BOOKINGS_ENCRYPTION_KEYS must be one or more comma-separated keys of "
            "32 url-safe base64-encoded bytes; make one with `python manage.py "
            'rotate_encryption_key --new-key` or `python -c "from '
            "cryptography.fernet import Fernet; "
            'print(Fernet.generate_key().decode())"`.'
        ) from error


def current_fernet():
    return fernet_for(tuple(settings.BOOKINGS_ENCRYPTION_KEYS))


def check_encryption_keys(app_configs, **kwargs):
    """Refuse to start with a key that is not one, rather than at the first request."""
    try:
        current_fernet()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="bookings.E001")]
    return []


def encrypt(text):
    """The text encrypted with the first key; empty text stays empty."""
    if not text:
        return text
    return current_fernet().encrypt(text.encode()).decode()


def decrypt(token):
    if not token:
        return token
    try:
        return current_fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A value is not encrypted with any key of BOOKINGS_ENCRYPTION_KEYS: "
            "was a key removed before `manage.py rotate_encryption_key` ran?"
        ) from None


def rotate(token):
    """The token encrypted again with the first key."""
    if not token:
        return token
    try:
        return current_fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A value is not encrypted with any key of BOOKINGS_ENCRYPTION_KEYS."
        ) from None


def change_serialized_fields(serialized_data, field_names, change):
    """
    A revision-history version's JSON with change(value) applied to these
    fields: django-reversion keeps each saved state of a request.
    """
    objects = json.loads(serialized_data)
    for obj in objects:
        for name in field_names:
            if name in obj["fields"]:
                obj["fields"][name] = change(obj["fields"][name])
    return json.dumps(objects)


class IsEmpty(Exact):
    """`field=""`: each encryption of a text differs, so nothing else can match."""

    def get_prep_lookup(self):
        if self.rhs != "":
            raise FieldError(
                "Encrypted text can only be compared with the empty string."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """
    Text stored encrypted, in the database and in the revision history, and
    read as plain text. The database sees only ciphertext, so it cannot search
    or compare it: only empty or not (`field=""`, `isnull`) can be asked.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        return decrypt(value)

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt(str(value))

    def value_to_string(self, obj):
        """Serialized (the revision history) as the ciphertext."""
        return encrypt(self.value_from_object(obj))

    def to_python(self, value):
        """
        Plain text from a form, or the ciphertext of a serialized value (an
        old version from the revision history) decrypted; a ciphertext that no
        key decrypts stays as it is, so the history page still opens.
        """
        value = super().to_python(value)
        if value and value.startswith(TOKEN_PREFIX):
            try:
                return decrypt(value)
            except DecryptionError:
                pass
        return value

    def get_lookup(self, lookup_name):
        return {"exact": IsEmpty, "isnull": IsNull}.get(lookup_name)


def encrypted_field_names(model):
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]

"""
The booking pages' cache: the days page of a type and the consultation request
form are rendered once and served to every visitor with tokens of their own.

What is cached
- A page is rendered with placeholders where each visitor's own values go: the
  CSRF token, the form's one-time token and the article the visitor came from.
  The default cache (Redis) keeps that rendering; each GET gets a copy with its
  own fresh tokens put in, so a token is still made for one render only, and
  nothing of a visitor is ever stored.
- Pages are kept with the availability version they were rendered from. Any
  saved or deleted booking, consultation type, calendar (and the types it
  takes), weekly hours, extra hours, closed dates or treatment forgets the
  version once the change is committed, so the next visitor gets a page
  rendered afresh: a time just booked is never offered as free again. The
  signal receivers below are connected in BookingsConfig.ready(), as pages/caching.py
  does, so that the admin's bulk deletes count too. QuerySet.update() sends no
  signal: call availability_changed() after one.
- A page also records until when it holds by itself: the days page until its
  first free time comes inside the minimum notice, or midnight, whichever
  comes first. A page is kept at most BOOKINGS_PAGE_CACHE_SECONDS, which bounds
  how long a change to the clinic's details takes to show on these pages.

Booking a time never reads this cache: Booking.objects.take checks the time in
the database. When the cache is unavailable, pages are rendered for each request.
"""

import logging
import secrets
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

VERSION_KEY = "bookings:availability-version"

logger = logging.getLogger(__name__)


def cache():
    return caches["default"]


def availability_version():
    """The current availability version; a new one if it was forgotten."""
    version = cache().get(VERSION_KEY)
    if version is None:
        cache().add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache().get(VERSION_KEY)
    return version


def availability_changed(using=None, **kwargs):
    """
    Render the booking pages afresh once the current transaction commits: a
    page rendered before then cannot see the change.
    """
    transaction.on_commit(forget_availability_version, using=using)


def m2m_availability_changed(action, using=None, **kwargs):
    if action.startswith("post_"):
        availability_changed(using=using)


def forget_availability_version():
    try:
        cache().delete(VERSION_KEY)
    except Exception:  # Redis and the database cache fail differently
        # The change is saved; pages rendered before it live on until they expire.
        logger.exception("The cache is unavailable: booking pages may show old times")


def connect_availability_signals():
    from .models import (
        Booking,
        ClosedDates,
        ConsultationType,
        ExtraHours,
        StaffCalendar,
        Treatment,
        WeeklyHours,
    )

    for model in (
        Booking,
        ClosedDates,
        ConsultationType,
        ExtraHours,
        StaffCalendar,
        Treatment,
        WeeklyHours,
    ):
        post_save.connect(
            availability_changed, sender=model, dispatch_uid="bookings-cache"
        )
        post_delete.connect(
            availability_changed, sender=model, dispatch_uid="bookings-cache"
        )
    m2m_changed.connect(
        m2m_availability_changed,
        sender=StaffCalendar.consultation_types.through,
        dispatch_uid="bookings-cache",
    )


class Placeholders:
    """Random stand-ins for a visitor's own values in a page rendered for all."""

    NAMES = ("csrf_token", "form_token", "article")

    def __init__(self, values=None):
        self.values = values or {
            name: f"{name}-{secrets.token_hex(16)}" for name in self.NAMES
        }

    def __getattr__(self, name):
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def fill(self, content, **values):
        """The page with the visitor's values in place of the placeholders."""
        for name, value in values.items():
            content = content.replace(self.values[name], value)
        return content


class CachedPage:
    """
    A page rendered with placeholders, kept with the availability version it
    was rendered from. The version and the page are read in one round trip, and
    the version before the page is rendered: a change committed meanwhile
    forgets the version the page is kept with.
    """

    def __init__(self, *parts):
        self.key = ":".join(["bookings:page", *map(str, parts)])
        self.version = None

    def get(self):
        """(content, Placeholders) if a current copy is kept, else None."""
        try:
            kept = cache().get_many([VERSION_KEY, self.key])
            self.version = kept.get(VERSION_KEY) or availability_version()
        except Exception:  # Redis and the database cache fail differently
            logger.warning("The cache is unavailable: booking pages are rendered live")
            return None
        entry = kept.get(self.key)
        if (
            entry is None
            or entry["version"] != self.version
            or entry["valid_until"] <= timezone.now().timestamp()
        ):
            return None
        return entry["content"], Placeholders(entry["placeholders"])

    def keep(self, content, placeholders, valid_until):
        """Keep the page until valid_until (a timestamp) at the latest."""
        if self.version is None:
            return
        now = timezone.now().timestamp()
        timeout = settings.BOOKINGS_PAGE_CACHE_SECONDS
        if valid_until is not None:
            timeout = min(timeout, valid_until - now)
        if timeout < 1:
            return
        entry = {
            "version": self.version,
            "content": content,
            "placeholders": placeholders.values,
            "valid_until": now + timeout,
        }
        try:
            cache().set(self.key, entry, timeout)
        except Exception:  # the page is rendered: send it all the same
            logger.warning("The cache is unavailable: this booking page is not kept")

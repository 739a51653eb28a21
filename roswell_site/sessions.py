"""
An absolute lifetime for staff sessions. SESSION_SAVE_EVERY_REQUEST renews the
idle timeout on every request, so without this a session kept busy (or stolen)
would last for ever.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import logout
from django.utils import timezone

LOGGED_IN_AT = "logged_in_at"


def note_login_time(sender, request, user, **kwargs):
    request.session[LOGGED_IN_AT] = timezone.now().timestamp()


def session_has_expired(session):
    """Also for sessions with no login time: they predate this rule."""
    logged_in_at = session.get(LOGGED_IN_AT)
    max_age = timedelta(hours=settings.STAFF_SESSION_MAX_HOURS).total_seconds()
    return logged_in_at is None or timezone.now().timestamp() - logged_in_at > max_age


class SessionLifetimeMiddleware:
    """Logs staff out STAFF_SESSION_MAX_HOURS after they logged in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Without a session cookie nobody is logged in, and the session stays
        # untouched so that public pages can be shared (pages/caching.py).
        if (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and request.user.is_authenticated
            and session_has_expired(request.session)
        ):
            logout(request)
        return self.get_response(request)

"""
Warn a staff member by e-mail when their account sees repeated failed logins.

Logins are locked per address (AXES_LOCKOUT_PARAMETERS), so guesses spread
over many addresses lock nobody out; the account's owner is told instead, once
per lockout period, when the failures for their username from all addresses
together reach the limit. Here rather than in an app: staff logins are the
admin's, which is site-wide (roswell_site.admin).
"""

import hashlib

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db.models import Count, Sum
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from pages.models import ClinicDetails


def recent_failures(username):
    """Failed logins for the username within the lockout period, from anywhere."""
    return AccessAttempt.objects.filter(
        username=username, attempt_time__gte=timezone.now() - get_cool_off()
    ).aggregate(
        failures=Sum("failures_since_start", default=0),
        addresses=Count("ip_address", distinct=True),
    )


class LoginAlertHandler(AxesDatabaseHandler):
    """Axes' database handler, which also queues the warning to the owner."""

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        username = get_client_username(request, credentials) if request else None
        if not username:
            return
        failures = recent_failures(username)["failures"]
        # Queued for unknown usernames too, so that the response is the same.
        if failures >= settings.AXES_FAILURE_LIMIT and cache.add(
            alert_cache_key(username), True, get_cool_off().total_seconds()
        ):
            warn_of_failed_logins.enqueue(username)


def alert_cache_key(username):
    return "login-alert-" + hashlib.sha256(username.encode()).hexdigest()


@task
def warn_of_failed_logins(username):
    user = (
        get_user_model()
        .objects.filter(is_active=True, **{get_user_model().USERNAME_FIELD: username})
        .exclude(email="")
        .first()
    )
    if user is None:
        return
    context = recent_failures(username) | {
        "user": user,
        "clinic": ClinicDetails.load(),
        "hours": get_cool_off().total_seconds() / 3600,
        "password_change_url": settings.SITE_URL + reverse("admin:password_change"),
    }
    EmailMessage(
        subject="Failed logins to your staff account",
        body=render_to_string("admin/failed_logins_email.txt", context),
        to=[user.email],
    ).send()

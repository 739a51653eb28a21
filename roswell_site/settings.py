"""
Settings for the Roswell Infusions site.

Everything that differs between a laptop and a server comes from the environment
(see the README's "Configuration" section). Production is the default: debug is
opt-in with DJANGO_DEBUG=1, and without it the site refuses to start unless
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and BOOKINGS_ENCRYPTION_KEYS
are set.
"""

import base64
import hashlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    return os.environ.get(name, "1" if default else "0").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def env_list(name, default=""):
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


# 1. Django core

DEBUG = env_bool("DJANGO_DEBUG")

if not DEBUG and (
    missing := [
        name
        for name in (
            "DJANGO_SECRET_KEY",
            "DJANGO_ALLOWED_HOSTS",
            "DATABASE_URL",
            "BOOKINGS_ENCRYPTION_KEYS",
        )
        if not os.environ.get(name, "").strip()
    ]
):
    raise ImproperlyConfigured(
        f"Missing environment variable(s): {', '.join(missing)}. Production needs "
        "them all (see the README's Configuration section); for local development "
        "set DJANGO_DEBUG=1 instead."
    )

# Served over HTTPS (directly or behind a TLS-terminating proxy): secure cookies,
# HSTS and redirects to https. On by default in production.
HTTPS = env_bool("DJANGO_HTTPS", default=not DEBUG)

# Behind a reverse proxy (deploy/nginx): it terminates TLS and is the connection's
# address for every client, so CLIENT_IP_HEADER must name its header
# (roswell_site/checks.py warns otherwise).
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY")

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else ""
)

# Shared between processes and servers: Redis if REDIS_URL is set, else tables
# in the database (`manage.py createcachetable` makes them).
_redis_url = os.environ.get("REDIS_URL", "")
_redis_backend = "roswell_site.redis_cache.RedisCache"
_database_backend = "django.core.cache.backends.db.DatabaseCache"

CACHES = {
    "default": (
        {"BACKEND": _redis_backend, "LOCATION": _redis_url}
        if _redis_url
        else {"BACKEND": _database_backend, "LOCATION": "django_cache"}
    ),
    # The public pages (pages/caching.py), apart: nothing visitors make the site
    # store can evict anything else.
    "public_pages": (
        {
            "BACKEND": _redis_backend,
            "LOCATION": _redis_url,
            "KEY_PREFIX": "public-pages",
        }
        if _redis_url
        else {
            "BACKEND": _database_backend,
            "LOCATION": "public_pages_cache",
            # Room for every public page and page of a list; the default of 300
            # would evict pages.
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    ),
    # Each process's own copy of the public pages it served lately, in front of
    # the shared cache (pages/caching.py); at most 500 entries, each a page in
    # one encoding (2 to 30 KB).
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": 500},
    },
}

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Take the write lock at BEGIN: two bookings of one time then run one after
    # the other, and the second sees the first when it checks the time is free.
    # (PostgreSQL has an exclusion constraint instead, bookings migration 0005.)
    DATABASES["default"]["OPTIONS"] = DATABASES["default"].get("OPTIONS", {}) | {
        "transaction_mode": "IMMEDIATE"
    }

AUTHENTICATION_BACKENDS = [
    # First, so that locked-out users are refused before their password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

CSRF_COOKIE_HTTPONLY = True

CSRF_COOKIE_SECURE = HTTPS

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DEFAULT_FROM_EMAIL = os.environ.get(
    "DJANGO_DEFAULT_FROM_EMAIL", "Roswell Infusions <website@localhost>"
)

INSTALLED_APPS = [
    "pages",
    "bookings",
    "staff_mfa",
    "roswell_site.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_prose_editor",
    "django_tasks_db",
    "phonenumber_field",
    "reversion",
    "reversion_compare",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
]

LANGUAGE_CODE = "en-us"

# One line per event on the console, each with the id of the request or task it
# belongs to; the process manager (systemd, Docker) collects the output.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context_id": {"()": "roswell_site.request_id.ContextIdFilter"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(context_id)s] %(message)s"
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context_id"],
            "formatter": "line",
        }
    },
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
    "loggers": {
        # django-axes announces itself at every start; its warnings still show.
        "axes": {"level": "WARNING"},
        # Two lines per task; roswell_site.request_id logs one instead.
        "django.tasks": {"level": "WARNING"},
    },
}

# Console back end for `make run`; SMTP from the environment everywhere else.
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("SMTP_HOST", "localhost"),
                "port": int(os.environ.get("SMTP_PORT", "25")),
                "username": os.environ.get("SMTP_USER", ""),
                "password": os.environ.get("SMTP_PASSWORD", ""),
                "use_tls": env_bool("SMTP_STARTTLS"),
                "use_ssl": env_bool("SMTP_SSL"),
                "timeout": 10,
            },
        }
        if os.environ.get("DJANGO_MAILER", "console" if DEBUG else "smtp") == "smtp"
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}

MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

MEDIA_URL = "/media/"

MIDDLEWARE = [
    "roswell_site.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Answers If-None-Match with 304, for cached pages too.
    "django.middleware.http.ConditionalGetMiddleware",
    # Before the session, CSRF and messages middleware: a cached page skips them,
    # and pages that set a cookie or vary on it are never shared.
    "pages.caching.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Old addresses: a redirect is looked up only for a 404 (or WordPress's
    # /?p=ID), so pages that exist, cached or not, never ask for one. Inside
    # CommonMiddleware, so /old-address without its slash takes one hop.
    "pages.redirects.RedirectMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second step?
    "django_otp.middleware.OTPMiddleware",
    "roswell_site.sessions.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "roswell_site.urls"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip() or (
    "django-insecure-development-only-key"  # noqa: S105 - reached only with debug on
)

SECURE_CONTENT_TYPE_NOSNIFF = True

SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# No inline scripts on the site; the admin's few carry a per-response nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    # Bootstrap draws some icons as data: SVG images.
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
}

SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)

SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD")

SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0

# The proxy sets X-Forwarded-Proto (deploy/nginx).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None

# Load balancers check health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"

SECURE_SSL_REDIRECT = HTTPS

SERVER_EMAIL = os.environ.get("DJANGO_SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# Staff are logged out after this much inactivity; every request renews it (and
# STAFF_SESSION_MAX_HOURS caps it).
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_IDLE_MINUTES", "30")) * 60

SESSION_COOKIE_SECURE = HTTPS

SESSION_ENGINE = "django.contrib.sessions.backends.db"

SESSION_SAVE_EVERY_REQUEST = True

SILENCED_SYSTEM_CHECKS = [
    # Passkeys belong to the address staff opened the admin at, so their
    # origins come from the request (staff_mfa/passkeys.py), not from a list.
    "otp_webauthn.E030",
    # HSTS preload is a commitment the clinic makes deliberately (DJANGO_HSTS_PRELOAD).
    *([] if SECURE_HSTS_PRELOAD or not HTTPS else ["security.W021"]),
]

STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))

STATIC_URL = "/static/"

STATICFILES_DIRS = [BASE_DIR / "static"]

STORAGES = {
    # Uploaded pictures: local disk, or S3-compatible storage shared by all servers.
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": os.environ["DJANGO_MEDIA_S3_BUCKET"],
                "endpoint_url": os.environ.get("DJANGO_MEDIA_S3_ENDPOINT_URL") or None,
                "region_name": os.environ.get("DJANGO_MEDIA_S3_REGION") or None,
                "custom_domain": os.environ.get("DJANGO_MEDIA_S3_CUSTOM_DOMAIN")
                or None,
                "file_overwrite": False,
                "querystring_auth": False,
            },
        }
        if os.environ.get("DJANGO_MEDIA_S3_BUCKET")
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# make run executes tasks at once; everywhere else a worker process
# (`manage.py db_worker`) runs them from the database, retrying failed e-mail.
TASKS = {
    "default": {
        "BACKEND": (
            "django.tasks.backends.immediate.ImmediateBackend"
            if os.environ.get("DJANGO_TASKS", "immediate" if DEBUG else "database")
            == "immediate"
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.csp",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pages.context_processors.site_chrome",
            ],
        },
    },
]

TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "America/New_York")

USE_TZ = True

WSGI_APPLICATION = "roswell_site.wsgi.application"

# 2. Django contrib

_validators = "django.contrib.auth.password_validation"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_validators}.UserAttributeSimilarityValidator"},
    {
        "NAME": f"{_validators}.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": f"{_validators}.CommonPasswordValidator"},
    {"NAME": f"{_validators}.NumericPasswordValidator"},
]

# 3. Third-party

# Ten wrong passwords for one account from one address, or for any accounts from
# one address, lock that address out (of that account, or of all) for an hour or
# until a superuser unlocks it (admin: Axes > Access attempts, or `manage.py
# axes_reset_username NAME` / `axes_reset_ip ADDRESS`). Never the account from
# everywhere, which would let anyone lock staff out; ten for the account from
# all addresses together e-mail its owner instead (roswell_site/login_alerts.py).
AXES_CLIENT_IP_CALLABLE = "roswell_site.client_ip.client_address"

AXES_COOLOFF_TIME = int(os.environ.get("DJANGO_LOCKOUT_HOURS", "1"))

AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "10"))

AXES_HANDLER = "roswell_site.login_alerts.LoginAlertHandler"

AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]

AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"

# Failures are forgotten once a login is complete, after the second step too
# (staff_mfa/logins.py): a right password alone must not wipe out wrong codes.
AXES_RESET_ON_SUCCESS = False

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"

CRISPY_TEMPLATE_PACK = "bootstrap5"

# Codes from authenticator apps and recovery codes (staff_mfa). The issuer is
# the name the app lists the login under.
OTP_TOTP_ISSUER = "Roswell Infusions"

# Passkeys (django-otp-webauthn) as the second step after the password only:
# a passkey alone never logs anyone in.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

OTP_WEBAUTHN_HELPER_CLASS = "staff_mfa.passkeys.PasskeyHelper"

OTP_WEBAUTHN_RP_ID_CALLABLE = "staff_mfa.passkeys.relying_party_id"

OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER

PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

PHONENUMBER_DEFAULT_REGION = os.environ.get("BOOKINGS_PHONE_REGION", "US")

# Whitenoise serves files from STATICFILES_DIRS directly while debugging, so
# `make run` needs no collectstatic.
WHITENOISE_USE_FINDERS = DEBUG

# 4. Project

# The admin's address, e.g. "clinic-staff/"; something less guessable than the
# default keeps most password-guessing robots away.
ADMIN_PATH = os.environ.get("DJANGO_ADMIN_PATH", "admin/").strip("/") + "/"

# Lines of the access log (who opened, exported, searched or re-sent requests in
# the admin) older than this are deleted by `manage.py purge_consultation_requests`;
# six years, leap days included, as US rules ask of such records.
BOOKINGS_ACCESS_LOG_DAYS = int(os.environ.get("BOOKINGS_ACCESS_LOG_DAYS", "2192"))

# Patients can move or cancel a booking from their link until this many hours
# before it starts; after that, the page gives the clinic's phone number.
BOOKINGS_CHANGE_CUTOFF_HOURS = int(os.environ.get("BOOKINGS_CHANGE_CUTOFF_HOURS", "2"))

# Name, e-mail and phone in the staff notification; treatment and message never.
BOOKINGS_EMAIL_CONTACT_DETAILS = env_bool("BOOKINGS_EMAIL_CONTACT_DETAILS")

# Keys that encrypt the request's message, internal notes and contact-attempt
# notes in the database (bookings/encryption.py): the first encrypts, all
# decrypt. Required in production; with debug on, a key derived from the secret
# key stands in, so `make run` needs none.
BOOKINGS_ENCRYPTION_KEYS = env_list("BOOKINGS_ENCRYPTION_KEYS") or [
    base64.urlsafe_b64encode(
        hashlib.sha256(f"bookings.encryption:{SECRET_KEY}".encode()).digest()
    ).decode()
]

# Seconds a person needs at least to fill in the form; faster is a bot.
BOOKINGS_MIN_FILL_SECONDS = int(os.environ.get("BOOKINGS_MIN_FILL_SECONDS", "3"))

# Who is told of new requests; empty means the clinic's e-mail address.
BOOKINGS_NOTIFY_EMAILS = env_list("BOOKINGS_NOTIFY_EMAILS")

# Waits before each new try at e-mail that failed: 6 tries over about 2 hours.
BOOKINGS_NOTIFY_RETRY_DELAYS = [
    int(seconds)
    for seconds in env_list("BOOKINGS_NOTIFY_RETRY_DELAYS", "60,300,900,1800,3600")
]

# Seconds at most that the days page and the request form are kept rendered
# (bookings/caching.py); any booking or change of the set-up renders them afresh.
BOOKINGS_PAGE_CACHE_SECONDS = int(os.environ.get("BOOKINGS_PAGE_CACHE_SECONDS", "300"))

# Valid requests one client address may send per hour.
BOOKINGS_RATE_LIMIT_PER_HOUR = int(os.environ.get("BOOKINGS_RATE_LIMIT_PER_HOUR", "5"))

# Hours before a booking that the patient's reminder is sent; bookings made
# later than that get none.
BOOKINGS_REMINDER_HOURS = int(os.environ.get("BOOKINGS_REMINDER_HOURS", "24"))

# Requests older than this are deleted by `manage.py purge_consultation_requests`.
BOOKINGS_RETENTION_DAYS = int(os.environ.get("BOOKINGS_RETENTION_DAYS", "730"))

# Minutes the thanks page shows a patient their reference after they sent the
# form (the cookie's lifetime), whatever the staff's idle timeout.
BOOKINGS_THANKS_MINUTES = int(os.environ.get("BOOKINGS_THANKS_MINUTES", "30"))

# How many patients on the waitlist are e-mailed when a time frees up; the
# first to book it gets it, the others hear it was just taken.
BOOKINGS_WAITLIST_OFFERS = int(os.environ.get("BOOKINGS_WAITLIST_OFFERS", "3"))

# The header set by the reverse proxy in front of the site that holds the
# client's address (e.g. X-Real-IP); unset, the connection's address is used.
CLIENT_IP_HEADER = os.environ.get("DJANGO_CLIENT_IP_HEADER", "")

# The largest hero image staff may upload, in bytes.
HERO_IMAGE_MAX_BYTES = 10 * 1024 * 1024

# The largest hero image staff may upload, in pixels (width × height), checked
# before it is decoded: storing a picture and making its copies takes about
# 12 bytes of memory per pixel (40 megapixels: about 5 s and 500 MB).
HERO_IMAGE_MAX_PIXELS = int(os.environ.get("HERO_IMAGE_MAX_PIXELS", "40000000"))

# Seconds the server keeps a rendered public page. Changes to the content make
# pages fresh at once whatever this is (see pages/caching.py).
PAGES_CACHE_TIMEOUT = int(os.environ.get("PAGES_CACHE_TIMEOUT", "3600"))

# Seconds a server process trusts its own note of the content version before it
# asks the shared cache again. A change saved by this process shows at once; one
# saved by another process (another gunicorn worker or server) within this time.
PAGES_CONTENT_CHECK_SECONDS = float(
    os.environ.get("PAGES_CONTENT_CHECK_SECONDS", "0.5")
)

# Seconds browsers and proxies may reuse a public page without asking again
# (capped at the next scheduled publication), and may serve it stale while
# fetching a fresh copy in the background.
PAGES_HTTP_MAX_AGE = int(os.environ.get("PAGES_HTTP_MAX_AGE", "60"))

PAGES_HTTP_STALE_WHILE_REVALIDATE = int(
    os.environ.get("PAGES_HTTP_STALE_WHILE_REVALIDATE", "300")
)

# Months from a clinical reviewer's approval of an article to its next review.
PAGES_REVIEW_INTERVAL_MONTHS = int(os.environ.get("PAGES_REVIEW_INTERVAL_MONTHS", "12"))

# What is deployed (the commit, say): public pages are cached per release, so a
# deploy never serves pages rendered by the code it replaced. deploy/gunicorn.conf.py
# sets it to the checkout's git commit when the environment does not.
RELEASE = os.environ.get("DJANGO_RELEASE", "")

# Any figure of the reports page counting fewer people than this shows "<5"
# (for 5) and is left out of its CSV, so a report identifies nobody.
REPORTS_MIN_CELL_SIZE = int(os.environ.get("REPORTS_MIN_CELL_SIZE", "5"))

# The site's public address (no trailing slash): for links in e-mail, canonical
# and Open Graph addresses, the sitemap, robots.txt and the feed.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Staff must set up a second step (an authenticator app or a passkey) and pass
# it at every login before the admin opens. On by default in production; with
# debug on it is off, and staff without a device skip it (README, Security).
STAFF_MFA_REQUIRED = env_bool("DJANGO_STAFF_MFA_REQUIRED", default=not DEBUG)

# Staff are logged out this long after logging in, however active they are.
STAFF_SESSION_MAX_HOURS = int(os.environ.get("DJANGO_SESSION_MAX_HOURS", "12"))

# Seconds after which a task still RUNNING is taken to be abandoned by a worker
# that died, and goes back to the queue (bookings/management/commands/db_worker.py).
# Far longer than any task runs: e-mail is two SMTP conversations of 10 s timeout.
TASKS_RUNNING_TIMEOUT = int(os.environ.get("DJANGO_TASKS_RUNNING_TIMEOUT", "300"))

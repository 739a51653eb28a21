"""
Settings for the Roswell Infusions site.

Everything that differs between a laptop and a server comes from the environment
(see the README's "Configuration" section). Production is the default: debug is
opt-in with DJANGO_DEBUG=1, and without it the site refuses to start unless
DJANGO_SECRET_KEY is set.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else ""
)

# The default cache is shared between processes and servers: the rate limit
# and one-time tokens rely on it.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
        if os.environ.get("REDIS_URL")
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
        }
    )
}

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DEFAULT_FROM_EMAIL = os.environ.get(
    "DJANGO_DEFAULT_FROM_EMAIL", "Roswell Infusions <website@localhost>"
)

INSTALLED_APPS = [
    "pages",
    "bookings",
    "django.contrib.admin",
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
]

LANGUAGE_CODE = "en-us"

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
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "reversion.middleware.RevisionMiddleware",
]

ROOT_URLCONF = "roswell_site.urls"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment, or set "
            "DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - debug only

SERVER_EMAIL = os.environ.get("DJANGO_SERVER_EMAIL", DEFAULT_FROM_EMAIL)

STATIC_ROOT = BASE_DIR / "staticfiles"

STATIC_URL = "/static/"

STATICFILES_DIRS = [BASE_DIR / "static"]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"

CRISPY_TEMPLATE_PACK = "bootstrap5"

PHONENUMBER_DEFAULT_REGION = os.environ.get("BOOKINGS_PHONE_REGION", "US")

# Whitenoise serves files from STATICFILES_DIRS directly while debugging, so
# `make run` needs no collectstatic.
WHITENOISE_USE_FINDERS = DEBUG

# 4. Project

# The header set by the reverse proxy in front of the site that holds the
# client's address (e.g. X-Real-IP); unset, the connection's address is used.
BOOKINGS_CLIENT_IP_HEADER = os.environ.get("BOOKINGS_CLIENT_IP_HEADER", "")

# Name, e-mail and phone in the staff notification; treatment and message never.
BOOKINGS_EMAIL_CONTACT_DETAILS = env_bool("BOOKINGS_EMAIL_CONTACT_DETAILS")

# Seconds a person needs at least to fill in the form; faster is a bot.
BOOKINGS_MIN_FILL_SECONDS = int(os.environ.get("BOOKINGS_MIN_FILL_SECONDS", "3"))

# Who is told of new requests; empty means the clinic's e-mail address.
BOOKINGS_NOTIFY_EMAILS = env_list("BOOKINGS_NOTIFY_EMAILS")

# Waits before each new try at e-mail that failed: 6 tries over about 2 hours.
BOOKINGS_NOTIFY_RETRY_DELAYS = [
    int(seconds)
    for seconds in env_list("BOOKINGS_NOTIFY_RETRY_DELAYS", "60,300,900,1800,3600")
]

# Valid requests one client address may send per hour.
BOOKINGS_RATE_LIMIT_PER_HOUR = int(os.environ.get("BOOKINGS_RATE_LIMIT_PER_HOUR", "5"))

# Requests older than this are deleted by `manage.py purge_consultation_requests`.
BOOKINGS_RETENTION_DAYS = int(os.environ.get("BOOKINGS_RETENTION_DAYS", "730"))

# The largest hero image staff may upload, in bytes.
HERO_IMAGE_MAX_BYTES = 10 * 1024 * 1024

# The site's public address (no trailing slash): for links in e-mail, canonical
# and Open Graph addresses, the sitemap, robots.txt and the feed.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

import re
import subprocess
import sys

import pytest

from tests.roswell_site.conftest import PROJECT, production_env


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "BOOKINGS_ENCRYPTION_KEYS",
    ],
)
def test_production_refuses_to_start_without_required_settings(run_manage, missing):
    result = run_manage("check", env=production_env(**{missing: None}))

    assert result.returncode != 0
    assert f"Missing environment variable(s): {missing}" in result.stderr


def test_all_missing_settings_are_named_at_once(run_manage):
    env = production_env(
        DJANGO_SECRET_KEY=None,
        DJANGO_ALLOWED_HOSTS=None,
        DATABASE_URL=None,
        BOOKINGS_ENCRYPTION_KEYS=None,
    )

    result = run_manage("check", env=env)

    assert (
        "DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL, "
        "BOOKINGS_ENCRYPTION_KEYS" in result.stderr
    )


def test_debug_needs_no_settings(run_manage):
    env = production_env(
        DJANGO_DEBUG="1",
        DJANGO_SECRET_KEY=None,
        DJANGO_ALLOWED_HOSTS=None,
        DATABASE_URL=None,
        BOOKINGS_ENCRYPTION_KEYS=None,
    )

    assert run_manage("check", env=env).returncode == 0


def test_check_deploy_is_clean_in_production_configuration(run_manage):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env()
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_malformed_encryption_key_stops_the_start(run_manage):
    result = run_manage(
        "check", env=production_env(BOOKINGS_ENCRYPTION_KEYS="my-secret-words")
    )

    assert result.returncode != 0
    assert "bookings.E001" in result.stderr
    assert "BOOKINGS_ENCRYPTION_KEYS must be" in result.stderr


def test_production_cookies_and_sessions(run_manage):
    script = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE, s.SESSION_COOKIE_AGE, "
        "s.SESSION_SAVE_EVERY_REQUEST, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    )

    result = run_manage("shell", "--no-imports", "-c", script, env=production_env())

    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "True",
        "Lax",
        "Lax",
        "1800",
        "True",
        "True",
        "31536000",
    ]


def test_admin_path_is_configurable(run_manage):
    script = "from django.urls import reverse; print(reverse('admin:index'))"

    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env=production_env(DJANGO_ADMIN_PATH="clinic-staff"),
    )

    assert result.stdout.strip() == "/clinic-staff/"


def test_redis_url_switches_the_cache_to_redis(run_manage):
    script = (
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    )

    default = run_manage("shell", "--no-imports", "-c", script, env=production_env())
    redis = run_manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env=production_env(REDIS_URL="redis://127.0.0.1:6379/3"),
    )

    assert default.stdout.strip().endswith("DatabaseCache")
    assert redis.stdout.strip().endswith("RedisCache")


def test_s3_bucket_switches_media_storage(run_manage):
    script = (
        "from django.core.files.storage import storages; "
        "print(type(storages['default']).__name__)"
    )

    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env=production_env(
            DJANGO_MEDIA_S3_BUCKET="clinic-media",
            DJANGO_MEDIA_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        ),
    )

    assert result.stdout.strip() == "S3Storage"


def test_check_deploy_warns_behind_a_proxy_without_client_ip_header(run_manage):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_env(DJANGO_CLIENT_IP_HEADER=None),
    )

    assert result.returncode != 0
    assert "roswell_site.W001" in result.stderr
    assert "DJANGO_CLIENT_IP_HEADER" in result.stderr


def test_the_proxy_warning_is_for_check_deploy_only(run_manage):
    # CI runs `DJANGO_DEBUG=1 manage.py check --fail-level WARNING`.
    env = production_env(DJANGO_DEBUG="1", DJANGO_CLIENT_IP_HEADER=None)

    result = run_manage("check", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stderr


def test_sqlite_takes_the_write_lock_when_a_transaction_begins(run_manage):
    script = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS'].get('transaction_mode'))"
    )

    sqlite = run_manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        env=production_env(DATABASE_URL="sqlite:////tmp/roswell-settings-test.sqlite3"),
    )
    postgresql = run_manage("shell", "--no-imports", "-c", script, env=production_env())

    assert sqlite.stdout.strip() == "IMMEDIATE"
    assert postgresql.stdout.strip() == "None"


def gunicorn_release(env):
    """DJANGO_RELEASE as deploy/gunicorn.conf.py leaves it for the app it loads."""
    script = (
        "import os, runpy; runpy.run_path('deploy/gunicorn.conf.py'); "
        "print(os.environ['DJANGO_RELEASE'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_gunicorn_makes_the_deployed_commit_the_release():
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert gunicorn_release(production_env()) == commit
    assert gunicorn_release(production_env(DJANGO_RELEASE="v42")) == "v42"


def test_gunicorn_without_git_makes_each_start_a_release_of_its_own(tmp_path):
    # GIT_DIR at an empty folder: git finds no repository, as on a platform.
    env = production_env(GIT_DIR=str(tmp_path))

    releases = {gunicorn_release(env) for _ in range(2)}

    assert len(releases) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", release) for release in releases)

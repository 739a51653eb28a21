import pytest

from tests.roswell_site.conftest import production_env


def test_healthz_answers_ok_when_database_and_cache_work(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.text == "ok\n"
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reveals_no_versions(client, db):
    response = client.get("/healthz")

    assert "Server" not in response
    assert "django" not in response.text.lower()


@pytest.mark.django_db
def test_healthz_answers_503_when_the_cache_is_down(client, settings):
    settings.CACHES = settings.CACHES | {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens here: the shared cache is unreachable.
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.text == "unavailable\n"


def test_healthz_answers_503_when_the_database_is_down(run_manage):
    script = (
        "from django.test import RequestFactory; from pages.views import healthz; "
        "print(healthz(RequestFactory().get('/healthz')).status_code)"
    )
    # Nothing listens on port 1: the database is unreachable.
    env = production_env(DATABASE_URL="postgres://roswell@127.0.0.1:1/roswell")

    result = run_manage("shell", "--no-imports", "-c", script, env=env)

    assert result.stdout.strip() == "503"

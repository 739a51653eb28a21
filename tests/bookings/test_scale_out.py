"""
Two application servers on one PostgreSQL and one Redis, as behind a load
balancer, and a task worker running on its own: nothing is stored twice, the
rate limit counts across both servers, and mail queued by one is delivered by
the worker.
"""

import re
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import redis
from django.db import connection

from bookings.models import ConsultationRequest
from tests.bookings.conftest import wait_until
from tests.roswell_site.conftest import PROJECT, manage, production_env

REDIS_URL = "redis://127.0.0.1:6379/14"
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url):
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200  # noqa: S310
    except OSError:
        return False


def submit(base_url, name):
    """Fill in the form as a browser would; return the final status and page."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(CookieJar())
    )
    form = opener.open(f"{base_url}/consultation/", timeout=10).read().decode()
    fields = {
        "csrfmiddlewaretoken": re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', form
        )[1],
        "form_token": re.search(r'name="form_token" value="([^"]+)"', form)[1],
        "full_name": name,
        "email": f"{name.lower().replace(' ', '.')}@example.org",
        "phone": "(770) 555-0142",
        "preferred_contact": "phone",
        "treatment": re.search(r'<option value="(\d+)">Fibromyalgia', form)[1],
        "preferred_time": "any",
        "consent": "on",
    }
    body = urllib.parse.urlencode(fields).encode()
    try:
        response = opener.open(f"{base_url}/consultation/", body, timeout=10)
        return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def server_env(tmp_path, smtp_server):
    db = connection.settings_dict
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = production_env(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=REDIS_URL,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_HTTPS="0",
        DJANGO_BEHIND_PROXY=None,
        DJANGO_CLIENT_IP_HEADER=None,
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_server.port),
        BOOKINGS_NOTIFY_EMAILS="frontdesk@clinic.example",
        BOOKINGS_RATE_LIMIT_PER_HOUR="4",
        BOOKINGS_MIN_FILL_SECONDS="0",
        GUNICORN_WORKERS="2",
    )
    result = manage("collectstatic", "--no-input", "-v0", env=env)
    assert result.returncode == 0, result.stderr
    return env


@pytest.fixture
def start(server_env):
    processes = []

    def start_process(*command, **env):
        process = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=server_env | env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    yield start_process
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_servers_share_requests_rate_limit_and_mail(
    start, smtp_server, fibromyalgia
):
    servers = []
    for _ in range(2):
        port = free_port()
        start(
            BIN / "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            GUNICORN_BIND=f"127.0.0.1:{port}",
        )
        servers.append(f"http://127.0.0.1:{port}")
    assert all(wait_until(lambda url=url: answers(f"{url}/healthz")) for url in servers)

    answers_by_patient = {
        f"Patient {n}": submit(servers[n % 2], f"Patient {n}") for n in range(4)
    }
    over_limit = [submit(server, "One Too Many") for server in servers]

    assert all(status == 200 for status, _ in answers_by_patient.values()), [
        (status, page[:300]) for status, page in answers_by_patient.values()
    ]
    assert all(
        "Thank you, we have your request" in page
        for _, page in answers_by_patient.values()
    )
    assert [status for status, _ in over_limit] == [429, 429]
    stored = ConsultationRequest.objects.all()
    assert sorted(stored.values_list("full_name", flat=True)) == sorted(
        answers_by_patient
    )
    assert not stored.filter(staff_notified_at__isnull=False).exists()

    start(BIN / "python", "manage.py", "db_worker", "--no-reload")

    assert wait_until(lambda: len(smtp_server.to("frontdesk@clinic.example")) == 4)
    subjects = {str(m["Subject"]) for m in smtp_server.to("frontdesk@clinic.example")}
    assert subjects == {f"New consultation request {c.reference}" for c in stored}
    assert wait_until(lambda: not ConsultationRequest.objects.not_delivered().exists())

"""
`manage.py db_worker` returns tasks abandoned by a dead worker to the queue;
and as deployed, in its own process against PostgreSQL and a real SMTP server,
killed mid-delivery or cut off from the database, it loses no e-mail once a
worker runs again.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from psycopg2 import sql

from bookings.models import ConsultationRequest
from tests.bookings.conftest import CollectingHandler, run_worker, wait_until
from tests.roswell_site.conftest import PROJECT, production_env

STAFF = "frontdesk@clinic.example"
PATIENT = "maria@example.org"
RUNNING_TIMEOUT = 3


class StallingHandler(CollectingHandler):
    """Holds the first message in DATA until released, as a hung server would."""

    def __init__(self):
        super().__init__()
        self.holding = threading.Event()
        self.released = threading.Event()
        self.accept_held = False

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if not self.holding.is_set():
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            if not self.accept_held:
                return "451 Try again later"
        return await super().handle_DATA(server, session, envelope)

    def release(self, *, accept):
        self.accept_held = accept
        self.released.set()


@pytest.fixture
def stalling_smtp(smtp_server):
    smtp_server.handler = smtp_server.controller.handler = StallingHandler()
    yield smtp_server.handler
    smtp_server.handler.release(accept=False)


@pytest.fixture
def start_worker(smtp_server, tmp_path):
    """Start `manage.py db_worker` in a process group of its own; see its log."""
    db = connection.settings_dict
    env = production_env(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_HTTPS="0",
        DJANGO_BEHIND_PROXY=None,
        DJANGO_CLIENT_IP_HEADER=None,
        DJANGO_MAILER="smtp",
        DJANGO_TASKS="database",
        DJANGO_TASKS_RUNNING_TIMEOUT=str(RUNNING_TIMEOUT),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_server.port),
        BOOKINGS_NOTIFY_EMAILS=STAFF,
    )
    workers = []

    def start():
        log = open(tmp_path / f"worker-{len(workers)}.log", "w+")
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker"],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker.log = log
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        worker.log.close()


def log_of(worker):
    worker.log.flush()
    return Path(worker.log.name).read_text()


def kill(worker):
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def all_tasks_finished():
    return not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()


class DatabaseOutage:
    """No connection to the test database: existing ones cut, new ones refused."""

    def __init__(self):
        self.name = connection.settings_dict["NAME"]

    def allow_connections(self, allow):
        # A database cannot refuse connections from inside itself.
        db = connection.settings_dict
        server = psycopg2.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres"
        )
        server.autocommit = True
        with server, server.cursor() as cursor:
            cursor.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                    sql.Identifier(self.name), sql.Literal(allow)
                )
            )
        server.close()

    def __enter__(self):
        self.allow_connections(False)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

    def __exit__(self, *exc_info):
        self.allow_connections(True)


def worker_is_connected():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def submit(client, form_data):
    client.post("/consultation/", form_data())
    return ConsultationRequest.objects.get()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_delivery_loses_no_mail(
    client, form_data, smtp_server, stalling_smtp, start_worker
):
    consultation = submit(client, form_data)
    first = start_worker()
    assert stalling_smtp.holding.wait(timeout=30), log_of(first)
    with transaction.atomic():
        # No row lock is held while the mail server keeps the worker waiting.
        ConsultationRequest.objects.select_for_update(nowait=True).get()

    kill(first)
    assert DBTaskResult.objects.get().status == "RUNNING"
    second = start_worker()

    assert wait_until(
        lambda: smtp_server.to(STAFF) and smtp_server.to(PATIENT), seconds=60
    ), log_of(second)
    assert wait_until(all_tasks_finished, seconds=30), log_of(second)
    assert len(smtp_server.to(STAFF)) == 1
    assert len(smtp_server.to(PATIENT)) == 1
    consultation.refresh_from_db()
    assert consultation.staff_notified_at is not None
    assert consultation.patient_confirmed_at is not None
    assert consultation.delivery_started_at is None
    assert "queued again" in log_of(second)
    assert consultation.email not in log_of(second)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_database_outage_while_idle_leaves_the_worker_running(
    client, form_data, smtp_server, start_worker
):
    worker = start_worker()
    assert wait_until(worker_is_connected), log_of(worker)

    with DatabaseOutage():
        assert wait_until(lambda: "Database error" in log_of(worker)), log_of(worker)
        assert worker.poll() is None, log_of(worker)

    submit(client, form_data)
    assert wait_until(
        lambda: smtp_server.to(STAFF) and smtp_server.to(PATIENT), seconds=60
    ), log_of(worker)
    assert worker.poll() is None
    assert len(smtp_server.to(STAFF)) == 1
    assert len(smtp_server.to(PATIENT)) == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_database_outage_mid_delivery_loses_no_mail(
    client, form_data, smtp_server, stalling_smtp, start_worker
):
    consultation = submit(client, form_data)
    worker = start_worker()
    assert stalling_smtp.holding.wait(timeout=30), log_of(worker)

    with DatabaseOutage():
        # The server takes the staff e-mail; its record cannot be written.
        stalling_smtp.release(accept=True)
        assert wait_until(lambda: "Database error" in log_of(worker)), log_of(worker)
        assert worker.poll() is None, log_of(worker)

    assert wait_until(lambda: smtp_server.to(PATIENT), seconds=60), log_of(worker)
    assert wait_until(all_tasks_finished, seconds=30), log_of(worker)
    assert len(smtp_server.to(PATIENT)) == 1
    # The documented duplicate: accepted by the server, not recorded, sent again.
    assert len(smtp_server.to(STAFF)) == 2
    consultation.refresh_from_db()
    assert consultation.staff_notified_at is not None
    assert consultation.patient_confirmed_at is not None


def abandon(task_result, *, seconds_ago, claims=1):
    """Make a queued task look like one a worker claimed and then died running."""
    DBTaskResult.objects.filter(pk=task_result.pk).update(
        status="RUNNING",
        started_at=timezone.now() - timedelta(seconds=seconds_ago),
        worker_ids=[f"dead-worker-{n}" for n in range(claims)],
    )


def test_task_left_running_by_a_dead_worker_runs_again(
    client, form_data, smtp_server, settings, caplog
):
    submit(client, form_data)
    task_result = DBTaskResult.objects.get()
    abandon(task_result, seconds_ago=settings.TASKS_RUNNING_TIMEOUT + 1)

    run_worker()

    task_result.refresh_from_db()
    assert task_result.status == "SUCCESSFUL"
    assert len(smtp_server.to(STAFF)) == 1
    assert len(smtp_server.to(PATIENT)) == 1
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert line == f"Task {task_result.pk} was abandoned by its worker; queued again"


def test_task_running_for_less_than_the_timeout_is_left_alone(
    client, form_data, smtp_server, settings
):
    submit(client, form_data)
    task_result = DBTaskResult.objects.get()
    abandon(task_result, seconds_ago=settings.TASKS_RUNNING_TIMEOUT - 60)

    run_worker()

    task_result.refresh_from_db()
    assert task_result.status == "RUNNING"
    assert smtp_server.messages == []


def test_task_abandoned_three_times_is_marked_failed(
    client, form_data, smtp_server, settings
):
    submit(client, form_data)
    task_result = DBTaskResult.objects.get()
    abandon(task_result, seconds_ago=settings.TASKS_RUNNING_TIMEOUT + 1, claims=3)

    run_worker()

    task_result.refresh_from_db()
    assert task_result.status == "FAILED"
    assert "Abandoned by 3 workers" in task_result.traceback
    assert smtp_server.messages == []

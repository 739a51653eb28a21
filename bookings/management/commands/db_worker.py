"""
django-tasks-db's `manage.py db_worker`, made to lose no task when a worker dies
or the database goes away (upstream: RealOrangeOne/django-tasks#46, still open).

- A task RUNNING for longer than TASKS_RUNNING_TIMEOUT was left by a worker that
  died (killed, out of memory, host lost): it goes back to the queue, at start
  and then at most once a minute. Every task must therefore be idempotent. A
  task abandoned MAX_CLAIMS times is marked failed rather than crash every
  worker that picks it up.
- A database error does not end the worker: it logs, reconnects after a pause
  and goes on. A task interrupted by one stays RUNNING and comes back as above.
"""

import logging
import os
import random
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
    transaction,
)
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (InterfaceError, OperationalError)
# Seconds to wait before reconnecting after a database error.
DATABASE_PAUSE = 5
# Runs of one task after which a worker dying again marks it failed.
MAX_CLAIMS = 3
# Seconds between two looks for abandoned tasks, at most.
SWEEP_INTERVAL = 60


class Worker(db_worker.Worker):
    next_sweep = 0.0

    def run(self):
        logger.info(
            "Starting worker worker_id=%s queues=%s",
            self.worker_id,
            ",".join(self.queue_names),
        )
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # noqa: S311 - spreads workers' first look
        while self.running:
            try:
                close_old_connections()
                task_result = self.run_next_task()
                close_old_connections()
            except DATABASE_ERRORS as error:
                if is_locked_database_exception(error):
                    time.sleep(self.interval)
                elif self.batch:
                    raise
                else:
                    self.pause_after(error)
                continue
            if self.batch and task_result is None:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            if self.running and task_result is None:
                time.sleep(self.interval)

    def run_next_task(self):
        """Run the next task that is due, if any, and return it."""
        if time.monotonic() >= self.next_sweep:
            self.return_abandoned_tasks()
            self.next_sweep = time.monotonic() + min(
                SWEEP_INTERVAL, settings.TASKS_RUNNING_TIMEOUT
            )
        tasks = self.tasks().ready()
        with exclusive_transaction(tasks.db):
            task_result = tasks.get_locked()
            if task_result is not None:
                task_result.claim(self.worker_id)
        if task_result is not None:
            self.run_task(task_result)
        return task_result

    def tasks(self):
        tasks = DBTaskResult.objects.filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        return tasks

    def return_abandoned_tasks(self):
        cutoff = timezone.now() - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT)
        abandoned = self.tasks().running().filter(started_at__lt=cutoff)
        with transaction.atomic(using=abandoned.db):
            claims = dict(
                abandoned.select_for_update(skip_locked=True).values_list(
                    "id", "worker_ids"
                )
            )
            given_up = [
                id for id, workers in claims.items() if len(workers) >= MAX_CLAIMS
            ]
            retried = [id for id in claims if id not in given_up]
            abandoned.filter(id__in=retried).update(status=TaskResultStatus.READY)
            abandoned.filter(id__in=given_up).update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                traceback=f"Abandoned by {MAX_CLAIMS} workers in a row.",
            )
        for task_id in retried:
            logger.warning("Task %s was abandoned by its worker; queued again", task_id)
        for task_id in given_up:
            logger.error(
                "Task %s was abandoned by %d workers; marked failed",
                task_id,
                MAX_CLAIMS,
            )

    def pause_after(self, error):
        logger.warning(
            "Database error (%s); trying again in %d s",
            type(error).__name__,
            DATABASE_PAUSE,
        )
        connections.close_all()
        time.sleep(DATABASE_PAUSE)


class Command(db_worker.Command):
    def handle(
        self, *, verbosity, queue_name, exclude_queues, reload, batch, **options
    ):
        self.configure_logging(verbosity)
        if exclude_queues and "*" not in queue_name.split(","):
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_name.split(","),
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
            batch=batch,
            **{
                name: options[name]
                for name in (
                    "interval",
                    "backend_name",
                    "startup_delay",
                    "max_tasks",
                    "worker_id",
                )
            },
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()

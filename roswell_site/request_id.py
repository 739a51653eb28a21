"""
A request id on every log line: taken from the proxy's X-Request-ID when it is a
plain token, otherwise made up; returned in the response's X-Request-ID header
(which gunicorn's access log prints). Task log lines carry the task's id.
"""

import contextvars
import logging
import re
import uuid

from django.dispatch import receiver
from django.tasks.signals import task_finished, task_started

logger = logging.getLogger(__name__)

current_id = contextvars.ContextVar("current_id", default="-")

SAFE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class ContextIdFilter(logging.Filter):
    def filter(self, record):
        record.context_id = current_id.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if SAFE_ID.fullmatch(incoming) else uuid.uuid4().hex
        # Not reset afterwards: Django logs the response's status after the
        # middleware has returned, and that line must carry the id too.
        current_id.set(request.id)
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response


_outer_ids = {}


@receiver(task_started)
def mark_task_log_lines(sender, task_result, **kwargs):
    _outer_ids[task_result.id] = current_id.set(f"task-{task_result.id}")


@receiver(task_finished)
def log_task_and_unmark(sender, task_result, **kwargs):
    """One line per task, with its outcome and duration."""
    started, finished = task_result.started_at, task_result.finished_at
    duration = (
        (finished - started).total_seconds() * 1000 if started and finished else 0
    )
    logger.info(
        "task %s %s %.0fms",
        task_result.task.name,
        task_result.status,
        duration,
    )
    if token := _outer_ids.pop(task_result.id, None):
        current_id.reset(token)

import logging

from bookings.tasks import deliver_consultation_emails
from tests.bookings.conftest import run_worker


def test_every_response_carries_a_request_id(client, db):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert len(first) == 32 and first != second


def test_a_proxy_request_id_is_kept_and_a_hostile_one_replaced(client, db):
    kept = client.get("/healthz", headers={"X-Request-ID": "abc123-from-nginx"})
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad\nid <script>"})

    assert kept["X-Request-ID"] == "abc123-from-nginx"
    assert replaced["X-Request-ID"] != "bad\nid <script>"


def test_a_request_id_with_a_trailing_newline_is_replaced(client, db):
    response = client.get("/healthz", headers={"X-Request-ID": "abcdefgh\n"})

    assert response.status_code == 200
    assert response["X-Request-ID"] != "abcdefgh\n"
    assert len(response["X-Request-ID"]) == 32


def test_log_lines_carry_the_request_id(client, db, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.get("/articles/missing/")

    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.context_id == response["X-Request-ID"]


def test_each_task_logs_one_line_with_its_id(db, caplog):
    with caplog.at_level(logging.INFO):
        result = deliver_consultation_emails.enqueue(0)
        run_worker()

    lines = [r for r in caplog.records if r.name == "roswell_site.request_id"]
    assert len(lines) == 1
    assert (
        lines[0].getMessage().startswith("task deliver_consultation_emails SUCCESSFUL")
    )
    assert lines[0].context_id == f"task-{result.id}"

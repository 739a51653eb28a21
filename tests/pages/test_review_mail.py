"""The review workflow's e-mail, through a real SMTP server on loopback."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from pages.models import Article, ReviewMessage
from tests.bookings.conftest import run_worker
from tests.bookings.test_mail import body_text, time_passes_until_the_next_retry

SITE = "https://www.clinic.example"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def draft(make_article):
    return make_article("Sleep and pain", status=Article.Status.DRAFT)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a step as a request would: committed, then the worker sends its mail."""

    def run(step):
        with django_capture_on_commit_callbacks(execute=True):
            step()
        run_worker()

    return run


def test_submitting_e_mails_each_reviewer_and_no_one_else(
    smtp_server, committed, draft, writer, reviewer, publisher, make_staff
):
    second = make_staff("sol", "Clinical reviewers")

    committed(lambda: draft.submit_for_review(by=writer))

    assert {rcpt for rcpts, _ in smtp_server.messages for rcpt in rcpts} == {
        reviewer.email,
        second.email,
    }
    [mail] = smtp_server.to(reviewer.email)
    assert mail["Subject"] == "Please review: Sleep and pain"
    text = body_text(mail)
    assert "Hello Dr. Rita Ames, MD" in text
    assert "Wendy Writer asks for a clinical review" in text
    assert f"{SITE}/admin/pages/article/{draft.pk}/change/" in text


def test_sending_back_e_mails_the_writer_the_comment(
    smtp_server, committed, draft, writer, reviewer
):
    draft.submit_for_review(by=writer)

    committed(lambda: draft.send_back(by=reviewer, comment="Name the 2019 trial."))

    [mail] = smtp_server.to(writer.email)
    assert mail["Subject"] == "Changes requested: Sleep and pain"
    assert "Name the 2019 trial." in body_text(mail)


def test_approving_e_mails_the_writer(smtp_server, committed, draft, writer, reviewer):
    draft.submit_for_review(by=writer)

    committed(lambda: draft.approve(by=reviewer))

    [mail] = smtp_server.to(writer.email)
    assert mail["Subject"] == "Approved: Sleep and pain"
    assert "Dr. Rita Ames, MD approved" in body_text(mail)


def test_mail_server_down_keeps_the_message_and_a_retry_delivers_it(
    smtp_server, committed, draft, writer, reviewer
):
    smtp_server.stop()

    committed(lambda: draft.submit_for_review(by=writer))

    message = ReviewMessage.objects.get()
    assert message.sent_at is None
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    smtp_server.start()
    time_passes_until_the_next_retry()
    run_worker()
    run_worker()

    message.refresh_from_db()
    assert message.sent_at is not None
    assert len(smtp_server.to(reviewer.email)) == 1


@pytest.fixture
def due_articles(make_article):
    today = timezone.localdate()
    return [
        make_article("Overdue article", next_review_due=today - timedelta(days=3)),
        make_article("Due soon article", next_review_due=today + timedelta(days=20)),
        make_article("Due later article", next_review_due=today + timedelta(days=90)),
        make_article(
            "Unpublished overdue draft",
            status=Article.Status.DRAFT,
            next_review_due=today - timedelta(days=3),
        ),
    ]


def remind(*args):
    output = io.StringIO()
    call_command("send_review_reminders", *args, stdout=output)
    return output.getvalue()


def test_daily_digest_lists_each_reviewer_the_reviews_due_once_a_day(
    smtp_server, committed, due_articles, reviewer, make_staff, writer
):
    second = make_staff("sol", "Clinical reviewers")

    committed(remind)
    committed(remind)

    for person in (reviewer, second):
        [mail] = smtp_server.to(person.email)
        assert mail["Subject"] == "Clinical reviews due: 2 article(s)"
        text = body_text(mail)
        assert text.index("Overdue article") < text.index("Due soon article")
        assert "OVERDUE since" in text
        assert "Due later article" not in text
        assert "Unpublished overdue draft" not in text
    assert smtp_server.to(writer.email) == []


def test_digest_dry_run_sends_nothing(smtp_server, committed, due_articles, reviewer):
    output = remind("--dry-run")

    run_worker()
    assert f"Would e-mail {reviewer.email}" in output
    assert "“Overdue article”: overdue" in output
    assert smtp_server.messages == []
    assert not ReviewMessage.objects.exists()


def test_no_digest_without_reviews_due(smtp_server, committed, reviewer, make_article):
    make_article("Fresh", next_review_due=timezone.localdate() + timedelta(days=200))

    committed(remind)

    assert smtp_server.messages == []

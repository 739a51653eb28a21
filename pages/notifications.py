"""
Every e-mail of the articles' review workflow, composed, sent and recorded in
one place. The task (pages/tasks.py) only calls deliver_review_message; the
claim on a message and its delivery record are the message's own state.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bookings.notifications import Delivery

from .models import Article, ReviewMessage, StaffProfile

logger = logging.getLogger(__name__)

TEMPLATES = {
    ReviewMessage.Kind.SUBMITTED: "pages/email/review_submitted.txt",
    ReviewMessage.Kind.APPROVED: "pages/email/review_approved.txt",
    ReviewMessage.Kind.SENT_BACK: "pages/email/review_sent_back.txt",
    ReviewMessage.Kind.DIGEST: "pages/email/review_digest.txt",
}

SUBJECTS = {
    ReviewMessage.Kind.SUBMITTED: "Please review: {title}",
    ReviewMessage.Kind.APPROVED: "Approved: {title}",
    ReviewMessage.Kind.SENT_BACK: "Changes requested: {title}",
}


def deliver_review_message(message):
    """
    Send one e-mail of the review workflow and record it the moment the mail
    server accepts it, under a claim on the message as for the bookings' e-mail.
    Returns Delivery.NOT_NEEDED, having sent nothing, when it was sent before,
    its recipient has no address, or a digest finds no review due any more.
    """
    if not message.claim():
        if message.sent_at is not None:
            return Delivery.NOT_NEEDED
        return Delivery.CLAIMED_ELSEWHERE
    try:
        email = compose(message)
        if email is None:
            return Delivery.NOT_NEEDED
        email.send()
        message.record_sent()
    except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
        message.record_failure(error)
        logger.warning(
            "Review e-mail %s (%s) failed (attempt %d): %s",
            message.pk,
            message.kind,
            message.attempts,
            type(error).__name__,
        )
        return Delivery.FAILED
    finally:
        message.release()
    return Delivery.SENT


def admin_url(article):
    return settings.SITE_URL + reverse("admin:pages_article_change", args=[article.pk])


def compose(message):
    """The message's e-mail, or None when there is nothing to send."""
    recipient = message.recipient
    if not recipient.email:
        return None
    context = {
        "recipient": StaffProfile.byline_of(recipient),
        "comment": message.comment,
    }
    if message.kind == ReviewMessage.Kind.DIGEST:
        articles = list(Article.objects.review_due_soon())
        if not articles:
            return None
        today = timezone.localdate()
        context["reviews"] = [
            {
                "article": article,
                "overdue": article.next_review_due < today,
                "admin_url": admin_url(article),
            }
            for article in articles
        ]
        subject = f"Clinical reviews due: {len(articles)} article(s)"
    else:
        article = message.article
        title = article.pending_text()["title"]
        context |= {
            "article": article,
            "title": title,
            "admin_url": admin_url(article),
            "writer": article.submitted_by
            and StaffProfile.byline_of(article.submitted_by),
            "reviewer": article.approved_by
            and StaffProfile.byline_of(article.approved_by),
            "is_change": article.has_pending_changes,
        }
        subject = SUBJECTS[message.kind].format(title=title)
    return EmailMessage(
        subject=subject,
        body=render_to_string(TEMPLATES[message.kind], context),
        to=[recipient.email],
    )

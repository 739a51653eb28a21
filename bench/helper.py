"""
The benchmark's work inside Django, run by bench/run.py with the benchmark's
environment:

    python bench/helper.py seed             200 generated articles (once)
    python bench/helper.py baseline URL OUT  the page at URL, rendered, saved to OUT
    python bench/helper.py tokens N OUT      N one-time form tokens, one a line
    python bench/helper.py treatment         the id of a treatment the form offers
    python bench/helper.py requests          how many valid consultation requests exist
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "roswell_site.settings")
django.setup()

from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings.forms import issue_form_token  # noqa: E402
from bookings.models import ConsultationRequest, Treatment  # noqa: E402
from pages.models import Article, Topic  # noqa: E402

GENERATED_ARTICLES = 200
PARAGRAPH = (
    "<p>Fibromyalgia brings widespread pain, tiredness and poor sleep. This "
    "paragraph stands in for the clinic's writing, at the length of a real "
    "article's paragraph, so that pages weigh what they will weigh in use.</p>"
)


def seed():
    """Generated articles on the starter topics, older than the starter article."""
    topics = list(Topic.objects.all())
    now = timezone.now()
    for number in range(GENERATED_ARTICLES):
        body = "".join(
            f"<h2>Section {section}</h2>{PARAGRAPH * 3}" for section in range(1, 6)
        )
        article, created = Article.objects.get_or_create(
            slug=f"generated-article-{number:03}",
            defaults={
                "title": f"Generated article {number:03} about fibromyalgia",
                "summary": "A generated article for the benchmark, as long as a "
                "real summary of an article on this site.",
                "body": body,
                "status": Article.Status.PUBLISHED,
                "published_at": now - timedelta(days=number + 1),
            },
        )
        if created:
            article.topics.set(topics if number % 2 else topics[:1])
    print(Article.objects.published().count(), "published articles")


def baseline(url, out):
    host = os.environ["BENCH_HOST"]
    response = Client(HTTP_HOST=host).get(url)
    if response.status_code != 200:
        sys.exit(f"{url} answered {response.status_code}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(response.content)
    print(len(response.content), "bytes")


def tokens(count, out):
    Path(out).write_text("".join(issue_form_token() + "\n" for _ in range(count)))


def treatment():
    print(Treatment.objects.filter(is_active=True).values_list("pk", flat=True)[0])


def requests():
    print(ConsultationRequest.objects.exclude(status="spam").count())


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "tokens":
        tokens(int(arguments[0]), arguments[1])
    else:
        {
            "seed": seed,
            "baseline": baseline,
            "treatment": treatment,
            "requests": requests,
        }[command](*arguments)

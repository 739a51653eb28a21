import io
import re
from datetime import time, timedelta
from html.parser import HTMLParser
from pathlib import Path

from django.core.management import call_command
from django.utils import timezone

from bookings.availability import free_slots
from bookings.models import ConsultationType, StaffCalendar, WeeklyHours
from pages import publish_checks
from pages.models import Article, ClinicDetails, Page, Topic

BOOKING_SETUP = (ConsultationType, StaffCalendar, WeeklyHours)

SOURCE = (
    Path(__file__).resolve().parents[2]
    / "pages/starter_content/ketamine-therapy-for-fibromyalgia.md"
)
ARTICLE_URL = "/articles/ketamine-therapy-for-fibromyalgia/"


def source_blocks():
    """(tag, text) for every paragraph and heading of the clinic's Markdown copy."""
    body = SOURCE.read_text(encoding="utf-8").split("---\n", 2)[2]
    body = re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL)
    blocks = []
    for block in filter(None, (b.strip() for b in body.split("\n\n"))):
        hashes, _, heading = block.partition(" ")
        if set(hashes) == {"#"}:
            blocks.append((f"h{len(hashes)}", heading))
        else:
            blocks.append(("p", block))
    return blocks


class BlockCollector(HTMLParser):
    """Collects the text of p/h1-h4 elements inside the article's prose."""

    def __init__(self):
        super().__init__()
        self.blocks, self.current = [], None

    def handle_starttag(self, tag, attrs):
        if tag in {"p", "h1", "h2", "h3", "h4"}:
            self.current = [tag, ""]

    def handle_endtag(self, tag):
        if self.current and tag == self.current[0]:
            self.blocks.append(tuple(self.current))
            self.current = None

    def handle_data(self, data):
        if self.current:
            self.current[1] += data


def served_blocks(html):
    prose = html.split('<div class="prose">', 1)[1].split("</div>", 1)[0]
    collector = BlockCollector()
    collector.feed(prose)
    return collector.blocks


def load():
    output = io.StringIO()
    call_command("load_starter_content", stdout=output)
    return output.getvalue()


def test_served_article_keeps_every_paragraph_and_heading(client, starter_content):
    html = client.get(ARTICLE_URL).text

    assert served_blocks(html) == source_blocks()
    assert (
        html.count("Ketamine Therapy For Fibromyalgia: A Way To Reduce Symptoms</h1>")
        == 1
    )
    assert html.count("<h1") == 1


def test_starter_content_creates_pages_topics_and_clinic_details(starter_content):
    assert set(Page.objects.values_list("slug", flat=True)) == {
        "home",
        "about",
        "contact",
        "privacy-policy",
        "medical-disclaimer",
    }
    assert set(Topic.objects.values_list("name", flat=True)) == {
        "Fibromyalgia",
        "Ketamine therapy",
    }
    article = Article.objects.get()
    assert article.is_public
    assert set(article.topics.values_list("name", flat=True)) == {
        "Fibromyalgia",
        "Ketamine therapy",
    }
    assert ClinicDetails.load().phone
    assert list(Page.objects.get(slug="home").featured_articles.all()) == [article]


def test_loading_twice_changes_nothing(db):
    load()
    snapshot = [
        list(model.objects.order_by("pk").values())
        for model in (Article, Page, Topic, ClinicDetails, *BOOKING_SETUP)
    ]

    output = load()

    assert "created" not in output.replace("already there", "")
    assert snapshot == [
        list(model.objects.order_by("pk").values())
        for model in (Article, Page, Topic, ClinicDetails, *BOOKING_SETUP)
    ]


def test_loading_again_keeps_staff_edits(db):
    load()
    Article.objects.update(title="Edited by staff", body="<p>New text</p>")
    ClinicDetails.objects.update(phone="(404) 555-0199")

    load()

    article = Article.objects.get()
    assert article.title == "Edited by staff"
    assert article.body == "<p>New text</p>"
    assert ClinicDetails.load().phone == "(404) 555-0199"


def test_starter_content_sets_up_two_bookable_types_on_a_clinic_team(
    starter_content,
):
    phone, clinic = ConsultationType.objects.all()
    assert (phone.name, phone.duration_minutes, phone.location) == (
        "Free phone consultation",
        15,
        "phone",
    )
    assert (clinic.name, clinic.duration_minutes, clinic.buffer_minutes) == (
        "In-clinic consultation",
        45,
        15,
    )
    assert clinic.location == "clinic"
    for each in (phone, clinic):
        assert (each.notice_hours, each.horizon_days) == (4, 30)
        assert each.is_offered_online
        assert each.preparation
    team = StaffCalendar.objects.get()
    assert team.name == "Clinic team"
    assert set(team.consultation_types.all()) == {phone, clinic}
    assert [(h.weekday, h.starts, h.ends) for h in team.weekly_hours.all()] == [
        (day, time(9), time(17)) for day in range(5)
    ]
    # What `make run` shows a patient at once: bookable times this week.
    today = timezone.localdate()
    assert free_slots(clinic, today, today + timedelta(days=7))


def test_loading_again_keeps_staff_edits_to_the_booking_setup(db):
    load()
    ConsultationType.objects.filter(slug="in-clinic-consultation").update(
        duration_minutes=60
    )
    team = StaffCalendar.objects.get()
    team.weekly_hours.filter(weekday=WeeklyHours.Weekday.FRIDAY).delete()
    team.consultation_types.remove(ConsultationType.objects.get(location="phone"))

    load()

    assert ConsultationType.objects.get(location="clinic").duration_minutes == 60
    assert team.weekly_hours.count() == 4
    assert [each.location for each in team.consultation_types.all()] == ["clinic"]
    assert StaffCalendar.objects.count() == 1


def test_starter_article_is_approved_and_passes_every_check_that_blocks_publishing(
    starter_content,
):
    article = Article.objects.get(slug="ketamine-therapy-for-fibromyalgia")

    assert article.is_public
    assert article.is_approved
    assert publish_checks.blocking_errors(article) == []


def test_a_change_to_the_starter_article_is_approved_and_published_from_the_admin(
    starter_content, admin_client, client, django_capture_on_commit_callbacks
):
    article = Article.objects.get(slug="ketamine-therapy-for-fibromyalgia")
    change_url = f"/admin/pages/article/{article.pk}/change/"
    form = admin_client.get(change_url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value()}
    data |= {
        "topics": [topic.pk for topic in article.topics.all()],
        "summary": "What ketamine infusions may do for fibromyalgia, and what not.",
    }

    with django_capture_on_commit_callbacks(execute=True):
        for step in ("approve", "publish"):
            response = admin_client.post(change_url, data | {"_workflow": step})
            assert response.status_code == 302

    article.refresh_from_db()
    assert article.summary == data["summary"]
    assert article.working_copy is None
    assert article.reviewed_by == "admin"
    assert data["summary"] in client.get(article.get_absolute_url()).text

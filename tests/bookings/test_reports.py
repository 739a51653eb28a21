"""The reports page: figures against hand-counted requests, privacy, permissions."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.management.commands.demo_data import DemoData
from bookings.models import (
    Booking,
    ConsultationRequest,
    ConsultationType,
    ContactAttempt,
    StaffCalendar,
    Treatment,
)

URL = "/admin/reports/"
NEW_YORK = ZoneInfo("America/New_York")


def local(*args):
    return datetime(*args, tzinfo=NEW_YORK)


def csv_rows(client, figure, **query):
    response = client.get(f"{URL}{figure}.csv", query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def reporter(staff_client):
    return staff_client("view_reports")


@pytest.fixture
def every_count_shown(settings):
    """Hand-counted figures small enough to read, without the privacy threshold."""
    settings.REPORTS_MIN_CELL_SIZE = 0


def test_weeks_are_the_clinics_monday_to_sunday_across_a_year_end(
    reporter, make_consultation, every_count_shown
):
    for moment in (
        local(2026, 12, 27, 23, 30),  # Sunday: the week of 21 December
        local(2026, 12, 28, 0, 30),  # Monday after midnight, before 6:00 UTC
        local(2026, 12, 31, 23, 59),
        local(2027, 1, 3, 23, 30),  # Sunday night: 4 January in UTC
        local(2027, 1, 4, 9, 0),
    ):
        make_consultation(moment)

    rows = csv_rows(reporter, "requests-per-week", start="2026-12-21", end="2027-01-10")

    assert rows == [
        ["Week starting", "Requests", "Of them booked"],
        ["2026-12-21", "1", "0"],
        ["2026-12-28", "3", "0"],
        ["2027-01-04", "1", "0"],
    ]


def test_weeks_stay_whole_over_the_autumn_clock_change(
    reporter, make_consultation, every_count_shown
):
    # Clocks go back at 2:00 on Sunday 1 November 2026: that week has 169 hours.
    for moment in (
        local(2026, 10, 26, 0, 10),
        local(2026, 11, 1, 1, 30),
        local(2026, 11, 1, 23, 50),
        local(2026, 11, 2, 0, 10),
    ):
        make_consultation(moment)

    rows = csv_rows(reporter, "requests-per-week", start="2026-10-26", end="2026-11-08")

    assert rows[1:] == [["2026-10-26", "3", "0"], ["2026-11-02", "1", "0"]]


def test_bookings_per_week_count_requests_that_came_with_a_time(
    reporter, make_consultation, make_booking, every_count_shown
):
    make_consultation(local(2027, 1, 4, 9, 0))
    booking = make_booking(*booking_setup(), local(2027, 1, 20, 10, 0))
    ConsultationRequest.objects.filter(pk=booking.consultation.pk).update(
        created_at=local(2027, 1, 5, 9, 0)
    )

    rows = csv_rows(reporter, "requests-per-week", start="2027-01-04", end="2027-01-10")

    assert rows[1:] == [["2027-01-04", "2", "1"]]


def booking_setup():
    consultation_type = ConsultationType.objects.create(
        name="Call", slug="call", duration_minutes=30, location="phone"
    )
    return consultation_type, StaffCalendar.objects.create(name="Team")


def test_spam_is_never_counted(reporter, make_consultation, every_count_shown):
    make_consultation(local(2027, 1, 4, 9, 0))
    make_consultation(local(2027, 1, 4, 9, 5), status=ConsultationRequest.Status.SPAM)

    rows = csv_rows(reporter, "requests-per-week", start="2027-01-04", end="2027-01-10")

    assert rows[1:] == [["2027-01-04", "1", "0"]]


def attempt(consultation, after, result=ContactAttempt.Result.NO_ANSWER):
    ContactAttempt.objects.create(
        request=consultation,
        attempted_at=consultation.created_at + after,
        method="phone",
        result=result,
    )


def test_median_and_90th_percentile_of_the_first_contact_attempt(
    reporter, make_consultation
):
    start = local(2027, 1, 4, 9, 0)
    for hours in range(1, 11):
        consultation = make_consultation(start + timedelta(minutes=hours))
        attempt(consultation, timedelta(hours=hours))
        attempt(consultation, timedelta(hours=100))  # a later call does not count
    make_consultation(start)  # not contacted yet: not counted

    rows = csv_rows(reporter, "first-contact", start="2027-01-04", end="2027-01-10")

    assert rows[1:] == [
        ["Requests with a contact attempt", "10"],
        ["Median (half waited at most)", "5.0"],
        ["90th percentile (9 in 10 waited at most)", "9.0"],
    ]
    html = reporter.get(URL, {"start": "2027-01-04", "end": "2027-01-10"}).text
    assert "<td>5.0 h</td>" in html and "<td>9.0 h</td>" in html


def test_waiting_times_of_fewer_than_five_people_are_not_shown(
    reporter, make_consultation
):
    for hours in (1, 2, 3):
        consultation = make_consultation(local(2027, 1, 4, 9, hours))
        attempt(consultation, timedelta(hours=hours))

    rows = csv_rows(reporter, "first-contact", start="2027-01-04", end="2027-01-10")

    assert rows[1:] == [
        ["Requests with a contact attempt", ""],
        ["Median (half waited at most)", ""],
        ["90th percentile (9 in 10 waited at most)", ""],
    ]
    html = reporter.get(URL, {"start": "2027-01-04", "end": "2027-01-10"}).text
    assert "<td>&lt;5</td>" in html and "<td>not shown</td>" in html


def test_outcomes_per_treatment_and_the_treatment_filter(
    reporter, make_consultation, fibromyalgia, every_count_shown
):
    depression, _ = Treatment.objects.get_or_create(
        slug="depression", defaults={"name": "Depression"}
    )
    closed = ConsultationRequest.Status.CLOSED
    outcome = ConsultationRequest.Outcome
    when = local(2027, 1, 5, 10, 0)
    for treatment, result, times in (
        (fibromyalgia, outcome.PATIENT, 3),
        (fibromyalgia, outcome.DECLINED, 1),
        (depression, outcome.NOT_ELIGIBLE, 2),
    ):
        for _ in range(times):
            make_consultation(when, treatment=treatment, status=closed, outcome=result)
    make_consultation(when, treatment=depression)  # still open: no outcome

    period = {"start": "2027-01-04", "end": "2027-01-10"}
    header, *rows = csv_rows(reporter, "outcomes", **period)

    assert header == [
        "Treatment",
        "Became a patient",
        "Not eligible",
        "Declined",
        "No answer",
    ]
    assert sorted(rows) == [
        ["Depression", "0", "2", "0", "0"],
        ["Fibromyalgia", "3", "0", "1", "0"],
    ]
    only = csv_rows(reporter, "outcomes", treatment=depression.pk, **period)
    assert only[1:] == [["Depression", "0", "2", "0", "0"]]


def test_no_show_and_cancellation_rates(reporter, make_booking):
    consultation_type, calendar = booking_setup()
    results = (
        [Booking.Status.ATTENDED] * 15
        + [Booking.Status.NO_SHOW] * 5
        + [Booking.Status.CANCELLED] * 5
        + [Booking.Status.CONFIRMED] * 5
    )
    for hour, status in enumerate(results):
        make_booking(
            consultation_type,
            calendar,
            local(2027, 1, 4, 8, 0) + timedelta(hours=hour),
            status=status,
        )

    rows = csv_rows(reporter, "bookings", start="2027-01-04", end="2027-01-10")

    assert rows[1:] == [
        ["Attended", "15"],
        ["Did not come", "5"],
        ["Cancelled", "5"],
        ["Confirmed, not yet recorded", "5"],
        ["No-show rate (of those whose attendance was recorded)", "25.0"],
        ["Cancellation rate (of all bookings)", "16.7"],
    ]


def test_where_patients_came_from(
    reporter, make_consultation, make_article, every_count_shown
):
    article = make_article("Ketamine and fibromyalgia")
    when = local(2027, 1, 5, 10, 0)
    make_consultation(when, heard_about="doctor", source_article=article)
    make_consultation(when, heard_about="doctor")
    make_consultation(when, heard_about="search", source_article=article)
    make_consultation(when)

    period = {"start": "2027-01-04", "end": "2027-01-10"}
    heard = dict(csv_rows(reporter, "heard-about", **period)[1:])
    articles = csv_rows(reporter, "articles", **period)[1:]

    assert heard == {
        "Search engine": "1",
        "My doctor or therapist": "2",
        "Friend or family": "0",
        "Social media": "0",
        "Other": "0",
        "Not answered": "1",
    }
    assert articles == [
        ["Ketamine and fibromyalgia", "2"],
        ["No article (came to the form directly)", "2"],
    ]


def test_counts_under_five_show_as_under_five_and_are_left_out_of_the_csv(
    reporter, make_consultation
):
    for minute in range(3):
        make_consultation(local(2027, 1, 5, 10, minute))
    for minute in range(6):
        make_consultation(local(2027, 1, 12, 10, minute))

    period = {"start": "2027-01-04", "end": "2027-01-17"}
    html = reporter.get(URL, period).text
    rows = csv_rows(reporter, "requests-per-week", **period)

    assert rows[1:] == [["2027-01-04", "", ""], ["2027-01-11", "6", ""]]
    assert "<td>&lt;5</td>" in html and "<td>6</td>" in html
    assert "Week of 11 Jan 2027, requests: 6" in html
    assert "Week of 04 Jan 2027, requests" not in html


def test_the_minimum_cell_size_is_a_setting(reporter, make_consultation, settings):
    settings.REPORTS_MIN_CELL_SIZE = 10
    for minute in range(6):
        make_consultation(local(2027, 1, 12, 10, minute))

    rows = csv_rows(reporter, "requests-per-week", start="2027-01-11", end="2027-01-17")
    html = reporter.get(URL, {"start": "2027-01-11", "end": "2027-01-17"}).text

    assert rows[1:] == [["2027-01-11", "", ""]]
    assert "fewer than 10 people" in html and "<td>&lt;10</td>" in html


def test_csv_cells_cannot_run_as_spreadsheet_formulas(
    reporter, make_consultation, make_article, every_count_shown
):
    article = make_article('=HYPERLINK("https://evil.example","Click")', slug="evil")
    make_consultation(local(2027, 1, 5, 10, 0), source_article=article)

    rows = csv_rows(reporter, "articles", start="2027-01-04", end="2027-01-10")

    assert rows[1][0] == '\'=HYPERLINK("https://evil.example","Click")'


def test_filters_are_plain_query_parameters_that_csv_links_keep(
    reporter, make_consultation
):
    html = reporter.get(URL, {"weeks": "52", "treatment": ""}).text

    assert 'href="/admin/reports/requests-per-week.csv?weeks=52&amp;treatment="' in html
    assert '<option value="52" selected>' in html


def test_bad_dates_get_a_clear_message_and_keep_what_was_typed(reporter, db):
    html = reporter.get(URL, {"start": "2027-02-01", "end": "2027-01-01"}).text

    assert "The last day cannot be before the first day." in html
    assert 'value="2027-02-01"' in html and 'value="2027-01-01"' in html
    assert (
        "Please enter the first day as a date."
        in reporter.get(URL, {"start": "1 Feb"}).text
    )
    assert "at most three years" in reporter.get(URL, {"start": "2019-01-01"}).text


def test_an_unknown_figure_is_not_found(reporter, db):
    assert reporter.get(f"{URL}nothing.csv").status_code == 404


@pytest.mark.parametrize("path", [URL, f"{URL}requests-per-week.csv"])
def test_only_staff_with_the_reports_permission_see_them(
    client, staff_client, path, db
):
    writer = staff_client("view_article", "change_article", "add_article")
    front_desk = staff_client("view_consultationrequest")

    assert client.get(path).status_code == 302  # to the login page
    assert writer.get(path).status_code == 403
    assert front_desk.get(path).status_code == 403
    assert staff_client("view_reports").get(path).status_code == 200


def test_reports_are_linked_from_the_admin_front_page_for_those_allowed(
    reporter, staff_client
):
    assert 'href="/admin/reports/"' in reporter.get("/admin/").text
    writer = staff_client("view_article")
    assert 'href="/admin/reports/"' not in writer.get("/admin/").text


def test_demo_data_refuses_to_run_without_debug(settings, db):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("demo_data", stdout=io.StringIO())
    assert not ConsultationRequest.objects.exists()


def test_demo_data_makes_requests_and_bookings_that_never_overlap(
    settings, starter_content, fibromyalgia
):
    settings.DEBUG = True
    out = io.StringIO()

    call_command("demo_data", "--requests", "300", "--bookings", "60", stdout=out)

    assert "Added 300 made-up requests over 26 weeks, 60 of them" in out.getvalue()
    assert ConsultationRequest.objects.count() == 300
    starts = list(Booking.objects.values_list("starts_at", flat=True))
    assert len(starts) == len(set(starts)) == 60
    assert ConsultationRequest.objects.filter(source_article__isnull=False).exists()
    assert ContactAttempt.objects.exists()


@pytest.fixture
def at_size(starter_content, fibromyalgia):
    """10,000 requests and 2,000 bookings over a year, as bulk_create stores them."""
    DemoData(weeks=52, seed=4).create(10_000, 2_000)


# What every admin page asks: for its login the session (read, then saved in a
# savepoint, SESSION_SAVE_EVERY_REQUEST), the user and their permissions; the
# clinic's details for the header.
LOGIN_QUERIES = ("django_session", '"auth_', "SAVEPOINT", "pages_clinicdetails")


def page_queries(client, url, query=None):
    """The queries of one page beyond those every admin page makes, and the page."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    own = [
        each["sql"]
        for each in captured.captured_queries
        if not any(marker in each["sql"] for marker in LOGIN_QUERIES)
    ]
    return own, response


def test_reports_run_at_most_ten_queries_at_size(at_size, reporter):
    reporter.get("/admin/")  # the session's first use

    own, response = page_queries(reporter, URL, {"weeks": "52"})

    assert response.status_code == 200
    assert len(own) <= 10, "\n".join(own)
    assert ConsultationRequest.objects.count() == 10_000
    assert Booking.objects.count() == 2_000
    assert response.text.count('class="report-chart"') == 6
    for figure in ("requests-per-week", "articles"):
        csv_queries, _ = page_queries(reporter, f"{URL}{figure}.csv", {"weeks": "52"})
        assert len(csv_queries) <= 2

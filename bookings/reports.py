"""
The reports page: the clinic's figures from its own data, each counted by one
SQL aggregate, drawn on the server as an SVG chart, with the same figures in a
table and a CSV file.

Any count of fewer than REPORTS_MIN_CELL_SIZE people shows as "<5" and is left
empty in the CSV, so a report can be shared without identifying anyone; a rate
or time worked out from such a count is not shown either.
"""

import csv
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Window
from django.db.models.functions import CumeDist, TruncWeek
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.generic import TemplateView, View

from .admin import spreadsheet_safe
from .models import Booking, ConsultationRequest, Treatment

logger = logging.getLogger(__name__)

WEEK_CHOICES = ((12, "The last 12 weeks"), (52, "The last 52 weeks"))
# Enough for comparing years; a longer range would draw weeks too thin to read.
LONGEST_PERIOD = timedelta(days=3 * 366)
# Articles with most requests drawn in the chart; the table lists them all.
CHART_ARTICLES = 10


def clinic_zone():
    return timezone.get_default_timezone()


def local_midnight(day):
    return datetime.combine(day, datetime.min.time()).replace(tzinfo=clinic_zone())


class Cell(NamedTuple):
    """A count of people as a report shows it: "<5" below the minimum, even 0."""

    value: int

    @property
    def suppressed(self):
        return self.value < settings.REPORTS_MIN_CELL_SIZE

    @property
    def amount(self):
        """The number to draw; None when it must not be shown."""
        return None if self.suppressed else self.value

    @property
    def csv_value(self):
        return "" if self.suppressed else self.value

    def __str__(self):
        if self.suppressed:
            return f"<{settings.REPORTS_MIN_CELL_SIZE}"
        return f"{self.value:,}"


class Share(NamedTuple):
    """A part of a whole in per cent, shown only when both counts may be."""

    part: Cell
    whole: Cell

    @property
    def suppressed(self):
        return self.part.suppressed or self.whole.suppressed

    @property
    def amount(self):
        return None if self.suppressed else 100 * self.part.value / self.whole.value

    @property
    def csv_value(self):
        return "" if self.suppressed else round(self.amount, 1)

    def __str__(self):
        return "not shown" if self.suppressed else f"{self.amount:.0f}%"


class Hours(NamedTuple):
    """A waiting time of a group of people, shown only when the group may be."""

    duration: timedelta | None
    people: Cell

    @property
    def suppressed(self):
        return self.people.suppressed or self.duration is None

    @property
    def amount(self):
        return None if self.suppressed else self.duration.total_seconds() / 3600

    @property
    def csv_value(self):
        return "" if self.suppressed else round(self.amount, 1)

    def __str__(self):
        return "not shown" if self.suppressed else f"{self.amount:.1f} h"


def csv_value(item):
    return getattr(item, "csv_value", item)


# Chart geometry: across in per cent of the chart's width, down in pixels, so
# that the chart fills a phone or a desktop with its text at the same size.
LABEL_HEIGHT = 18
BAR_HEIGHT = 18
GROUP_GAP = 10
BAR_ROOM = 84
WEEKS_HEIGHT = 220
WEEKS_LEFT, WEEKS_BOTTOM, WEEKS_TOP = 12, 30, 10


class Bar(NamedTuple):
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str


class Label(NamedTuple):
    x: float
    y: float
    text: str
    anchor: str = "start"


class Line(NamedTuple):
    x1: float
    y: float
    x2: float


@dataclass
class Chart:
    summary: str
    height: float
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[int, str]] = field(default_factory=list)


def nice_ceiling(value):
    """The smallest 1, 2 or 5 times a power of ten at or above value."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def top_of(groups):
    amounts = [value.amount for _, values in groups for value in values]
    return nice_ceiling(max((amount for amount in amounts if amount), default=1))


def bar_chart(summary, series, groups):
    """
    Horizontal bars: for each (label, values) group its label, then one bar
    per series; values have an `amount`, None when not shown.
    """
    scale = BAR_ROOM / top_of(groups)
    chart = Chart(summary, 0)
    if len(series) > 1:
        chart.legend = list(enumerate(series))
    y = 0
    for label, values in groups:
        chart.labels.append(Label(0, y + 13, label))
        y += LABEL_HEIGHT
        for index, value in enumerate(values):
            length = round((value.amount or 0) * scale, 2)
            if value.amount:
                chart.bars.append(
                    Bar(
                        0, y, length, BAR_HEIGHT - 4, index, f"{series[index]}: {value}"
                    )
                )
            chart.labels.append(Label(round(length + 1, 2), y + 12, str(value)))
            y += BAR_HEIGHT
        y += GROUP_GAP
    chart.height = y
    return chart


def weeks_chart(summary, series, weeks):
    """Columns per week: weeks is a list of (monday, values), one per series."""
    plot_width = 100 - WEEKS_LEFT
    plot_height = WEEKS_HEIGHT - WEEKS_TOP - WEEKS_BOTTOM
    bottom = WEEKS_TOP + plot_height
    top = top_of(weeks)
    chart = Chart(summary, WEEKS_HEIGHT, legend=list(enumerate(series)))
    for tick in (0, top / 2, top):
        y = round(bottom - tick / top * plot_height, 1)
        chart.lines.append(Line(WEEKS_LEFT, y, 100))
        chart.labels.append(Label(WEEKS_LEFT - 1, y + 4, f"{tick:,.0f}", "end"))
    slot = plot_width / max(len(weeks), 1)
    bar_width = slot * 0.8 / len(series)
    every = math.ceil(len(weeks) / 5)
    for position, (monday, values) in enumerate(weeks):
        left = WEEKS_LEFT + position * slot + slot * 0.1
        for index, value in enumerate(values):
            if value.amount:
                height = value.amount / top * plot_height
                chart.bars.append(
                    Bar(
                        round(left + index * bar_width, 2),
                        round(bottom - height, 1),
                        round(bar_width, 2),
                        round(height, 1),
                        index,
                        f"Week of {monday:%d %b %Y}, {series[index].lower()}: {value}",
                    )
                )
        if position % every == 0:
            chart.labels.append(
                Label(
                    round(left + slot * 0.4, 2),
                    WEEKS_HEIGHT - 10,
                    dateformat.format(monday, "j M"),
                    "middle",
                )
            )
    return chart


@dataclass
class Figure:
    slug: str
    title: str
    description: str
    columns: list[str]
    rows: list[list]
    chart: Chart

    def csv_rows(self):
        yield self.columns
        for row in self.rows:
            yield [spreadsheet_safe(csv_value(item)) for item in row]


class ReportFilterForm(forms.Form):
    weeks = forms.TypedChoiceField(
        label="Period",
        choices=WEEK_CHOICES,
        coerce=int,
        required=False,
        empty_value=WEEK_CHOICES[0][0],
    )
    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Or choose the first and last day.",
        error_messages={"invalid": "Please enter the first day as a date."},
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Please enter the last day as a date."},
    )
    treatment = forms.TypedChoiceField(
        label="Treatment", coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, treatments, **kwargs):
        super().__init__(*args, **kwargs)
        self.treatments = {treatment.pk: treatment for treatment in treatments}
        self.fields["treatment"].choices = [("", "All treatments")] + [
            (treatment.pk, treatment.name) for treatment in treatments
        ]

    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("start"), cleaned_data.get("end")
        if start and end and end < start:
            self.add_error(
                "end",
                forms.ValidationError(
                    "The last day cannot be before the first day.",
                    code="end_before_start",
                ),
            )
        elif start and (end or timezone.localdate()) - start > LONGEST_PERIOD:
            self.add_error(
                "start",
                forms.ValidationError(
                    "Please choose at most three years.", code="too_long"
                ),
            )
        return cleaned_data

    def chosen_period(self):
        """The first and last day to count; the last 12 weeks if the form is wrong."""
        data = self.cleaned_data if self.is_valid() else {}
        last_day = data.get("end") or timezone.localdate()
        weeks = data.get("weeks") or WEEK_CHOICES[0][0]
        monday = last_day - timedelta(days=last_day.weekday())
        first_day = data.get("start") or monday - timedelta(weeks=weeks - 1)
        return first_day, last_day

    def chosen_treatment(self):
        data = self.cleaned_data if self.is_valid() else {}
        return self.treatments.get(data.get("treatment"))


class Report:
    """The figures of one period, for one treatment or all."""

    def __init__(self, first_day, last_day, treatment=None):
        self.first_day, self.last_day, self.treatment = first_day, last_day, treatment
        self.starts = local_midnight(first_day)
        self.ends = local_midnight(last_day + timedelta(days=1))

    @property
    def period_text(self):
        first = dateformat.format(self.first_day, "j F Y")
        last = dateformat.format(self.last_day, "j F Y")
        return f"{first} to {last}"

    def consultations(self):
        """The period's requests (call-backs and bookings), spam left out."""
        consultations = ConsultationRequest.objects.not_spam().filter(
            created_at__gte=self.starts, created_at__lt=self.ends
        )
        if self.treatment:
            consultations = consultations.filter(treatment=self.treatment)
        return consultations

    def figures(self, treatments):
        return [
            self.requests_per_week(),
            self.time_to_first_contact(),
            self.outcomes(treatments),
            self.booking_results(),
            *self.sources(),
        ]

    def figure(self, slug, treatments):
        """One figure by its slug, counting only what it needs; None if unknown."""
        makers = {
            "requests-per-week": self.requests_per_week,
            "first-contact": self.time_to_first_contact,
            "outcomes": lambda: self.outcomes(treatments),
            "bookings": self.booking_results,
            "heard-about": lambda: self.sources()[0],
            "articles": lambda: self.sources()[1],
        }
        maker = makers.get(slug)
        return maker() if maker else None

    def mondays(self):
        monday = self.first_day - timedelta(days=self.first_day.weekday())
        while monday <= self.last_day:
            yield monday
            monday += timedelta(weeks=1)

    def requests_per_week(self):
        counted = {
            timezone.localtime(row["week"], clinic_zone()).date(): row
            for row in self.consultations()
            .annotate(week=TruncWeek("created_at", tzinfo=clinic_zone()))
            .values("week")
            .annotate(requests=Count("pk"), bookings=Count("booking"))
            .order_by("week")
        }
        rows = []
        for monday in self.mondays():
            row = counted.get(monday, {})
            rows.append(
                [monday, Cell(row.get("requests", 0)), Cell(row.get("bookings", 0))]
            )
        series = ["Requests", "Bookings"]
        chart = weeks_chart(
            f"Requests and bookings per week, {self.period_text}. "
            "The table below gives the figures.",
            series,
            [(monday, values) for monday, *values in rows],
        )
        return Figure(
            "requests-per-week",
            "Requests and bookings per week",
            "Requests received each week (Monday to Sunday, clinic time), and how "
            "many of them came with a booked time.",
            ["Week starting", "Requests", "Of them booked"],
            rows,
            chart,
        )

    def time_to_first_contact(self):
        waited = ExpressionWrapper(
            F("first_attempt") - F("created_at"), DurationField()
        )
        figures = (
            self.consultations()
            .annotate(first_attempt=Min("contact_attempts__attempted_at"))
            .filter(first_attempt__isnull=False)
            .annotate(waited=waited)
            .annotate(share=Window(CumeDist(), order_by=F("waited").asc()))
            .aggregate(
                people=Count("pk"),
                median=Min("waited", filter=Q(share__gte=0.5)),
                p90=Min("waited", filter=Q(share__gte=0.9)),
            )
        )
        people = Cell(figures["people"])
        median, p90 = Hours(figures["median"], people), Hours(figures["p90"], people)
        rows = [
            ["Requests with a contact attempt", people],
            ["Median (half waited at most)", median],
            ["90th percentile (9 in 10 waited at most)", p90],
        ]
        chart = bar_chart(
            f"Hours from request to first contact attempt: median {median}, "
            f"90th percentile {p90}.",
            ["Hours"],
            [("Median", [median]), ("90th percentile", [p90])],
        )
        return Figure(
            "first-contact",
            "Time from request to first contact attempt",
            "Clock hours from receiving a request to the first recorded call, "
            "text or e-mail to the patient, for the period's requests that have one.",
            ["Figure", "Value"],
            rows,
            chart,
        )

    def outcomes(self, treatments):
        counted = {
            (row["treatment"], row["outcome"]): row["people"]
            for row in self.consultations()
            .exclude(outcome="")
            .values("treatment", "outcome")
            .annotate(people=Count("pk"))
            .order_by()
        }
        shown = [self.treatment] if self.treatment else treatments
        outcomes = ConsultationRequest.Outcome.choices
        rows = [
            [
                treatment.name,
                *(Cell(counted.get((treatment.pk, value), 0)) for value, _ in outcomes),
            ]
            for treatment in shown
            if any(key[0] == treatment.pk for key in counted)
        ]
        series = [label for _, label in outcomes]
        chart = bar_chart(
            "Outcomes of closed requests per treatment. "
            "The table below gives the figures.",
            series,
            [(row[0], row[1:]) for row in rows],
        )
        return Figure(
            "outcomes",
            "Outcomes per treatment",
            "The outcome staff recorded when closing the period's requests.",
            ["Treatment", *series],
            rows,
            chart,
        )

    def booking_results(self):
        bookings = Booking.objects.filter(
            starts_at__gte=self.starts, starts_at__lt=self.ends
        )
        if self.treatment:
            bookings = bookings.filter(consultation__treatment=self.treatment)
        counted = dict(
            bookings.values("status")
            .annotate(people=Count("pk"))
            .values_list("status", "people")
        )
        status = Booking.Status
        cells = {value: Cell(counted.get(value, 0)) for value in status.values}
        total = Cell(sum(counted.values()))
        recorded = Cell(
            counted.get(status.ATTENDED, 0) + counted.get(status.NO_SHOW, 0)
        )
        no_show_rate = Share(cells[status.NO_SHOW], recorded)
        cancellation_rate = Share(cells[status.CANCELLED], total)
        labels = {
            status.ATTENDED: "Attended",
            status.NO_SHOW: "Did not come",
            status.CANCELLED: "Cancelled",
            status.CONFIRMED: "Confirmed, not yet recorded",
        }
        rows = [[label, cells[value]] for value, label in labels.items()]
        rows += [
            ["No-show rate (of those whose attendance was recorded)", no_show_rate],
            ["Cancellation rate (of all bookings)", cancellation_rate],
        ]
        chart = bar_chart(
            f"Bookings by result: no-show rate {no_show_rate}, cancellation rate "
            f"{cancellation_rate}. The table below gives the figures.",
            ["Bookings"],
            [(label, [cells[value]]) for value, label in labels.items()],
        )
        return Figure(
            "bookings",
            "No-shows and cancellations",
            "Bookings whose time falls in the period, by what became of them.",
            ["Result", "Bookings or rate"],
            rows,
            chart,
        )

    def sources(self):
        """Two figures from one count: the form's answer, and the article."""
        heard, articles = {}, {}
        for row in (
            self.consultations()
            .values("heard_about", "source_article__title")
            .annotate(people=Count("pk"))
            .order_by()
        ):
            heard[row["heard_about"]] = heard.get(row["heard_about"], 0) + row["people"]
            title = row["source_article__title"]
            articles[title] = articles.get(title, 0) + row["people"]
        choices = [*ConsultationRequest.HeardAbout.choices, ("", "Not answered")]
        heard_rows = [[label, Cell(heard.get(value, 0))] for value, label in choices]
        article_rows = [
            [title, Cell(people)]
            for title, people in sorted(
                ((title, people) for title, people in articles.items() if title),
                key=lambda item: (-item[1], item[0]),
            )
        ] + [["No article (came to the form directly)", Cell(articles.get(None, 0))]]
        return [
            Figure(
                "heard-about",
                "How they heard about us",
                "The answer to the form's “How did you hear about us?”.",
                ["Answer", "Requests"],
                heard_rows,
                bar_chart(
                    "Requests by how they heard about us. "
                    "The table below gives the figures.",
                    ["Requests"],
                    [(label, [cell]) for label, cell in heard_rows],
                ),
            ),
            Figure(
                "articles",
                "The article that led them to the form",
                "The article whose link patients followed to the form, recorded "
                "with their request: no cookie, no tracker.",
                ["Article", "Requests"],
                article_rows,
                bar_chart(
                    f"Requests by the article they came from, the first "
                    f"{CHART_ARTICLES}. The table below gives the figures.",
                    ["Requests"],
                    [(title, [cell]) for title, cell in article_rows[:CHART_ARTICLES]],
                ),
            ),
        ]


class ReportAccessMixin:
    """Only staff with the reports permission; the filters from the query string."""

    admin_site = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("bookings.view_reports"):
            raise PermissionDenied
        self.treatments = list(Treatment.objects.all())
        self.form = ReportFilterForm(request.GET or None, treatments=self.treatments)
        self.report = Report(*self.form.chosen_period(), self.form.chosen_treatment())
        return super().dispatch(request, *args, **kwargs)


class ReportsView(ReportAccessMixin, TemplateView):
    template_name = "admin/bookings/reports.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.urlencode()
        figures = [
            (
                figure,
                reverse("admin:reports_csv", args=[figure.slug])
                + (f"?{query}" if query else ""),
            )
            for figure in self.report.figures(self.treatments)
        ]
        return super().get_context_data(**kwargs) | {
            **self.admin_site.each_context(self.request),
            "title": "Reports",
            "form": self.form,
            "report": self.report,
            "figures": figures,
            "min_cell_size": settings.REPORTS_MIN_CELL_SIZE,
        }


class ReportCSVView(ReportAccessMixin, View):
    def get(self, request, slug):
        figure = self.report.figure(slug, self.treatments)
        if figure is None:
            raise Http404
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"{slug}-{self.report.first_day}-to-{self.report.last_day}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        csv.writer(response).writerows(figure.csv_rows())
        logger.info("User %s downloaded the report %s", request.user.pk, slug)
        return response

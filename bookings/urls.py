from datetime import UTC, datetime

from django.urls import path, register_converter

from . import views


class UTCTimeConverter:
    """
    A time in UTC such as 20261203T1400Z: a local time can happen twice. Years
    2000 to 2999 only, so that the clinic's local time always exists.
    """

    regex = r"2[0-9]{7}T[0-9]{4}Z"
    format = "%Y%m%dT%H%MZ"

    def to_python(self, value):
        return datetime.strptime(value, self.format).replace(tzinfo=UTC)

    def to_url(self, value):
        return value.astimezone(UTC).strftime(self.format)


register_converter(UTCTimeConverter, "utc")

app_name = "bookings"

urlpatterns = [
    path("consultation/", views.ConsultationRequestView.as_view(), name="request"),
    path("consultation/thanks/", views.ThanksView.as_view(), name="thanks"),
    path("consultation/book/", views.ConsultationTypeListView.as_view(), name="book"),
    path("consultation/booked/", views.BookedView.as_view(), name="booked"),
    path(
        "consultation/book/<slug:slug>/",
        views.BookingDaysView.as_view(),
        name="book_days",
    ),
    path(
        "consultation/book/<slug:slug>/<utc:starts_at>/",
        views.BookingDetailsView.as_view(),
        name="book_time",
    ),
    path(
        "consultation/book/<slug:slug>/waitlist/",
        views.WaitlistView.as_view(),
        name="waitlist",
    ),
    path(
        "consultation/book/<slug:slug>/waitlist/thanks/",
        views.WaitlistThanksView.as_view(),
        name="waitlist_thanks",
    ),
    path(
        "consultation/waitlist/<str:token>/leave/",
        views.LeaveWaitlistView.as_view(),
        name="waitlist_leave",
    ),
    path(
        "consultation/booking/<str:token>/",
        views.ManageBookingView.as_view(),
        name="manage",
    ),
    path(
        "consultation/booking/<str:token>/cancel/",
        views.CancelBookingView.as_view(),
        name="manage_cancel",
    ),
    path(
        "consultation/booking/<str:token>/move/",
        views.MoveBookingView.as_view(),
        name="manage_move",
    ),
    path(
        "calendars/<str:token>.ics",
        views.CalendarFeedView.as_view(),
        name="calendar_feed",
    ),
]

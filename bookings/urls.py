from django.urls import path

from . import views

app_name = "bookings"

urlpatterns = [
    path("consultation/", views.ConsultationRequestView.as_view(), name="request"),
    path("consultation/thanks/", views.ThanksView.as_view(), name="thanks"),
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

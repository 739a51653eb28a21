from django.urls import path

from . import views

app_name = "bookings"

urlpatterns = [
    path("consultation/", views.ConsultationRequestView.as_view(), name="request"),
    path("consultation/thanks/", views.ThanksView.as_view(), name="thanks"),
]

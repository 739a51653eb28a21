from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Consultation requests"

    def ready(self):
        from .caching import connect_availability_signals

        connect_availability_signals()

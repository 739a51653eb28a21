from django.apps import AppConfig
from django.core import checks

from .encryption import check_encryption_keys


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Consultation requests"

    def ready(self):
        checks.register(check_encryption_keys)
        from .caching import connect_availability_signals

        connect_availability_signals()

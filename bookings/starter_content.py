"""The example consultation types and calendar that `load_starter_content` adds."""

from datetime import time

from .caching import availability_changed
from .models import ConsultationType, StaffCalendar, WeeklyHours

CONSULTATION_TYPES = [
    {
        "name": "Free phone consultation",
        "slug": "free-phone-consultation",
        "duration_minutes": 15,
        "buffer_minutes": 0,
        "location": ConsultationType.Location.PHONE,
        "order": 10,
        "preparation": "We will call the number you gave. Have a list of your "
        "current medicines at hand, and any questions you would like to ask.",
    },
    {
        "name": "In-clinic consultation",
        "slug": "in-clinic-consultation",
        "duration_minutes": 45,
        "buffer_minutes": 15,
        "location": ConsultationType.Location.CLINIC,
        "order": 20,
        "preparation": "Please arrive ten minutes early. Bring a photo ID, your "
        "insurance card and a list of your current medicines.",
    },
]
CALENDAR = "Clinic team"
WEEKDAYS = WeeklyHours.Weekday.values[:5]
OPENS, CLOSES = time(9), time(17)


def load_booking_setup(report):
    """
    Add what is missing of the example set-up, leaving existing records as staff
    saved them; report(model, name, created) for each.
    """
    types = []
    for fields in CONSULTATION_TYPES:
        fields = dict(fields)
        consultation_type, created = ConsultationType.objects.get_or_create(
            slug=fields.pop("slug"),
            defaults=fields | {"notice_hours": 4, "horizon_days": 30},
        )
        types.append(consultation_type)
        report(ConsultationType, consultation_type.name, created)

    calendar, created = StaffCalendar.objects.get_or_create(name=CALENDAR)
    if created:
        calendar.consultation_types.set(types)
        WeeklyHours.objects.bulk_create(
            WeeklyHours(calendar=calendar, weekday=day, starts=OPENS, ends=CLOSES)
            for day in WEEKDAYS
        )
        # bulk_create sends no signal.
        availability_changed()
    report(StaffCalendar, calendar.name, created)

import secrets

from django.db import migrations, models

import bookings.models


def give_each_calendar_its_token(apps, schema_editor):
    # The column's default is computed once for all existing rows: give each its own.
    StaffCalendar = apps.get_model("bookings", "StaffCalendar")
    for calendar in StaffCalendar.objects.all():
        calendar.feed_token = secrets.token_urlsafe(32)
        calendar.save(update_fields=["feed_token"])


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0007_booking_messages"),
    ]

    operations = [
        migrations.AddField(
            model_name="staffcalendar",
            name="feed_token",
            field=models.CharField(
                default=bookings.models.new_feed_token,
                editable=False,
                max_length=64,
                null=True,
            ),
        ),
        migrations.RunPython(give_each_calendar_its_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="staffcalendar",
            name="feed_token",
            field=models.CharField(
                default=bookings.models.new_feed_token,
                editable=False,
                help_text="The secret part of the calendar feed's address.",
                max_length=64,
                unique=True,
            ),
        ),
    ]

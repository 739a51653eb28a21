from django.contrib.auth.management import create_permissions
from django.db import migrations

FRONT_DESK = "Front desk"
FRONT_DESK_PERMISSIONS = [
    ("consultationtype", ["view"]),
    ("staffcalendar", ["view"]),
    ("weeklyhours", ["view"]),
    ("closeddates", ["view"]),
    ("extrahours", ["view"]),
    ("booking", ["view", "change"]),
]


def codenames():
    return [
        f"{action}_{model}" for model, actions in FRONT_DESK_PERMISSIONS for action in actions
    ]


def front_desk_permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="bookings", codename__in=codenames()
    )


def add_booking_rights(apps, schema_editor):
    # Permissions are normally created after all migrations; this group needs them now.
    bookings = apps.get_app_config("bookings")
    bookings.models_module = True
    create_permissions(bookings, apps=apps, verbosity=0)
    bookings.models_module = None

    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=FRONT_DESK)
    group.permissions.add(*front_desk_permissions(apps))


def remove_booking_rights(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=FRONT_DESK):
        group.permissions.remove(*front_desk_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("bookings", "0005_booking_setup"),
    ]

    operations = [
        migrations.RunPython(add_booking_rights, remove_booking_rights),
    ]

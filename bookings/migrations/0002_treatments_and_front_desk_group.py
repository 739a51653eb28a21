from django.contrib.auth.management import create_permissions
from django.db import migrations

TREATMENTS = [
    ("Fibromyalgia", "fibromyalgia", 10),
    ("Other chronic pain", "chronic-pain", 20),
    ("Depression", "depression", 30),
    ("Anxiety or PTSD", "anxiety-ptsd", 40),
    ("Other", "other", 90),
]
FRONT_DESK = "Front desk"
FRONT_DESK_PERMISSIONS = [
    ("consultationrequest", ["view", "change"]),
    ("contactattempt", ["view", "add", "change"]),
    ("blockedsender", ["view", "add"]),
    ("treatment", ["view"]),
]


def add_treatments(apps, schema_editor):
    Treatment = apps.get_model("bookings", "Treatment")
    for name, slug, order in TREATMENTS:
        Treatment.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})


def add_front_desk_group(apps, schema_editor):
    # Permissions are normally created after all migrations; this group needs them now.
    bookings = apps.get_app_config("bookings")
    bookings.models_module = True
    create_permissions(bookings, apps=apps, verbosity=0)
    bookings.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=FRONT_DESK)
    codenames = [
        f"{action}_{model}" for model, actions in FRONT_DESK_PERMISSIONS for action in actions
    ]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="bookings", codename__in=codenames)
    )


def remove_front_desk_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=FRONT_DESK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("bookings", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add_treatments, migrations.RunPython.noop),
        migrations.RunPython(add_front_desk_group, remove_front_desk_group),
    ]

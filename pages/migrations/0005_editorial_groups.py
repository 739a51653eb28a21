import hashlib
import json

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Writers": [
        "add_article",
        "change_article",
        "view_article",
        "add_page",
        "change_page",
        "view_page",
        "add_topic",
        "change_topic",
        "view_topic",
    ],
    "Clinical reviewers": [
        "approve_article",
        "change_article",
        "view_article",
        "view_page",
        "view_topic",
    ],
    "Publishers": [
        "change_article",
        "delete_article",
        "publish_article",
        "view_article",
        "view_page",
        "view_topic",
    ],
}


def make_groups(apps, schema_editor):
    # The permissions of this app's models exist only after its migrations
    # ran (post_migrate): make them now, the custom ones included.
    app_config = apps.get_app_config("pages")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="pages", codename__in=codenames
            )
        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


def fingerprint(text):
    """pages.models.fingerprint as it was when this migration was written."""
    return hashlib.sha256(json.dumps(text, sort_keys=True).encode()).hexdigest()


def approve_published_articles(apps, schema_editor):
    """What was public before the review workflow counts as its approved text."""
    Article = apps.get_model("pages", "Article")
    for article in Article.objects.filter(status="published"):
        text = {
            "title": article.title,
            "summary": article.summary,
            "body": article.body,
            "hero_image": article.hero_image.name or "",
            "hero_image_alt": article.hero_image_alt,
        }
        article.review_state = "approved"
        article.approved_fingerprint = fingerprint(text)
        article.save(update_fields=["review_state", "approved_fingerprint"])


def forget_approvals(apps, schema_editor):
    apps.get_model("pages", "Article").objects.update(
        review_state="editing", approved_fingerprint=""
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("pages", "0004_article_review_workflow"),
    ]

    operations = [
        migrations.RunPython(make_groups, remove_groups),
        migrations.RunPython(approve_published_articles, forget_approvals),
    ]

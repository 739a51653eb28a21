import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission


@pytest.fixture
def editor_client(client, django_user_model):
    """A staff login that may add and change articles, and nothing else."""
    editor = django_user_model.objects.create_user(
        "editor", password="a long passphrase", is_staff=True
    )
    editor.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="pages",
            codename__in=["add_article", "change_article", "view_article"],
        )
    )
    client.force_login(editor)
    return client


def approve_and_publish(article):
    """Publish an article the way the admin does: approve its text, publish it."""
    chief, _ = get_user_model().objects.get_or_create(
        username="chief", defaults={"is_staff": True, "is_superuser": True}
    )
    article.approve(by=chief)
    article.publish(by=chief)
    article.refresh_from_db()
    return article

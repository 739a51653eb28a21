import importlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from playwright.sync_api import expect

from pages.models import StaffProfile
from tests.bookings.conftest import smtp_server  # noqa: F401 - the loopback SMTP fixture


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


@pytest.fixture
def editorial_groups(db):
    """
    The groups the migration makes, with its permissions (tests that flush the
    database, such as browser tests, remove them).
    """
    migration = importlib.import_module("pages.migrations.0006_article_review_workflow")
    for name, codenames in migration.GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="pages", codename__in=codenames
            )
        )


@pytest.fixture
def make_staff(editorial_groups, django_user_model):
    def make(username, *groups, profile=None, password=None):
        """A staff login in these groups; without a password, for force_login."""
        user = django_user_model.objects.create_user(
            username, email=f"{username}@clinic.example", is_staff=True
        )
        if password:
            user.set_password(password)
            user.save()
        user.groups.set(Group.objects.filter(name__in=groups))
        if profile:
            StaffProfile.objects.create(
                user=user, display_name=profile[0], credentials=profile[1]
            )
        return user

    return make


@pytest.fixture
def writer(make_staff):
    return make_staff("wendy", "Writers", profile=("Wendy Writer", ""))


@pytest.fixture
def reviewer(make_staff):
    return make_staff("rita", "Clinical reviewers", profile=("Dr. Rita Ames", "MD"))


@pytest.fixture
def publisher(make_staff):
    return make_staff("paul", "Publishers", profile=("Paul Price", ""))


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_page(live_server, page, admin_user, clinic):
    """A browser page logged in to the admin as a superuser."""
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page

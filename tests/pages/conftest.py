import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect


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


@pytest.fixture
def staff_page(live_server, page, admin_user, clinic):
    """A browser page logged in to the admin as a superuser."""
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page

"""Every admin page waits for the second step of the login."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, get_resolver, reverse

from tests.staff_mfa.conftest import log_in, log_in_verified, make_app

# The login itself, and the pages that take its second step.
BEFORE_SECOND_STEP = {"login", "logout", "mfa_verify", "mfa_enrol"}


def site_wide_urls():
    admin_resolver = get_resolver().namespace_dict["admin"][1]
    for name in admin_resolver.reverse_dict:
        if isinstance(name, str) and name not in BEFORE_SECOND_STEP:
            try:
                yield reverse(f"admin:{name}")
            except NoReverseMatch:
                continue  # needs an object: below


def app_urls():
    for app_label in {model._meta.app_label for model in admin.site._registry}:
        yield reverse("admin:app_list", kwargs={"app_label": app_label})


def object_urls():
    for model in admin.site._registry:
        obj = model._default_manager.first()
        if obj is None:
            continue
        info = (model._meta.app_label, model._meta.model_name)
        for view in ("change", "delete", "history"):
            try:
                yield reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[obj.pk])
            except NoReverseMatch:
                continue


@pytest.fixture
def every_admin_url(superuser, starter_content):
    urls = sorted({*site_wide_urls(), *app_urls(), *object_urls()})
    assert len(urls) > 80
    return urls


@pytest.fixture
def password_only(superuser):
    client = Client()
    log_in(client, username="director")
    return client


@pytest.mark.parametrize("method", ["get", "post"])
def test_no_admin_page_opens_before_the_second_step(
    every_admin_url, password_only, method
):
    opened = {}
    for url in every_admin_url:
        response = getattr(password_only, method)(url)
        if not (
            response.status_code == 302
            and response["Location"].startswith("/admin/two-factor/set-up/")
        ):
            opened[url] = response.status_code
    assert opened == {}


def test_a_staff_member_with_a_device_is_sent_to_the_code(superuser, password_only):
    make_app(superuser)

    response = password_only.get("/admin/pages/article/?q=x")

    assert response["Location"] == (
        "/admin/two-factor/verify/?next=%2Fadmin%2Fpages%2Farticle%2F%3Fq%3Dx"
    )


def test_every_admin_page_opens_after_the_second_step(every_admin_url, superuser):
    client = log_in_verified(Client(), superuser, make_app(superuser))

    sent_back = [
        url
        for url in every_admin_url
        if "/two-factor/" in client.get(url).get("Location", "")
    ]

    assert sent_back == []


def test_passkeys_cannot_be_added_by_a_password_alone(superuser, password_only):
    make_app(superuser)

    response = password_only.post("/admin/passkeys/registration/begin/")

    assert response.status_code == 403
    assert "verify your identity" in response.json()["detail"]


def test_a_passkey_alone_logs_nobody_in(db):
    response = Client().post("/admin/passkeys/authentication/begin/")

    assert response.status_code == 403

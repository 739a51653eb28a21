"""
Generated hostile input against every public URL and form: nothing answers 500.

The test client re-raises any exception a view raises, so a crash fails the test
even before its status code is checked.
"""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PUBLIC_URLS = [
    "/",
    "/articles/",
    "/articles/ketamine-therapy-for-fibromyalgia/",
    "/topics/fibromyalgia/",
    "/about/",
    "/privacy-policy/",
    "/consultation/",
    "/consultation/thanks/",
    "/healthz",
]
SLUG_ROUTES = ["/articles/{}/", "/topics/{}/", "/{}/"]
TRAVERSAL = [
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/settings.py",
    "....//....//",
    "%00",
    "%c0%ae%c0%ae/",
    "..\\..\\windows",
    "admin/../../",
    "%ff%fe",
]
hypothesis_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
url_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80
)


def assert_handled(response):
    assert response.status_code < 500, response.status_code


@pytest.fixture
def site(starter_content):
    return Client()


@hypothesis_settings
@given(segment=url_text)
def test_generated_slugs_never_crash(site, segment):
    from urllib.parse import quote

    for route in SLUG_ROUTES:
        assert_handled(site.get(route.format(quote(segment, safe=""))))


@pytest.mark.parametrize("attack", TRAVERSAL)
@pytest.mark.parametrize("route", SLUG_ROUTES + ["/static/{}", "/media/{}"])
def test_path_traversal_is_refused(site, route, attack):
    response = site.get(route.format(attack))

    assert response.status_code in (301, 302, 400, 404)
    assert b"root:" not in response.content
    assert b"SECRET_KEY" not in response.content


@hypothesis_settings
@given(query=st.dictionaries(url_text, url_text, max_size=5))
def test_generated_query_strings_never_crash(site, query):
    for url in PUBLIC_URLS:
        assert_handled(site.get(url, query))


@hypothesis_settings
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                "full_name",
                "email",
                "phone",
                "preferred_contact",
                "treatment",
                "preferred_days",
                "preferred_time",
                "message",
                "heard_about",
                "consent",
                "website",
                "form_token",
                "csrfmiddlewaretoken",
            ]
        )
        | url_text,
        st.one_of(url_text, st.lists(url_text, max_size=3)),
        max_size=14,
    )
)
def test_generated_form_posts_never_crash(site, data):
    assert_handled(site.post("/consultation/", data))


@hypothesis_settings
@given(body=st.binary(max_size=2000))
def test_invalid_utf8_and_random_bytes_never_crash(site, body):
    for content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/json",
    ):
        assert_handled(site.post("/consultation/", body, content_type=content_type))


@pytest.mark.parametrize(
    "body",
    [
        b'--xyz\r\nContent-Disposition: form-data; name="full_name"\r\n\r\nMaria',
        b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xyz--",
        b"--xyz\r\n\r\n\r\n--xyz--",
        b'--wrong\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--wrong--',
        b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="../../x"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + b"A" * 5000 + b"\r\n--xyz--\r\n",
    ],
)
def test_malformed_multipart_is_answered(site, body):
    response = site.post(
        "/consultation/", body, content_type="multipart/form-data; boundary=xyz"
    )

    assert_handled(response)


def test_oversized_bodies_are_refused(site):
    huge_field = {"message": "x" * 3_000_000}
    many_fields = {f"field{n}": "x" for n in range(1500)}

    assert site.post("/consultation/", huge_field).status_code == 400
    assert site.post("/consultation/", many_fields).status_code == 400


@pytest.mark.parametrize("method", ["put", "patch", "delete", "trace"])
@pytest.mark.parametrize("url", PUBLIC_URLS[:-1])
def test_unexpected_methods_are_refused(site, method, url):
    response = getattr(site, method)(url)

    assert response.status_code == 405


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_head_and_options_work(site, url):
    assert_handled(site.head(url))
    assert_handled(site.options(url))


ADMIN_URLS = [
    "/admin/",
    "/admin/pages/article/",
    "/admin/pages/article/add/",
    "/admin/bookings/consultationrequest/",
    "/admin/bookings/consultationrequest/1/change/",
    "/admin/auth/user/",
    "/admin/axes/accessattempt/",
]


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_admin_is_unreachable_for_anonymous_visitors(site, url):
    response = site.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", ADMIN_URLS[1:])
def test_admin_is_unreachable_for_staff_without_permission(site, db, url):
    staff = User.objects.create_user("intern", password="x" * 20, is_staff=True)
    site.force_login(staff)

    assert site.get(url).status_code in (403, 404)


def test_patients_cannot_reach_the_admin_by_being_logged_in(site, db):
    patient = User.objects.create_user("patient", password="x" * 20)
    site.force_login(patient)

    response = site.get("/admin/")

    assert response.status_code == 302

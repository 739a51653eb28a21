import pytest

PUBLIC_URLS = [
    "/",
    "/articles/",
    "/articles/ketamine-therapy-for-fibromyalgia/",
    "/topics/fibromyalgia/",
    "/about/",
    "/consultation/",
    "/no-such-page/",
    "/admin/login/",
    "/healthz",
]


def directives(policy):
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_security_headers_on_every_response(client, starter_content, url):
    response = client.get(url)

    csp = directives(response["Content-Security-Policy"])
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


def test_public_pages_allow_no_inline_styles_either(client, starter_content):
    csp = directives(client.get("/").headers["Content-Security-Policy"])

    assert "'unsafe-inline'" not in csp["style-src"]


def test_admin_scripts_need_the_nonce(admin_client, starter_content):
    response = admin_client.get("/admin/pages/article/add/")

    csp = directives(response["Content-Security-Policy"])
    nonce = next(v for v in csp["script-src"] if v.startswith("'nonce-"))
    assert f'nonce="{nonce[7:-1]}"' in response.text
    assert '<script type="importmap" nonce=' in response.text


def test_hsts_over_https(client, starter_content, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    secure = client.get("/", secure=True)
    plain = client.get("/")

    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in plain


def test_http_redirects_to_https_when_served_over_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/articles/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/articles/"
    assert client.get("/healthz").status_code == 200


def test_cookies_are_httponly_samesite_and_secure_over_https(client, db, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True

    response = client.get("/consultation/", secure=True)

    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"


def test_every_form_carries_a_csrf_token(client, starter_content):
    html = client.get("/consultation/").text

    assert 'name="csrfmiddlewaretoken"' in html


def test_staff_session_renews_and_expires_after_30_minutes_idle(admin_client, db):
    for _ in range(2):
        response = admin_client.get("/admin/")
        assert response.cookies["sessionid"]["max-age"] == 1800

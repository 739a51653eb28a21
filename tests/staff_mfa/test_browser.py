"""
A member of staff sets up two-factor login in Chromium and logs in with it,
with the site's Content-Security-Policy enforced (not bypassed as elsewhere).
"""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.staff_mfa.conftest import PASSWORD, code_for_secret, wait_for_throttle

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
    console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def staff_user(transactional_db):
    """Without a group: live-server tests empty the tables migrations filled."""
    return User.objects.create_user("receptionist", password=PASSWORD, is_staff=True)


@pytest.fixture
def csp_page(browser):
    """A page in a context that keeps the CSP, recording console errors."""
    context = browser.new_context()
    page = context.new_page()
    page.errors = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            page.errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def log_in_with_password(page, live_server):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("receptionist")
    page.get_by_label("Password").fill(PASSWORD)
    # Until the next page has loaded: reloading during the redirect fails.
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def log_out(page):
    page.get_by_role("button", name="Log out").first.click()
    expect(page.get_by_text("Logged out")).to_be_visible()


def test_staff_set_up_an_app_and_log_in_with_a_code(
    live_server, csp_page, staff_user, clinic, screenshots_dir
):
    page = csp_page
    log_in_with_password(page, live_server)
    expect(page.get_by_role("heading", name="Set up two-factor login")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.screenshot(path=screenshots_dir / "admin-two-factor-set-up.png")

    page.get_by_label("Code from the app").fill(code_for_secret(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    log_out(page)

    log_in_with_password(page, live_server)
    expect(page.get_by_role("heading", name="Two-factor login")).to_be_visible()
    page.get_by_label("The 6-digit code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".errorlist")).to_contain_text("That code is not right")
    expect(page.get_by_role("heading", name="Site administration")).to_have_count(0)

    wait_for_throttle()
    page.get_by_label("The 6-digit code from your authenticator app").fill(
        code_for_secret(secret, steps_ahead=1)
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    assert page.errors == []


@pytest.fixture
def virtual_authenticator(csp_page):
    """Chromium's built-in authenticator, with the user's presence and PIN given."""
    cdp = csp_page.context.new_cdp_session(csp_page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def test_staff_set_up_a_passkey_and_log_in_with_it(
    live_server, csp_page, virtual_authenticator, staff_user, clinic
):
    page = csp_page
    assert live_server.url.startswith("http://localhost:")
    log_in_with_password(page, live_server)
    policy = page.reload().headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe" not in policy.split("script-src")[1].split(";")[0]
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Two-factor login")).to_be_visible()
    expect(page.get_by_role("button", name="Remove “Passkey”")).to_be_visible()
    log_out(page)

    log_in_with_password(page, live_server)
    page.get_by_role("button", name="Use my passkey").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    assert page.errors == []


def test_the_two_factor_pages_pass_axe(
    live_server, page, staff_user, clinic, axe_violations
):
    log_in_with_password(page, live_server)
    expect(page.get_by_role("heading", name="Set up two-factor login")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".errorlist")).to_be_visible()
    assert axe_violations(page) == []

    secret = page.locator("#totp-secret").inner_text()
    wait_for_throttle()
    page.get_by_label("Code from the app").fill(code_for_secret(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/admin/two-factor/")
    assert axe_violations(page) == []
    log_out(page)
    log_in_with_password(page, live_server)
    expect(page.get_by_role("heading", name="Two-factor login")).to_be_visible()
    assert axe_violations(page) == []

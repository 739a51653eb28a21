"""The dashboard and the reports in Debian's Chromium, at phone and desktop widths."""

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect

from bookings.management.commands.demo_data import DemoData

PASSWORD = "a long test password 1"


@pytest.fixture
def manager_page(live_server, page, starter_content, fibromyalgia):
    """A clinic manager who may see requests, bookings, articles and the reports."""
    DemoData(weeks=26, seed=15).create(600, 120)
    user = User.objects.create_user("manager", password=PASSWORD, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=[
                "view_consultationrequest",
                "view_booking",
                "view_article",
                "view_reports",
            ]
        )
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


@pytest.mark.parametrize("width", [375, 1280])
def test_dashboard_and_reports_are_readable_and_axe_clean(
    live_server, manager_page, axe_violations, screenshots_dir, width
):
    page = manager_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/")

    expect(page.get_by_role("heading", name="Needs attention now")).to_be_visible()
    expect(page.get_by_text("waiting for a first contact")).to_be_visible()
    page.screenshot(path=screenshots_dir / f"admin-dashboard-{width}.png")
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)

    page.get_by_role("link", name="See the reports").click()
    expect(
        page.get_by_role("heading", name="Requests and bookings per week")
    ).to_be_visible()
    page.get_by_label("Period").select_option("52")
    page.get_by_role("button", name="Show").click()
    assert "weeks=52" in page.url
    charts = page.get_by_role("img", name="Requests and bookings per week")
    expect(charts).to_be_visible()
    assert page.locator("svg rect").count() > 20
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=screenshots_dir / f"admin-reports-{width}.png", full_page=True)
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)

    with page.expect_download() as download:
        page.get_by_role(
            "link", name="Download “Outcomes per treatment” as CSV"
        ).click()
    assert download.value.suggested_filename.startswith("outcomes-")

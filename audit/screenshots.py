"""
`make screenshots`: pictures of the site for the README, in docs/screenshots/.

The home page, an article, the consultation form with its errors, the
admin's article editor, and the admin's front page and reports over made-up
requests and bookings (`manage.py demo_data`), each at a phone's width (375 px)
and a desktop's (1280 px), taken in Debian's Chromium from the site served as in
production.
"""

import re
import sys

from chromium import CHROMIUM, CHROMIUM_ARGS
from playwright.sync_api import expect, sync_playwright
from production_site import ROOT, production_site

FOLDER = ROOT / "docs" / "screenshots"
WIDTHS = {
    "phone": {"width": 375, "height": 812},
    "desktop": {"width": 1280, "height": 900},
}
ARTICLE = "/articles/ketamine-therapy-for-fibromyalgia/"


def log_in(page, site):
    page.goto(site.url + "/admin/login/")
    page.get_by_label("Username").fill(site.staff_username)
    page.get_by_label("Password").fill(site.staff_password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("The 6-digit code from your authenticator app").fill(
        site.staff_code()
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def take(page, name, width_name):
    path = FOLDER / f"{name}-{width_name}.png"
    page.screenshot(path=path)
    print(path.relative_to(ROOT))


def main():
    FOLDER.mkdir(parents=True, exist_ok=True)
    with production_site(demo_data=True) as site, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        for width_name, viewport in WIDTHS.items():
            page = browser.new_page(viewport=viewport)
            page.goto(site.url + "/")
            take(page, "home", width_name)
            page.goto(site.url + ARTICLE)
            take(page, "article", width_name)
            page.goto(site.url + "/consultation/")
            page.get_by_role("button", name="Send my request").click()
            expect(page.locator("#error-summary")).to_be_focused()
            take(page, "consultation-errors", width_name)
            log_in(page, site)
            page.goto(site.url + "/admin/pages/article/")
            page.get_by_role("link", name=re.compile("^Ketamine Therapy")).click()
            expect(page.locator(".ProseMirror[contenteditable=true]")).to_be_visible()
            take(page, "admin-article-editor", width_name)
            page.goto(site.url + "/admin/")
            expect(page.get_by_text("Needs attention now")).to_be_visible()
            take(page, "admin-dashboard", width_name)
            page.goto(site.url + "/admin/reports/")
            expect(
                page.get_by_text("Requests and bookings per week").first
            ).to_be_visible()
            take(page, "admin-reports", width_name)
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

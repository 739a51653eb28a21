"""
`make audit`: check the site as it runs in production with the industry's tools.

The Nu Html Checker (vnu) checks the HTML of every public page, the consultation
form empty and with errors, the thank-you page, the 404 page, the admin's
two-factor pages and its article form. Lighthouse audits the home page, an
article and the consultation form. Reports go to audit-report/; the run fails on
any HTML error or on a Lighthouse score below the thresholds (Performance is
recorded only).
"""

import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from production_site import ROOT, production_site

AUDIT = ROOT / "audit"
REPORT = ROOT / "audit-report"
VNU_JAR = AUDIT / "node_modules/vnu-jar/build/dist/vnu.jar"
LIGHTHOUSE = AUDIT / "node_modules/lighthouse/cli/index.js"
CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking"
)

ARTICLE = "/articles/ketamine-therapy-for-fibromyalgia/"
PUBLIC_PAGES = {
    "home": "/",
    "article-list": "/articles/",
    "article": ARTICLE,
    "topic-fibromyalgia": "/topics/fibromyalgia/",
    "topic-ketamine-therapy": "/topics/ketamine-therapy/",
    "page-about": "/about/",
    "page-contact": "/contact/",
    "page-privacy-policy": "/privacy-policy/",
    "page-medical-disclaimer": "/medical-disclaimer/",
    "search-results": "/search/?q=ketamine+pain",
    "search-no-results": "/search/?q=zebra",
    "consultation": "/consultation/",
}
LIGHTHOUSE_PAGES = {"home": "/", "article": ARTICLE, "consultation": "/consultation/"}
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
REQUIRED_SCORES = {"accessibility": 100, "best-practices": 100, "seo": 100}


class Browser:
    """A cookie-keeping HTTP client, for the pages behind a form or a login."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def fetch(self, path, form=None):
        data = urllib.parse.urlencode(form, doseq=True).encode() if form else None
        try:
            with self.opener.open(self.base_url + path, data=data, timeout=30) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def hidden_value(html, name):
    return re.search(rf'name="{name}" value="([^"]*)"', html)[1]


def page_states(site):
    """Every page to check, by name: (expected status, HTML)."""
    browser = Browser(site.url)
    pages = {name: browser.fetch(path) for name, path in PUBLIC_PAGES.items()}
    pages["not-found"] = browser.fetch("/no-such-page/")

    _, form = pages["consultation"]
    tokens = {
        "csrfmiddlewaretoken": hidden_value(form, "csrfmiddlewaretoken"),
        "form_token": hidden_value(form, "form_token"),
    }
    pages["consultation-errors"] = browser.fetch("/consultation/", tokens)
    _, form = pages["consultation-errors"]
    treatment = re.search(r'<option value="(\d+)"', form)[1]
    tokens["form_token"] = hidden_value(form, "form_token")
    pages["consultation-thanks"] = browser.fetch(
        "/consultation/",
        tokens
        | {
            "full_name": "Audit Example",
            "email": "audit@example.com",
            "phone": "(770) 555-0100",
            "preferred_contact": "phone",
            "treatment": treatment,
            "preferred_time": "any",
            "consent": "on",
        },
    )

    _, login = browser.fetch("/admin/login/")
    pages["admin-two-factor-verify"] = browser.fetch(
        "/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": hidden_value(login, "csrfmiddlewaretoken"),
            "username": site.staff_username,
            "password": site.staff_password,
            "next": "/admin/",
        },
    )
    _, verify = pages["admin-two-factor-verify"]
    browser.fetch(
        "/admin/two-factor/verify/",
        {
            "csrfmiddlewaretoken": hidden_value(verify, "csrfmiddlewaretoken"),
            "code": site.staff_code(),
            "next": "/admin/",
        },
    )
    pages["admin-two-factor"] = browser.fetch("/admin/two-factor/")
    _, article_list = browser.fetch("/admin/pages/article/")
    change_url = re.search(r'href="(/admin/pages/article/\d+/change/)"', article_list)
    pages["admin-article-form"] = browser.fetch(change_url[1])
    return pages


def check_html(pages):
    """Run vnu over the pages; return its error messages."""
    folder = REPORT / "html"
    folder.mkdir(parents=True)
    problems = []
    files = []
    for name, (status, html) in pages.items():
        expected = 404 if name == "not-found" else 200
        if status != expected:
            problems.append(f"{name}: HTTP {status}, expected {expected}")
        path = folder / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
    )
    for message in json.loads(result.stderr or '{"messages": []}')["messages"]:
        name = Path(urllib.parse.urlsplit(message.get("url", "")).path).stem
        line = message.get("lastLine", "?")
        problems.append(f"{name}.html:{line}: {message['message']}")
    return problems


def run_lighthouse(url, name):
    output = REPORT / name
    command = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        "--output=html",
        f"--output-path={output}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    env = os.environ | {"CHROME_PATH": CHROME_PATH}
    for _ in range(2):  # Chromium now and then fails to start a navigation
        subprocess.run(command, env=env, check=False)
        report_file = output.with_suffix(".report.json")
        if report_file.exists():
            report = json.loads(report_file.read_text())
            if not report.get("runtimeError") and all(
                report["categories"][c]["score"] is not None for c in CATEGORIES
            ):
                return report
    raise RuntimeError(f"Lighthouse could not audit {url}")


def failing_audits(report, category):
    audits = report["audits"]
    return [
        f"    {ref['id']}: {audits[ref['id']]['title']}"
        for ref in report["categories"][category]["auditRefs"]
        if ref["weight"] and (audits[ref["id"]]["score"] or 0) < 1
    ]


def lighthouse_table(site):
    rows = ["| page | " + " | ".join(CATEGORIES) + " |", "|---" * 5 + "|"]
    problems = []
    for name, path in LIGHTHOUSE_PAGES.items():
        report = run_lighthouse(site.url + path, name)
        scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
        rows.append(
            f"| {name} `{path}` | "
            + " | ".join(str(scores[c]) for c in CATEGORIES)
            + " |"
        )
        for category, required in REQUIRED_SCORES.items():
            if scores[category] < required:
                problems.append(f"{name}: {category} {scores[category]} < {required}")
                problems.extend(failing_audits(report, category))
    return "\n".join(rows), problems


def main():
    shutil.rmtree(REPORT, ignore_errors=True)
    REPORT.mkdir()
    with production_site() as site:
        pages = page_states(site)
        html_problems = check_html(pages)
        table, score_problems = lighthouse_table(site)
    checked = ", ".join(pages)
    summary = [
        "# Audit",
        "",
        f"Nu Html Checker on {len(pages)} pages ({checked}): "
        + (f"{len(html_problems)} error(s)" if html_problems else "no errors"),
        "",
        "Lighthouse (mobile; Performance recorded, the others must be 100):",
        "",
        table,
        "",
    ]
    (REPORT / "scores.md").write_text("\n".join(summary))
    print("\n".join(summary))
    problems = html_problems + score_problems
    if problems:
        print("Audit failed:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"Audit passed. Reports in {REPORT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

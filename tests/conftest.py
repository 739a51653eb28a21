import io
import os
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread
from django.utils import timezone
from PIL import Image

from audit.chromium import CHROMIUM, CHROMIUM_ARGS
from pages.caching import NotedContentState
from pages.models import Article, ClinicDetails, Page, Topic

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# axe-core from the npm package in audit/ (`npm ci --prefix audit`; make test does it).
AXE_SCRIPT = ROOT / "audit" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def flushes_the_database(item):
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(marker and marker.kwargs.get("transaction")) or any(
        name in fixtures for name in ("transactional_db", "live_server")
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """
    Tests that flush the database (live server, transactional) run last. pytest-django
    sorts them so, but pytest then regroups tests by session-scoped parameters
    (Playwright's browser), which moved the browser tests ahead of others; those
    then found the data the migrations make (groups, treatments) flushed away.

    Tests marked postgresql only mean something there; CI runs them on it.
    """
    items.sort(key=flushes_the_database)
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    deselected = [item for item in items if item.get_closest_marker("postgresql")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a test that did not run: fail the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if in_ci() and skipped and exitstatus == 0:
        reporter.write_line(
            f"CI=true: {len(skipped)} skipped test(s) count as failures."
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


class OneRequestAtATimeServer(WSGIServer):
    """A live server that answers requests one after another, in its own thread."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def live_server_one_request_at_a_time():
    """
    On SQLite the live server shares the test's in-memory database connection
    with every thread it answers from, so two requests at once (a page and the
    favicon the browser asks for meanwhile) can clash inside one connection:
    "cannot start a transaction within a transaction". PostgreSQL gives each
    thread its own connection and keeps Django's threaded server.
    """
    if "sqlite" not in settings.DATABASES["default"]["ENGINE"]:
        yield
        return
    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = OneRequestAtATimeServer
    yield
    LiveServerThread.server_class = threaded


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def cache_of_its_own(settings):
    """Each test starts with an empty cache, as it starts with an empty database."""
    settings.CACHES = {
        alias: config | {"KEY_PREFIX": uuid.uuid4().hex}
        for alias, config in settings.CACHES.items()
    }
    NotedContentState.forget()


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Tests run without collectstatic, so no manifest of hashed names."""
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        }
    }


@pytest.fixture
def clinic(db):
    return ClinicDetails.objects.create(
        name="Roswell Infusions",
        phone="(770) 555-0123",
        email="info@example.com",
        address="100 Example Street\nRoswell, GA 30075",
        opening_hours="Monday–Friday: 9am–5pm",
    )


@pytest.fixture
def make_topic(db):
    def make(name="Fibromyalgia", **fields):
        fields.setdefault("slug", name.lower().replace(" ", "-"))
        return Topic.objects.create(name=name, **fields)

    return make


@pytest.fixture
def make_article(db):
    def make(title="About fibromyalgia", topics=(), **fields):
        fields.setdefault("slug", title.lower().replace(" ", "-"))
        fields.setdefault("summary", f"A summary of {title}.")
        fields.setdefault("body", "<h2>First part</h2><p>Some text.</p>")
        fields.setdefault("status", Article.Status.PUBLISHED)
        if fields["status"] == Article.Status.PUBLISHED:
            fields.setdefault("published_at", timezone.now() - timedelta(days=1))
        article = Article.objects.create(title=title, **fields)
        article.topics.set(topics)
        return article

    return make


@pytest.fixture
def make_page(db):
    def make(title="About us", **fields):
        fields.setdefault("slug", title.lower().replace(" ", "-"))
        fields.setdefault("body", f"<p>The {title} page.</p>")
        return Page.objects.create(title=title, **fields)

    return make


@pytest.fixture
def starter_content(db):
    call_command("load_starter_content", stdout=io.StringIO())


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's Chromium, never a downloaded browser."""
    if not shutil.which(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Tests inject axe-core into pages, whatever the site's CSP allows."""
    return browser_context_args | {"bypass_csp": True}


def skip_or_fail(reason):
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def axe_violations():
    """
    A function that runs axe-core with the WCAG 2.0/2.1/2.2 A and AA rules on a
    Playwright page and returns its violations, one readable line each.
    """
    if not AXE_SCRIPT.exists():
        skip_or_fail(
            f"axe-core not installed ({AXE_SCRIPT} missing): install Node.js and "
            "npm, then run `make test` again (or `npm ci --prefix audit`)"
        )

    def run(page):
        page.add_script_tag(path=AXE_SCRIPT)
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            WCAG_TAGS,
        )
        return [
            f"{violation['id']}: {violation['help']} at "
            + ", ".join(str(node["target"]) for node in violation["nodes"])
            for violation in results["violations"]
        ]

    return run


@pytest.fixture(scope="session")
def screenshots_dir():
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def image_bytes(size=(40, 30), image_format="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, image_format)
    return buffer.getvalue()


@pytest.fixture
def png_upload():
    return SimpleUploadedFile("photo.png", image_bytes(), content_type="image/png")

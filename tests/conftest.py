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
from django.utils import timezone
from PIL import Image

from pages.models import Article, ClinicDetails, Page, Topic

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    """Tests marked postgresql only mean something there; CI runs them on it."""
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
        reason = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


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

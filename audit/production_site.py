"""
The site as it runs in production, on this machine, for the audit and screenshots.

gunicorn with DEBUG off, static files collected into WhiteNoise's manifest, a
throwaway SQLite database holding the starter content and one staff login (with
an authenticator app, as production requires), and secrets made up for this run
only.
"""

import base64
import contextlib
import itertools
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from django_otp.oath import totp

ROOT = Path(__file__).resolve().parent.parent
STAFF_USERNAME = "audit-staff"
ADD_AUTHENTICATOR_APP = f"""
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
TOTPDevice.objects.create(
    user=User.objects.get(username="{STAFF_USERNAME}"), name="Audit", key="{{key}}"
)
"""


@dataclass
class RunningSite:
    url: str
    staff_username: str
    staff_password: str
    staff_totp_key: str
    logins: itertools.count = field(default_factory=itertools.count)

    def staff_code(self):
        """
        The staff login's code from its authenticator app. A code is good once,
        so each login gets the next period's, which the site accepts already.
        """
        key = bytes.fromhex(self.staff_totp_key)
        return f"{totp(key, drift=next(self.logins)):06d}"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env, *arguments):
    subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def wait_until_serving(url, server, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with exit code {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/robots.txt", timeout=2):
                return
        # A busy machine may take longer than the timeout to answer at first.
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer at {url} within {seconds} s")


@contextlib.contextmanager
def production_site(demo_data=False):
    """The running site; with demo_data, made-up requests and bookings too."""
    with tempfile.TemporaryDirectory(prefix="roswell-audit-") as scratch:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        password = secrets.token_urlsafe(16)
        totp_key = secrets.token_hex(20)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "BOOKINGS_"))
        } | {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "BOOKINGS_ENCRYPTION_KEYS": base64.urlsafe_b64encode(
                secrets.token_bytes(32)
            ).decode(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SITE_URL": url,
            "DATABASE_URL": f"sqlite:///{scratch}/site.sqlite3",
            "DJANGO_MEDIA_ROOT": f"{scratch}/media",
            "DJANGO_STATIC_ROOT": f"{scratch}/static",
            # Plain HTTP on loopback: no redirect to https, no HSTS.
            "DJANGO_HTTPS": "0",
            "DJANGO_MAILER": "console",
            "DJANGO_SUPERUSER_USERNAME": STAFF_USERNAME,
            "DJANGO_SUPERUSER_EMAIL": "staff@example.com",
            "DJANGO_SUPERUSER_PASSWORD": password,
        }
        manage(env, "migrate", "--no-input")
        manage(env, "createcachetable")
        manage(env, "collectstatic", "--no-input")
        manage(env, "load_starter_content")
        if demo_data:
            # demo_data refuses to run without debug, as it should on a real site.
            manage(env | {"DJANGO_DEBUG": "1"}, "demo_data")
        manage(env, "createsuperuser", "--no-input")
        manage(env, "shell", "-c", ADD_AUTHENTICATOR_APP.format(key=totp_key))
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "roswell_site.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            wait_until_serving(url, server)
            yield RunningSite(url, STAFF_USERNAME, password, totp_key)
        finally:
            server.terminate()
            server.wait(timeout=15)

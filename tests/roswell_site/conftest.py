import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION_SECRET = "k3v9-production-like-secret-" + "x7Qm2pLr9sT4vW8yZ1aB5cD6eF0gH3jK"


def production_env(**overrides):
    """The environment the README's Deploying section sets up, plus overrides."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "BOOKINGS_", "SMTP_", "DATABASE_URL"))
    }
    env |= {
        "DJANGO_SECRET_KEY": PRODUCTION_SECRET,
        # The test suite's (pyproject.toml): processes started share its database.
        "BOOKINGS_ENCRYPTION_KEYS": os.environ["BOOKINGS_ENCRYPTION_KEYS"],
        "DJANGO_ALLOWED_HOSTS": "www.roswellinfusions.example",
        "DATABASE_URL": "postgres://roswell@127.0.0.1:5432/roswell",
        "DJANGO_BEHIND_PROXY": "1",
        "DJANGO_CLIENT_IP_HEADER": "X-Real-IP",
    }
    env |= overrides
    return {key: value for key, value in env.items() if value is not None}


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def run_manage():
    return manage

"""
How Debian's Chromium is started here: by the browser tests (tests/conftest.py)
and by `make screenshots` (audit/screenshots.py). CHROMIUM_PATH names another
executable.
"""

import os

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

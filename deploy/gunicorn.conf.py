"""
gunicorn settings for the Roswell Infusions site: `gunicorn -c deploy/gunicorn.conf.py`.

Every value can be overridden from the environment (GUNICORN_*), so one file
serves a small server and a large one.
"""

import gc
import multiprocessing
import os
import subprocess
import uuid
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Two processes per core plus one: requests mostly wait on the database.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))

wsgi_app = "roswell_site.wsgi:application"

# A request that takes longer than this is killed and logged.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On reload or shutdown, workers finish what they are doing first.
graceful_timeout = 30
keepalive = 5

# Replace each worker after a few thousand requests, at staggered moments, so
# memory stays flat without every worker restarting at once.
max_requests = 5000
max_requests_jitter = 500

# The app is imported once in the master, then shared by the workers.
preload_app = True

# One line per request on stdout: no query strings (they could carry personal
# data), with the request id the site puts in X-Request-ID.
accesslog = "-"
access_log_format = (
    '%(h)s [%({x-request-id}o)s] "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Behind nginx on the same machine: trust its X-Forwarded-* headers only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def deployed_commit():
    """The checkout's git commit, or "" where the code is not a git checkout."""
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from the PATH
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # no git on the server
        return ""
    return found.stdout.strip() if found.returncode == 0 else ""


# Public pages are cached per release (roswell_site/settings.py, RELEASE): set
# before the app is loaded, so each deploy starts with pages its own code renders.
# Where the code is no git checkout and the platform names no release, each start
# of gunicorn is one: a cache of its own, never pages of other code.
os.environ.setdefault("DJANGO_RELEASE", deployed_commit() or uuid.uuid4().hex)


def pre_fork(server, worker):
    # Objects loaded before the fork are shared with the workers until written
    # to. Frozen, the garbage collector never walks them, so a new worker does not
    # copy the whole preloaded app page by page while it serves.
    gc.freeze()

"""
Gunicorn's settings in production:

    gunicorn -c deploy/gunicorn.conf.py roswell_site.wsgi

GUNICORN_BIND, GUNICORN_WORKERS and GUNICORN_THREADS override the address, the
number of worker processes and the threads in each (README, "Performance": how
to size a deployment).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Rendering a page is CPU work: a process per core, plus one for the moments a
# process waits on the database.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))

# Threads keep connections alive and let a process serve another request while
# one waits on PostgreSQL or Redis: 8% to 60% more cached pages a second than
# sync workers in repeated runs of `make bench` on a busy 2-core machine.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

accesslog = "-"

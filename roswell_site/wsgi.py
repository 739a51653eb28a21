import os

from django.core.cache import caches
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "roswell_site.settings")

application = get_wsgi_application()


def load_before_fork():
    """
    gunicorn imports this module once in its master process (preload_app) and
    forks every worker from it, also the ones replacing workers after
    max_requests. What is loaded here, a worker does not load again on its first
    request while a visitor waits (about 60 ms).
    """
    caches.all()  # creates the cache back ends, importing their client libraries


load_before_fork()

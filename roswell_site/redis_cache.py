"""Django's Redis cache back end, keeping one client object per connection pool."""

# redis-py, imported with the back end rather than on its first command, so
# that gunicorn's master process loads it once (roswell_site/wsgi.py) instead of
# every new worker while a visitor waits: it takes about 60 ms.
import redis as redis_py  # noqa: F401
from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    # Django makes a redis.Redis object for each command; with redis-py 8 that
    # costs about as much as the command's round trip to Redis. Clients are
    # thread-safe, so one per pool serves every command.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        if pool not in self._clients:
            self._clients[pool] = self._client(connection_pool=pool)
        return self._clients[pool]


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

"""Django's Redis cache backend (settings.CACHES with REDIS_URL), with one change: a client kept per
connection pool.

Django's RedisCacheClient makes a new redis.Redis for every cache call, and each one costs its ~170
response callbacks: on an API request (the rate limit counts every request) that was a sixteenth of
its CPU. The kept client holds no connection of its own: every command still takes one from the
pool, as before, so it serves every thread. incr() is one round trip (a server-side script)
instead of Django's EXISTS then INCRBY, with the same answer: ValueError when the key is missing."""

from django.core.cache.backends import redis as django_redis

# Django's incr: the key must exist (it then keeps its expiry); atomic here, as one script.
_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return false
"""


class _KeptClientCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._incr_scripts = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        script = self._incr_scripts.get(id(client))
        if script is None:
            script = self._incr_scripts[id(client)] = client.register_script(_INCR_EXISTING)
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _KeptClientCacheClient

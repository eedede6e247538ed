"""core.cache.RedisCache: Django's Redis cache with its clients kept and incr() in one round trip,
answering as Django's does."""

import os

import pytest
from django.core.cache import cache, caches

from core.cache import RedisCache

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://...")


@pytest.fixture
def key():
    name = f"core-cache-test-{os.getpid()}"
    cache.delete(name)
    yield name
    cache.delete(name)


def test_the_configured_cache_is_it():
    assert isinstance(caches["default"], RedisCache)


def test_incr_counts_an_existing_key_and_keeps_its_expiry(key):
    assert cache.add(key, 1, timeout=5)
    assert cache.incr(key) == 2
    assert cache.incr(key, 5) == 7
    assert cache.get(key) == 7
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_and_validate_key(key)) <= 5


def test_incr_of_a_missing_key_raises_and_creates_nothing(key):
    with pytest.raises(ValueError):
        cache.incr(key)
    assert cache.get(key) is None


def test_one_client_per_pool(key):
    backend = cache._cache
    assert backend.get_client(write=True) is backend.get_client(key, write=True)
    cache.set(key, "x", timeout=5)
    assert cache.get(key) == "x"

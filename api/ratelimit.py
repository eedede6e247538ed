"""Per-reseller, per-action request limits in fixed one-second windows, counted in Django's cache
(Redis when REDIS_URL is set, so every web process shares the count).

The count belongs to the reseller, not to a key: DESIGN §5 allows 5 requests/s per reseller on a
credit action, and a reseller that makes more keys must not get more requests."""

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _now() -> float:
    return time.time()


def limit_for(*, credit_action: bool) -> int:
    """Requests per second; 0 or less means unlimited. Tencent allows 5/s on its credit actions."""
    return settings.API_RATE_LIMIT_CREDIT if credit_action else settings.API_RATE_LIMIT_DEFAULT


def allow(*, reseller_id: int, action: str, limit: int) -> bool:
    """Count this request of the reseller (any of its keys) and say whether it is within `limit`
    for the current second."""
    if limit <= 0:
        return True
    key = f"api:rate:{reseller_id}:{action}:{int(_now())}"
    try:
        try:
            count = cache.incr(key)
        except ValueError:
            # First request of this window; add() loses to a concurrent twin, which then counts.
            count = 1 if cache.add(key, 1, timeout=5) else cache.incr(key)
    except Exception:
        # The limit protects the service; an unreachable cache must not take the API down with it.
        logger.exception("API rate limit not counted: the cache is unavailable")
        return True
    return count <= limit

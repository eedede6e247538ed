"""Per-key, per-action request limits in fixed one-second windows, counted in Django's cache
(Redis when REDIS_URL is set, so every web process shares the count)."""

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


def allow(*, secret_id: str, action: str, limit: int) -> bool:
    """Count this request and say whether it is within `limit` for the current second."""
    if limit <= 0:
        return True
    key = f"api:rate:{secret_id}:{action}:{int(_now())}"
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

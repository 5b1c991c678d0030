"""Fixed-window rate limits for public endpoints (login), in memory or shared through Redis.

While a configured Redis is away the limits fail closed for anonymous traffic (the public
widget, webhooks, sign-in: refused, as each process alone would let a flood through its own
count) and open for signed-in staff (``hit(..., staff=True)``: counted in this process)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from kefu.errors import KefuError

log = logging.getLogger(__name__)


def connect_redis(url: str | None) -> Any:
    """A Redis client for ``url`` (None without one) that fails fast while Redis is down.

    One quick retry instead of redis-py's default backoff, which spends seconds per call.
    """
    if not url:
        return None
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=1, retry=Retry(NoBackoff(), 1)
    )


class RateLimiter:
    """Allow at most ``limit`` hits per key in each window of ``window_seconds``."""

    def __init__(
        self,
        limit: int,
        window_seconds: float = 60.0,
        *,
        redis: Any = None,
        clock: Callable[[], float] | None = None,
        redis_retry_seconds: float = 2.0,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.redis = redis
        # Windows shared through Redis must be the same on every host: only wall-clock time
        # is (each host's monotonic clock counts from its own boot).
        self.clock = clock or (time.time if redis is not None else time.monotonic)
        self._hits: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        # After Redis fails, skip it for a while instead of paying a connect timeout on every
        # hit (refusing anonymous hits meanwhile); then try Redis again.
        self.redis_retry_seconds = redis_retry_seconds
        self._redis_down_until = 0.0

    def require(self, *keys: str, staff: bool = False, retry_after: int | None = None) -> None:
        """Count one hit on each key in turn; the first over its limit stops the request with
        429 ``rate_limited`` (try again after ``retry_after`` seconds, by default the window)."""
        for key in keys:
            if not self.hit(key, staff=staff):
                wait = retry_after if retry_after is not None else int(self.window)
                raise KefuError("rate_limited", status_code=429, retry_after=wait)

    def hit(self, key: str, *, staff: bool = False) -> bool:
        """Count one hit; True while the key is within its limit. Without Redis (when one is
        configured) False for anonymous traffic, and counted in this process for ``staff``."""
        window = int(self.clock() // self.window)
        if self.redis is not None:
            if time.monotonic() >= self._redis_down_until:
                name = f"kefu:rl:{key}:{window}"
                try:
                    count = int(self.redis.incr(name))
                    if count == 1:
                        self.redis.expire(name, int(self.window) + 1)
                    return count <= self.limit
                except RedisError:
                    self._redis_down_until = time.monotonic() + self.redis_retry_seconds
                    log.warning(
                        "rate limiter: Redis unavailable; anonymous requests refused, staff "
                        "counted in this process (Redis tried again in %.0f s)",
                        self.redis_retry_seconds,
                    )
            if not staff:
                return False
        with self._lock:
            seen_window, count = self._hits.get(key, (window, 0))
            count = count + 1 if seen_window == window else 1
            self._hits[key] = (window, count)
            if len(self._hits) > 100_000:  # forget old windows, bounded memory
                self._hits = {k: v for k, v in self._hits.items() if v[0] == window}
            return count <= self.limit

import time

import pytest

from kefu.errors import KefuError
from kefu.services.infra.ratelimit import RateLimiter, connect_redis


def test_in_memory_window():
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b")
    now[0] = 61.0
    assert limiter.hit("a")


def test_require_answers_429_with_the_window_to_wait_and_stops_at_the_first_key_over():
    limiter = RateLimiter(1, 3600, clock=lambda: 0.0)
    limiter.require("address", "account")
    with pytest.raises(KefuError) as refused:
        limiter.require("address", "other account")
    assert (refused.value.code, refused.value.status_code) == ("rate_limited", 429)
    assert refused.value.retry_after == 3600
    assert limiter.hit("other account")  # the first key's refusal counted no other
    with pytest.raises(KefuError) as soon:
        limiter.require("account", retry_after=10)
    assert soon.value.retry_after == 10


def test_redis_down_refuses_anonymous_hits_and_counts_staff_in_process():
    unreachable = connect_redis("redis://127.0.0.1:1/0")
    # A fixed clock: a slow failing connect must not carry the hits into the next window.
    limiter = RateLimiter(2, 60, redis=unreachable, clock=lambda: 120.0)
    started = time.monotonic()
    assert [limiter.hit("k") for _ in range(2)] == [False, False]  # fails closed
    assert [limiter.hit("s", staff=True) for _ in range(3)] == [True, True, False]
    assert time.monotonic() - started < 1.5  # fails fast, and later hits skip Redis
    assert limiter._redis_down_until > time.monotonic()


def test_redis_is_tried_again_after_the_retry_delay():
    import redis

    class Flaky:
        def __init__(self):
            self.calls = 0
            self.real = redis.Redis.from_url("redis://127.0.0.1:6379/15")

        def incr(self, name):
            self.calls += 1
            if self.calls == 1:
                raise redis.exceptions.ConnectionError("down")
            return self.real.incr(name)

        def expire(self, name, seconds):
            return self.real.expire(name, seconds)

    flaky = Flaky()
    limiter = RateLimiter(5, 60, redis=flaky, redis_retry_seconds=0.0)
    key = f"retry-{id(limiter)}"
    assert not limiter.hit(key)  # Redis failed: an anonymous hit is refused
    assert limiter.hit(key)  # retry delay over: back on Redis
    assert flaky.calls == 2

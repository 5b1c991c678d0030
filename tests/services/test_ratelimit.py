from kefu.services.ratelimit import RateLimiter


def test_in_memory_window():
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b")
    now[0] = 61.0
    assert limiter.hit("a")

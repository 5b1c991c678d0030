from kefu.services.ratelimit import RateLimiter


def test_in_memory_window():
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b")
    now[0] = 61.0
    assert limiter.hit("a")


def test_redis_down_falls_back_to_counting_in_process():
    import redis

    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    limiter = RateLimiter(2, 60, redis=unreachable)
    assert [limiter.hit("k") for _ in range(3)] == [True, True, False]

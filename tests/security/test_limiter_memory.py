"""The login throttle and the per-address ticket limit forget old keys, so a spray of
names or addresses over days cannot grow the server's memory without bound."""

from __future__ import annotations

from queue_server.engine.limits import MAX_TRACKED_KEYS, LoginThrottle, RateLimiter


def test_the_ticket_limit_forgets_addresses_with_nothing_in_the_last_minute() -> None:
    limiter = RateLimiter(per_minute=3)
    for n in range(MAX_TRACKED_KEYS + 1):
        assert limiter.allow(f"10.0.{n // 256}.{n % 256}", now=0.0)
    assert limiter.allow("192.168.1.9", now=61.0)
    assert set(limiter.hits.times) == {"192.168.1.9"}


def test_the_ticket_limit_keeps_counting_addresses_seen_within_the_minute() -> None:
    limiter = RateLimiter(per_minute=1)
    assert limiter.allow("busy", now=30.0)
    for n in range(MAX_TRACKED_KEYS + 1):
        limiter.allow(f"old-{n}", now=0.0)
    assert limiter.allow("new", now=61.0)
    assert not limiter.allow("busy", now=62.0), "busy's ticket at t=30 still counts until t=90"


def test_the_login_throttle_forgets_names_whose_failures_left_the_window() -> None:
    throttle = LoginThrottle(window=900.0)
    for n in range(MAX_TRACKED_KEYS + 1):
        throttle.failed([f"name-{n}"], now=0.0)
    throttle.failed(["guess"], now=1000.0)
    assert set(throttle.failures.times) == {"guess"}


def test_the_login_throttle_keeps_names_with_failures_in_the_window() -> None:
    throttle = LoginThrottle(free_failures=2, window=900.0)
    for _ in range(3):
        throttle.failed(["petugas1"], now=100.0)
    for n in range(MAX_TRACKED_KEYS + 1):
        throttle.failed([f"spray-{n}"], now=0.0)
    throttle.failed(["other"], now=950.0)
    assert set(throttle.failures.times) == {"petugas1", "other"}, "failures at t=100 count until t=1000"

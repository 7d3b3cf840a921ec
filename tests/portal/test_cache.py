"""The fail-soft Redis cache: normal with Redis up, an empty cache that forgets writes while it is down."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from portal.cache import FailSoftRedisCache
from tests.redis_server import ThrowawayRedis

OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_redis_up_it_is_a_redis_cache(throwaway_redis: ThrowawayRedis) -> None:
    cache = FailSoftRedisCache(throwaway_redis.url, {"OPTIONS": OPTIONS})
    assert cache.add("n", 1)
    assert cache.incr("n") == 2
    cache.set("k", {"a": 1})
    assert cache.get("k") == {"a": 1}


def test_while_redis_is_down_reads_miss_writes_are_dropped_and_it_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = FailSoftRedisCache(f"redis://127.0.0.1:{unused_port()}/0", {"OPTIONS": OPTIONS})
    caplog.set_level(logging.WARNING, logger="portal.cache")
    started = time.monotonic()

    assert cache.get("k", "fallback") == "fallback"
    assert cache.get_or_set("k", "computed") == "computed"
    assert cache.add("k", 1) is True
    cache.set("k", 1)
    with pytest.raises(ValueError):  # as for a missing key, which callers handle
        cache.incr("k")
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("k") is False
    assert cache.touch("k") is False
    assert cache.delete("k") is False
    assert cache.set_many({"a": 1}) == []
    cache.delete_many(["a"])
    cache.clear()

    assert time.monotonic() - started < 2
    assert "Cache unavailable, incr k skipped" in caplog.text


def test_a_redis_that_hangs_costs_a_timeout_not_the_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="portal.cache")
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        cache = FailSoftRedisCache(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", {"OPTIONS": OPTIONS})
        started = time.monotonic()
        assert cache.get("k", "fallback") == "fallback"
        assert time.monotonic() - started < 2
    assert "Cache unavailable, get k skipped" in caplog.text

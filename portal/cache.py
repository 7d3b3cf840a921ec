"""A Redis cache that the portal can do without while Redis is down.

Nothing the portal caches is the only copy: trends are recomputed, and a rate-limit
counter that cannot be read lets the request through. So while Redis is unreachable
this backend behaves like Django's DummyCache (reads miss, writes are dropped, `incr`
finds no key) and logs a warning, instead of turning every page that reads the cache
into a 500. Socket timeouts in `OPTIONS` keep each attempt short.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _unavailable(operation: str, key: object, exc: Exception) -> None:
    logger.warning("Cache unavailable, %s %s skipped: %s", operation, key, exc)


class FailSoftRedisCache(RedisCache):
    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE as exc:
            _unavailable("add", key, exc)
            return True

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as exc:
            _unavailable("get", key, exc)
            return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNAVAILABLE as exc:
            _unavailable("set", key, exc)

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except UNAVAILABLE as exc:
            _unavailable("touch", key, exc)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except UNAVAILABLE as exc:
            _unavailable("delete", key, exc)
            return False

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE as exc:
            _unavailable("get_many", list(keys), exc)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except UNAVAILABLE as exc:
            _unavailable("has_key", key, exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as exc:
            _unavailable("incr", key, exc)
            # As for a missing key: callers already handle it (and count from scratch).
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc

    def set_many(self, data: dict[Any, Any], timeout: Any = None, version: int | None = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except UNAVAILABLE as exc:
            _unavailable("set_many", list(data), exc)
            return []

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except UNAVAILABLE as exc:
            _unavailable("delete_many", list(keys), exc)

    def clear(self) -> None:
        try:
            super().clear()
        except UNAVAILABLE as exc:
            _unavailable("clear", "(all keys)", exc)

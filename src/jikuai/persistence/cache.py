"""Short-lived shared state: login throttles, one-time codes, idempotency, persisted queries.

Redis in production; an in-process store as the embedded default. Both honour the same small
interface, and every value expires. The in-process store is correct for one process only, which
is all the embedded default ever runs.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None: ...
    async def add(self, key: str, value: bytes, *, ttl_seconds: int) -> bool:
        """Set only if absent; False when the key holds a value (a one-time claim)."""

    async def read_and_claim(
        self, key: str, claim: str, *, ttl_seconds: int
    ) -> tuple[bytes | None, bool]:
        """The value of `key`, and whether `claim` was free and is now taken (as `add`), in one
        round trip."""

    async def increment(self, key: str, *, ttl_seconds: int) -> int:
        """Add one and return the count; the window starts at the first increment."""

    async def delete(self, key: str) -> None: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self._values: dict[str, tuple[bytes, float]] = {}

    async def get(self, key: str) -> bytes | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires <= time.monotonic():
            del self._values[key]
            return None
        return value

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        self._values[key] = (value, time.monotonic() + ttl_seconds)

    async def add(self, key: str, value: bytes, *, ttl_seconds: int) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_seconds=ttl_seconds)
        return True

    async def read_and_claim(
        self, key: str, claim: str, *, ttl_seconds: int
    ) -> tuple[bytes | None, bool]:
        return await self.get(key), await self.add(claim, b"1", ttl_seconds=ttl_seconds)

    async def increment(self, key: str, *, ttl_seconds: int) -> int:
        current = await self.get(key)
        if current is None:
            self._values[key] = (b"1", time.monotonic() + ttl_seconds)
            return 1
        count = int(current) + 1
        self._values[key] = (str(count).encode(), self._values[key][1])
        return count

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._values.clear()


class RedisCache:
    def __init__(self, url: str, *, prefix: str = "jikuai:") -> None:
        self._redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self._prefix + key)
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None:
        await self._redis.set(self._prefix + key, value, ex=ttl_seconds)

    async def add(self, key: str, value: bytes, *, ttl_seconds: int) -> bool:
        return bool(await self._redis.set(self._prefix + key, value, ex=ttl_seconds, nx=True))

    async def read_and_claim(
        self, key: str, claim: str, *, ttl_seconds: int
    ) -> tuple[bytes | None, bool]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._prefix + key)
            pipe.set(self._prefix + claim, b"1", ex=ttl_seconds, nx=True)
            value, claimed = await pipe.execute()
        return value.encode() if isinstance(value, str) else value, bool(claimed)

    async def increment(self, key: str, *, ttl_seconds: int) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, ttl_seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def create_cache(redis_url: str | None) -> Cache:
    return RedisCache(redis_url) if redis_url else MemoryCache()

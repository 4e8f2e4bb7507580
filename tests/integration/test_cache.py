"""The cache interface, the same for the in-process store and Redis.

Redis runs when JIKUAI_TEST_REDIS_URL is set; JIKUAI_REQUIRE_SERVICES=1 makes a missing or
unreachable Redis a failure instead of a skip. Each Redis test works under a key prefix of its
own and removes its keys afterwards.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from jikuai.persistence.cache import Cache, MemoryCache, RedisCache, create_cache

REDIS_URL = os.environ.get("JIKUAI_TEST_REDIS_URL")
REQUIRE_SERVICES = os.environ.get("JIKUAI_REQUIRE_SERVICES") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"JIKUAI_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> str:
    """The test Redis, checked once per test (a plain fixture, so `cache` may ask for it)."""
    if not REDIS_URL:
        _unavailable("JIKUAI_TEST_REDIS_URL is not set")
    assert REDIS_URL is not None
    try:
        with SyncRedis.from_url(REDIS_URL, socket_connect_timeout=5) as redis:
            redis.ping()
    except (RedisConnectionError, OSError) as error:
        _unavailable(f"Redis at JIKUAI_TEST_REDIS_URL is unreachable: {error}")
    return REDIS_URL


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        memory = MemoryCache()
        yield memory
        await memory.close()
        return
    url: str = request.getfixturevalue("redis_url")
    prefix = f"jikuai-test:{uuid.uuid4().hex}:"
    redis_cache = RedisCache(url, prefix=prefix)
    try:
        yield redis_cache
    finally:
        await redis_cache.close()
        async with Redis.from_url(url) as redis:
            leftovers = [key async for key in redis.scan_iter(match=f"{prefix}*")]
            if leftovers:
                await redis.delete(*leftovers)


async def test_a_missing_key_is_none(cache: Cache) -> None:
    assert await cache.get("never-set") is None


async def test_a_value_reads_back_byte_for_byte(cache: Cache) -> None:
    value = bytes(range(256))

    await cache.set("blob", value, ttl_seconds=60)

    assert await cache.get("blob") == value


async def test_setting_again_replaces_the_value(cache: Cache) -> None:
    await cache.set("key", b"first", ttl_seconds=60)
    await cache.set("key", b"second", ttl_seconds=60)

    assert await cache.get("key") == b"second"


async def test_keys_are_independent(cache: Cache) -> None:
    await cache.set("a", b"1", ttl_seconds=60)
    await cache.set("b", b"2", ttl_seconds=60)

    assert (await cache.get("a"), await cache.get("b")) == (b"1", b"2")


async def test_increment_starts_at_one_and_counts(cache: Cache) -> None:
    counts = [await cache.increment("failures:alice", ttl_seconds=60) for _ in range(4)]

    assert counts == [1, 2, 3, 4]
    assert await cache.get("failures:alice") == b"4"
    assert await cache.increment("failures:bob", ttl_seconds=60) == 1


async def test_increment_continues_from_a_set_number(cache: Cache) -> None:
    await cache.set("count", b"41", ttl_seconds=60)

    assert await cache.increment("count", ttl_seconds=60) == 42


async def test_concurrent_increments_are_all_counted(cache: Cache) -> None:
    counts = await asyncio.gather(*(cache.increment("hits", ttl_seconds=60) for _ in range(20)))

    assert sorted(counts) == list(range(1, 21))
    assert await cache.get("hits") == b"20"


async def test_add_sets_only_an_absent_key(cache: Cache) -> None:
    assert await cache.add("claim", b"first", ttl_seconds=60)
    assert not await cache.add("claim", b"second", ttl_seconds=60)
    assert await cache.get("claim") == b"first"


async def test_of_concurrent_adds_exactly_one_wins(cache: Cache) -> None:
    won = await asyncio.gather(*(cache.add("race", b"x", ttl_seconds=60) for _ in range(20)))
    assert sum(won) == 1


async def test_read_and_claim_reads_a_value_and_claims_another_key_once(cache: Cache) -> None:
    await cache.set("record", b"issued", ttl_seconds=60)

    first = await cache.read_and_claim("record", "record-used", ttl_seconds=60)
    second = await cache.read_and_claim("record", "record-used", ttl_seconds=60)
    missing = await cache.read_and_claim("never-set", "never-set-used", ttl_seconds=60)

    assert first == (b"issued", True)
    assert second == (b"issued", False)
    assert missing == (None, True)


async def test_delete_removes_a_value_and_resets_a_count(cache: Cache) -> None:
    await cache.set("key", b"value", ttl_seconds=60)
    await cache.increment("count", ttl_seconds=60)
    await cache.increment("count", ttl_seconds=60)

    await cache.delete("key")
    await cache.delete("count")

    assert await cache.get("key") is None
    assert await cache.get("count") is None
    assert await cache.increment("count", ttl_seconds=60) == 1


async def test_deleting_a_missing_key_is_not_an_error(cache: Cache) -> None:
    await cache.delete("never-set")

    assert await cache.get("never-set") is None


async def test_values_and_counts_expire_and_a_count_window_is_not_extended(cache: Cache) -> None:
    await cache.set("short", b"value", ttl_seconds=1)
    await cache.set("long", b"value", ttl_seconds=60)
    await cache.increment("window", ttl_seconds=1)
    # A later increment keeps the window that started with the first one.
    await cache.increment("window", ttl_seconds=60)

    await asyncio.sleep(1.1)

    assert await cache.get("short") is None
    assert await cache.get("long") == b"value"
    assert await cache.get("window") is None
    assert await cache.increment("window", ttl_seconds=60) == 1


async def test_ping_answers(cache: Cache) -> None:
    assert await cache.ping() is None


async def test_redis_caches_with_other_prefixes_do_not_share_keys(redis_url: str) -> None:
    run = uuid.uuid4().hex
    first = RedisCache(redis_url, prefix=f"jikuai-test:{run}:first:")
    second = RedisCache(redis_url, prefix=f"jikuai-test:{run}:second:")
    try:
        await first.set("key", b"first", ttl_seconds=60)
        await first.increment("count", ttl_seconds=60)

        assert await second.get("key") is None
        assert await second.increment("count", ttl_seconds=60) == 1
        assert await first.get("key") == b"first"
    finally:
        for each in (first, second):
            await each.delete("key")
            await each.delete("count")
            await each.close()


async def test_redis_keys_carry_the_prefix_and_an_expiry(redis_url: str) -> None:
    prefix = f"jikuai-test:{uuid.uuid4().hex}:"
    cache = RedisCache(redis_url, prefix=prefix)
    try:
        await cache.set("key", b"value", ttl_seconds=60)
        await cache.increment("count", ttl_seconds=30)

        async with Redis.from_url(redis_url) as redis:
            assert sorted(await redis.keys(f"{prefix}*")) == [
                f"{prefix}count".encode(),
                f"{prefix}key".encode(),
            ]
            assert 0 < await redis.ttl(f"{prefix}key") <= 60
            assert 0 < await redis.ttl(f"{prefix}count") <= 30
    finally:
        await cache.delete("key")
        await cache.delete("count")
        await cache.close()


async def test_an_unreachable_redis_fails_its_ping() -> None:
    cache = RedisCache("redis://127.0.0.1:1/0")
    try:
        with pytest.raises((RedisConnectionError, OSError)):
            await cache.ping()
    finally:
        await cache.close()


def test_the_embedded_default_is_the_in_process_store() -> None:
    assert isinstance(create_cache(None), MemoryCache)
    assert isinstance(create_cache("redis://127.0.0.1:6379/0"), RedisCache)

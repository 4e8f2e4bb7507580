"""The real stack for tests: migrated database, cache, key ring, the ASGI app over HTTP.

The suite runs on the embedded default (SQLite, in-process cache). With
JIKUAI_TEST_DATABASE_URL and JIKUAI_TEST_REDIS_URL set it runs again on PostgreSQL and Redis;
JIKUAI_REQUIRE_SERVICES=1 turns a missing or unreachable service into a failure.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from jikuai.integrations.wechat import create_standin_app
from jikuai.persistence.engine import create_engine
from tests.support.servers import serve_in_thread
from tests.support.stack import Stack, open_stack

DATABASE_URL = os.environ.get("JIKUAI_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("JIKUAI_TEST_REDIS_URL")
REQUIRE_SERVICES = os.environ.get("JIKUAI_REQUIRE_SERVICES") == "1"
WECHAT_APP_ID = "wx1234567890abcdef"
WECHAT_APP_SECRET = "test-wechat-secret-0123456789"


def _stacks() -> list[str]:
    if DATABASE_URL and REDIS_URL:
        return ["embedded", "services"]
    if REQUIRE_SERVICES:
        return ["embedded", "services-missing"]
    return ["embedded"]


@pytest.fixture(scope="session")
def wechat_base_url() -> Iterator[str]:
    """WeChat's code2Session, served by the stand-in on a loopback port."""
    app = create_standin_app(app_id=WECHAT_APP_ID, app_secret=WECHAT_APP_SECRET)
    with serve_in_thread(app) as base_url:
        yield base_url


@pytest.fixture(scope="session", params=_stacks())
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, wechat_base_url: str
) -> AsyncIterator[Stack]:
    data_dir: Path = tmp_path_factory.mktemp(request.param)
    if request.param == "services-missing":
        pytest.fail("JIKUAI_REQUIRE_SERVICES=1 but JIKUAI_TEST_DATABASE_URL/REDIS_URL are not set")
    database_url = redis_url = None
    if request.param == "services":
        database_url, redis_url = DATABASE_URL, REDIS_URL
        await _reset_postgres(database_url)  # type: ignore[arg-type]
    async with open_stack(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        wechat=(wechat_base_url, WECHAT_APP_ID, WECHAT_APP_SECRET),
    ) as opened:
        yield opened


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    except Exception as error:
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL at JIKUAI_TEST_DATABASE_URL is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    finally:
        await engine.dispose()
    await asyncio.sleep(0)

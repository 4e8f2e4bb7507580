"""The reader's pool holds its connections between requests: a request takes an idle one without
a checkout of SQLAlchemy's pool, waits its turn when all are lent, and never gets one that was
invalidated, is older than the recycle time, or was taken before the pool invalidated one."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.config import Settings
from jikuai.persistence import reader_pool
from jikuai.persistence.engine import Database, DatabaseSession

DATABASE_URL = os.environ.get("JIKUAI_TEST_DATABASE_URL")


@pytest.fixture(params=["embedded", "services"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database whose reader pool holds at most two connections."""
    if request.param == "embedded":
        url = f"sqlite+aiosqlite:///{tmp_path / 'db'}"
    elif DATABASE_URL:
        url = DATABASE_URL
    else:
        pytest.skip("JIKUAI_TEST_DATABASE_URL is not set")
    opened = Database.from_settings(
        Settings(data_dir=tmp_path, database_url=url, database_pool_size=2)
    )
    yield opened
    await opened.dispose()


@contextmanager
def checkouts(database: Database) -> Iterator[list[object]]:
    """Each checkout of SQLAlchemy's reader pool inside the block."""
    taken: list[object] = []

    def record(*args: object) -> None:
        taken.append(args[0])

    pool = database.reader.sync_engine.pool
    event.listen(pool, "checkout", record)
    try:
        yield taken
    finally:
        event.remove(pool, "checkout", record)


async def reader(session: DatabaseSession) -> AsyncConnection:
    connection = (await session.reads()).connection
    await connection.execute(text("SELECT 1"))
    return connection


async def next_is_a_new_checkout(database: Database, old: AsyncConnection) -> None:
    """The next request's connection is not `old` but one checked out of SQLAlchemy's pool."""
    session = database.session()
    with checkouts(database) as taken:
        assert await reader(session) is not old
    await session.close()
    assert len(taken) == 1


async def test_a_connection_passes_from_request_to_request_without_a_checkout(
    database: Database,
) -> None:
    first = database.session()
    with checkouts(database) as taken:
        connection = await reader(first)
        await first.close()
        second = database.session()
        again = await reader(second)
        await second.close()

    assert again is connection
    assert len(taken) == 1
    assert database.readers.in_use == 0


async def test_a_request_waits_for_a_connection_when_all_are_lent(database: Database) -> None:
    holders = [database.session() for _ in range(2)]
    lent = [await reader(each) for each in holders]
    late, later = database.session(), database.session()
    waiting = asyncio.ensure_future(reader(late))
    await asyncio.sleep(0.05)
    waiting_later = asyncio.ensure_future(reader(later))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    assert not waiting_later.done()

    await holders[1].close()
    assert await waiting is lent[1]  # first come, first served
    assert not waiting_later.done()
    await holders[0].close()
    assert await waiting_later is lent[0]

    await late.close()
    await later.close()
    assert database.readers.in_use == 0


async def test_a_connection_handed_to_a_cancelled_request_goes_to_the_next(
    database: Database,
) -> None:
    holders = [database.session() for _ in range(2)]
    for each in holders:
        await reader(each)
    cancelled, next_in_line = database.session(), database.session()
    gives_up = asyncio.ensure_future(reader(cancelled))
    await asyncio.sleep(0.05)
    waits = asyncio.ensure_future(reader(next_in_line))
    await asyncio.sleep(0.05)

    await holders[0].close()  # handed to the first waiter…
    gives_up.cancel()  # …which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await gives_up
    await waits

    await cancelled.close()
    await next_in_line.close()
    await holders[1].close()
    assert database.readers.in_use == 0


async def test_a_wait_ends_after_the_timeout_and_leaves_the_pool_whole(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader_pool, "TIMEOUT_SECONDS", 0.05)
    holders = [database.session() for _ in range(2)]
    for each in holders:
        await reader(each)
    late = database.session()

    with pytest.raises(TimeoutError):
        await reader(late)

    await late.close()
    for each in holders:
        await each.close()
    assert database.readers.in_use == 0
    after = database.session()
    await reader(after)
    await after.close()


async def test_an_invalidated_connection_is_not_lent_again(database: Database) -> None:
    session = database.session()
    broken = await reader(session)
    await broken.invalidate()
    await session.close()

    await next_is_a_new_checkout(database, broken)
    assert database.readers.in_use == 0


async def test_once_the_pool_invalidates_one_every_held_connection_is_replaced(
    database: Database,
) -> None:
    both = [database.session() for _ in range(2)]
    held = [await reader(each) for each in both]
    for each in both:
        await each.close()

    session = database.session()
    await (await reader(session)).invalidate()  # as when a statement finds it dropped
    await session.close()

    replaced = [database.session() for _ in range(2)]
    with checkouts(database) as taken:
        for each in replaced:
            assert await reader(each) not in held
    for each in replaced:
        await each.close()
    assert len(taken) == 2


async def test_a_connection_older_than_the_recycle_time_goes_back_to_the_pool(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = database.session()
    old = await reader(first)
    monkeypatch.setattr(reader_pool, "RECYCLE_SECONDS", 0.0)
    await first.close()

    await next_is_a_new_checkout(database, old)


async def test_a_connection_goes_back_without_the_transaction_a_statement_began(
    database: Database,
) -> None:
    first = database.session()
    connection = await reader(first)  # SQLAlchemy begins a transaction of its own to run it
    await first.close()

    assert not connection.in_transaction()


async def test_closing_the_pool_returns_every_connection(database: Database) -> None:
    sessions = [database.session() for _ in range(2)]
    for each in sessions:
        await reader(each)
    await sessions[0].close()

    await database.readers.close()
    await sessions[1].close()  # lent during the close: it goes back to SQLAlchemy's pool

    assert database.reader.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with pytest.raises(reader_pool.ReaderPoolClosed):
        await database.readers.lend()


async def test_a_request_cancelled_while_giving_its_connection_back_loses_no_place(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader_pool, "TIMEOUT_SECONDS", 1.0)
    for _ in range(2):  # as many as the pool holds
        session = database.session()
        await reader(session)
        closing = asyncio.ensure_future(session.close())
        await asyncio.sleep(0)  # on its way back (on SQLite, rolling back in aiosqlite's thread)
        closing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closing

    after = database.session()
    await reader(after)  # not a 1 s wait ending in TimeoutError
    await after.close()
    assert database.readers.in_use == 0


async def test_a_stale_connection_goes_back_to_the_pool_with_the_next_request(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    older, newer = database.session(), database.session()
    await reader(older)
    await asyncio.sleep(1.0)
    await reader(newer)
    await newer.close()
    await older.close()  # the next to be lent
    monkeypatch.setattr(reader_pool, "RECYCLE_SECONDS", 0.6)  # too old: the first, not the second

    session = database.session()
    await reader(session)
    await session.close()

    assert database.reader.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]

"""A request's database session gives back every connection it took, whenever the work that
asked for one ends: before the response, cancelled, or left running after it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jikuai.config import Settings
from jikuai.persistence.engine import Database, SessionClosed


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    opened = Database.from_settings(
        Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'db'}")
    )
    yield opened
    await opened.dispose()


def checked_out(database: Database) -> int:
    """Connections lent by the reader's pool or checked out of the writer's."""
    writing: int = database.primary.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
    return database.readers.in_use + writing


async def test_a_connection_on_its_way_when_the_request_ends_goes_back(database: Database) -> None:
    session = database.session()
    abandoned = asyncio.ensure_future(session.reads())
    await asyncio.sleep(0)  # the reader is being opened

    await session.close()

    with pytest.raises(SessionClosed):
        await abandoned
    assert checked_out(database) == 0


async def test_a_connection_for_a_cancelled_field_goes_back(database: Database) -> None:
    session = database.session()
    cancelled = asyncio.ensure_future(session.reads())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled

    await session.close()

    assert checked_out(database) == 0


async def test_no_connection_is_opened_after_the_request_ended(database: Database) -> None:
    session = database.session()
    await session.reads()
    await session.close()

    with pytest.raises(SessionClosed):
        await session.reads()
    assert checked_out(database) == 0

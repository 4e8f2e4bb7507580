"""Engines and the per-request database session.

A request checks out at most one connection from the primary pool (and one from the replica
pool when a replica is configured and the request only reads). Writes go through a unit of work
on the primary connection; once a request has written, its later reads stay on the primary so a
mutation's payload sees its own writes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from jikuai.config import Settings
from jikuai.persistence.unit_of_work import Repositories, SqlUnitOfWork


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """The primary engine and an optional read replica, shared by every request."""

    def __init__(self, primary: AsyncEngine, replica: AsyncEngine | None = None) -> None:
        self.primary = primary
        self.replica = replica

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        primary = create_engine(
            settings.primary_database_url, pool_size=settings.database_pool_size
        )
        replica = None
        if settings.database_replica_url:
            replica = create_engine(
                settings.database_replica_url, pool_size=settings.database_pool_size
            )
        return cls(primary, replica)

    def session(self) -> DatabaseSession:
        return DatabaseSession(self)

    async def ping(self) -> None:
        for engine in (self.primary, self.replica):
            if engine is not None:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.primary.dispose()
        if self.replica is not None:
            await self.replica.dispose()


class DatabaseSession:
    """One request's connections, opened lazily and closed by `close()`."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._primary: AsyncConnection | None = None
        self._replica: AsyncConnection | None = None
        self._has_written = False
        # Sibling fields resolve concurrently: one of them opens a connection, the rest wait.
        self._opening = asyncio.Lock()

    async def reads(self) -> Repositories:
        """Repositories for reading: on the replica, unless this request has written."""
        replica = self._database.replica
        if replica is None or self._has_written:
            return Repositories(await self._primary_connection())
        async with self._opening:
            if self._replica is None:
                self._replica = await replica.connect()
        return Repositories(self._replica)

    def unit_of_work(self) -> SqlUnitOfWork:
        self._has_written = True
        return SqlUnitOfWork(self._primary_connection)

    async def close(self) -> None:
        for connection in (self._primary, self._replica):
            if connection is not None:
                await connection.close()
        self._primary = self._replica = None

    async def _primary_connection(self) -> AsyncConnection:
        async with self._opening:
            if self._primary is None:
                self._primary = await self._database.primary.connect()
        return self._primary

"""Engines and the per-request database session.

Reads run on an autocommit connection (to the replica when one is configured): a query is one
round trip, with no BEGIN or ROLLBACK around it. The reader's connections stay out of
SQLAlchemy's pool between requests (`reader_pool`). Writes go through a unit of work on a
transactional connection to the primary; once a request has written, its later reads use that
same connection, so a mutation's payload sees its own writes. A read-only request takes one
connection, and so does a mutation that reads only after it writes.

Connections are not pinged before use: a connection the database dropped fails one statement,
SQLAlchemy then discards the connections of its generation, and the next request connects
afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from jikuai.config import Settings
from jikuai.persistence.reader_pool import RECYCLE_SECONDS, Held, ReaderPool, release
from jikuai.persistence.unit_of_work import Repositories, SqlUnitOfWork


def create_engine(url: str, *, pool_size: int = 10, autocommit: bool = False) -> AsyncEngine:
    """A pool of `pool_size` connections. The reader's (`autocommit`) has no overflow: under a
    burst of queries a request waits for a connection, rather than opening one that is closed
    again when it comes back (hundreds a second under load). The writer's may open as many
    again, for work that holds one connection while it takes another (a job's lease)."""
    options: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": 0 if autocommit else pool_size,
        "hide_parameters": True,  # bound values (ciphertexts, openids) never reach a log
    }
    if autocommit:  # with no transaction to roll back when a connection returns to the pool
        options |= {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    return create_async_engine(url, pool_recycle=RECYCLE_SECONDS, **options)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """The primary for writes and a pool of autocommit connections for reads, shared by every
    request. Reads go to the replica when one is configured."""

    def __init__(self, primary: AsyncEngine, reader: AsyncEngine, *, pool_size: int) -> None:
        self.primary = primary
        self.reader = reader
        self.readers = ReaderPool(reader, size=pool_size)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        pool_size = settings.database_pool_size
        primary = create_engine(settings.primary_database_url, pool_size=pool_size)
        reader = create_engine(
            settings.database_replica_url or settings.primary_database_url,
            pool_size=pool_size,
            autocommit=True,
        )
        return cls(primary, reader, pool_size=pool_size)

    def session(self) -> DatabaseSession:
        return DatabaseSession(self)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A reader connection outside any request, lent by the reader's pool."""
        held = await self.readers.lend()
        try:
            yield held.connection
        finally:
            await self.readers.give_back(held)

    async def ping(self) -> None:
        async with self.primary.connect() as connection:
            await connection.execute(text("SELECT 1"))
        async with self.reading() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.readers.close()
        await self.primary.dispose()
        await self.reader.dispose()


class SessionClosed(Exception):
    """The request's session was asked for a connection after the request ended."""


class DatabaseSession:
    """One request's connections, opened lazily and closed by `close()`."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._reader: Held | None = None
        self._writer: AsyncConnection | None = None
        self._writer_repositories: Repositories | None = None
        self._in_flight: set[asyncio.Future[AsyncConnection]] = set()
        self._closed = False
        self._reads_on_primary = False
        # Sibling fields resolve concurrently: one of them opens a connection, the rest wait.
        self._opening = asyncio.Lock()

    async def reads(self) -> Repositories:
        """Repositories for reading; after a write, or in a request that writes, on the
        connection that writes."""
        if self._writer is None and not self._reads_on_primary:
            reader = self._reader or await self._lent_reader()
            return reader.repositories
        if self._writer_repositories is None:  # the writer, once opened, stays the same
            self._writer_repositories = Repositories(await self._writer_connection())
        return self._writer_repositories

    def read_on_primary(self) -> None:
        """Serve this request's reads from the connection its writes will use: a mutation
        takes one connection from the pools, and its checks read what it is about to change
        on the primary, not on a replica that may lag."""
        self._reads_on_primary = True

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._writer_connection)

    async def _lent_reader(self) -> Held:
        """The request's reader connection: an idle one of the reader's pool if there is one,
        taken at once, else the first the pool can lend (one sibling field waits for it, the
        others for that one). One that arrives after the request ended goes straight back."""
        if self._closed:
            raise SessionClosed
        readers = self._database.readers
        if not self._opening.locked():
            self._reader = readers.take_idle()
        if self._reader is None:
            async with self._opening:
                if self._closed:  # while a sibling held the lock
                    raise SessionClosed
                if self._reader is None:
                    lent = await readers.lend()
                    if self._closed:
                        await readers.give_back(lent)
                        raise SessionClosed
                    self._reader = lent
        return self._reader

    async def _writer_connection(self) -> AsyncConnection:
        async with self._opening:
            if self._writer is None:
                self._writer = await self._connect(self._database.primary)
        return self._writer

    async def _connect(self, engine: AsyncEngine) -> AsyncConnection:
        """A connection of `engine`'s pool, for this request only.

        Work graphql-core abandons (the siblings of a field that failed) may still run after
        the response. A connection on its way when the request ends, or when the field that
        asked for it is cancelled, belongs to `close`, which stops its wait for a free
        connection or returns it to the pool; after `close`, no connection is opened at all.
        """
        if self._closed:
            raise SessionClosed
        if _has_idle(engine):
            return await self._take_idle(engine)
        opening = asyncio.ensure_future(engine.connect())
        self._in_flight.add(opening)
        try:
            connection = await asyncio.shield(opening)
        except asyncio.CancelledError:
            if opening.cancelled():  # by `close`: the request ended meanwhile
                raise SessionClosed from None
            raise
        if opening not in self._in_flight:  # the request ended meanwhile
            raise SessionClosed
        self._in_flight.discard(opening)
        return connection

    async def _take_idle(self, engine: AsyncEngine) -> AsyncConnection:
        """An idle connection of the pool, without a task of its own: taking it awaits only
        if the pool must reconnect it, and SQLAlchemy puts it back if that is cancelled."""
        connection = await engine.connect()
        if self._closed:  # the request ended while the pool reconnected
            await release(connection)
            raise SessionClosed
        return connection

    async def close(self) -> None:
        """Give the request's connections back, the writer even if the reader fails to go."""
        reader, writer = self._reader, self._writer
        self._reader = self._writer = self._writer_repositories = None
        self._closed = True
        in_flight, self._in_flight = self._in_flight, set()
        for opening in in_flight:
            opening.cancel()  # one waiting for a free connection stops waiting
        for opened in await asyncio.gather(*in_flight, return_exceptions=True):
            if isinstance(opened, AsyncConnection):  # it arrived before it could be cancelled
                await release(opened)
        try:
            if reader is not None:
                await self._database.readers.give_back(reader)
        finally:
            if writer is not None:
                await release(writer)


def _has_idle(engine: AsyncEngine) -> bool:
    """Whether the pool holds a connection nobody uses (pools that keep none never do)."""
    checked_in = getattr(engine.sync_engine.pool, "checkedin", None)
    return checked_in is not None and checked_in() > 0

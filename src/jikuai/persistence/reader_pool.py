"""The reader's connections, held between requests instead of going back to SQLAlchemy's pool.

Most queries read once. Checking a connection out of SQLAlchemy's pool and in again costs more
CPU than that read: the pool's events, its lock and two switches into a greenlet, about a quarter
of a one-customer query. A reader connection is in autocommit mode and nothing sets state on it,
so it carries nothing from one request to the next. Once the pool has lent one, it stays out of
the pool, here, and passes from request to request; each carries its repositories with it.

A connection goes back to SQLAlchemy's pool, which closes or recycles it, instead of being lent
again when it was closed or invalidated (a statement found it dropped), once SQLAlchemy has
invalidated any reader connection since it was taken, and `RECYCLE_SECONDS` after it was
taken. A dropped connection usually means the database restarted and the others are as stale:
SQLAlchemy reconnects, on checkout, those it knows to be; when they were not, each costs one
checkout.

What a request started keeps running after it ended only in rare cases (the siblings of a
field that failed on graphql-core's path). Such work cannot take a connection any more, and its
loaders refuse to read; but a coroutine that still holds the request's repositories could run
one more read on the connection after it passed to the next request. That read waits its turn
behind the new request's statements on the connection (one at a time, as SQLAlchemy's adapter
runs them) and its rows go only to the coroutine that asked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jikuai.persistence.unit_of_work import Repositories

log = logging.getLogger(__name__)

RECYCLE_SECONDS = 3600  # a connection's longest life, here and in SQLAlchemy's pools
TIMEOUT_SECONDS = 30.0  # as SQLAlchemy's pools wait for a connection (their `pool_timeout`)


@dataclass(slots=True, eq=False)
class Held:
    """A connection taken from SQLAlchemy's pool, with its repositories."""

    connection: AsyncConnection
    generation: int
    since: float = field(default_factory=time.monotonic)
    repositories: Repositories = field(init=False)

    def __post_init__(self) -> None:
        self.repositories = Repositories(self.connection)


class ReaderPoolClosed(Exception):
    """The pool was closed (the process is shutting down)."""


class ReaderPool:
    """At most `size` connections of `engine`, lent to one request at a time.

    A request takes an idle one (`take_idle`, without waiting), or `lend` opens one while fewer
    than `size` are held, or else waits for one to come back, first come first served, for at
    most `TIMEOUT_SECONDS`. `give_back` returns it. Connections are lent last in, first out, so
    a quiet period leaves the ones it did not need idle.
    """

    def __init__(self, engine: AsyncEngine, *, size: int) -> None:
        self._engine = engine
        self._size = size
        self._idle: list[Held] = []
        self._retired: list[Held] = []  # taken out of `_idle`, still to be closed
        self._waiting: deque[asyncio.Future[Held | None]] = deque()
        self._held = 0  # idle, lent, retired, or being opened
        self._generation = 0
        self._closed = False
        self.lent = 0  # how many times a connection was lent, for tests and metrics
        event.listen(engine.sync_engine.pool, "invalidate", self._invalidated)

    @property
    def in_use(self) -> int:
        """Connections lent to a request or being opened for one."""
        return self._held - len(self._idle) - len(self._retired)

    def take_idle(self) -> Held | None:
        """An idle connection that may be lent again, or None; never waits."""
        while self._idle:
            held = self._idle.pop()
            if self._current(held):
                self.lent += 1
                return held
            self._retired.append(held)
        return None

    async def lend(self) -> Held:
        """An idle connection, a new one, or the first to come back."""
        await self._close_retired()
        held = self.take_idle()
        if held is not None:
            return held
        if self._closed:
            raise ReaderPoolClosed
        if self._held < self._size:
            self._held += 1
            held = await self._open()
        else:
            held = await self._wait() or await self._open()
        self.lent += 1
        return held

    async def give_back(self, held: Held) -> None:
        """Return a lent connection: to the idle ones, or to SQLAlchemy's pool if it may not be
        lent again. Cancelled on the way, it is retired, never lost."""
        connection = held.connection
        if self._closed or connection.closed or connection.invalidated or not self._current(held):
            await self._close(held)
            return
        if connection.in_transaction():  # a statement SQLAlchemy ran began one
            try:
                await connection.rollback()
            except Exception:
                log.warning("discarded a reader connection that could not roll back", exc_info=True)
                await self._close(held)
                return
            except BaseException:
                self._retired.append(held)
                raise
        self._hand(held)
        await self._close_retired()

    async def close(self) -> None:
        """Return every idle connection to SQLAlchemy's pool; lent ones go there when given
        back. Requests still waiting for a connection fail."""
        self._closed = True
        self._retired += self._idle
        self._idle = []
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(ReaderPoolClosed())
        await self._close_retired()

    def _current(self, held: Held) -> bool:
        return (
            held.generation == self._generation and time.monotonic() - held.since < RECYCLE_SECONDS
        )

    def _invalidated(self, *_: Any) -> None:
        """SQLAlchemy's pool invalidated a connection: those held now may be as stale."""
        self._generation += 1

    async def _open(self) -> Held:
        """A connection from SQLAlchemy's pool for a place already counted in `_held`."""
        generation = self._generation
        try:
            connection = await self._engine.connect()
        except BaseException:
            self._hand(None)  # the place is free again
            raise
        return Held(connection, generation)

    async def _wait(self) -> Held | None:
        """The first connection given back, or None when a place became free to open one."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Held | None] = loop.create_future()
        self._waiting.append(waiter)
        expiry = loop.call_later(TIMEOUT_SECONDS, _expire, waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._hand(waiter.result())  # handed over as this wait ended: pass it on
            elif waiter in self._waiting:
                self._waiting.remove(waiter)
            raise
        finally:
            expiry.cancel()

    async def _close_retired(self) -> None:
        while self._retired:
            await self._close(self._retired.pop())

    async def _close(self, held: Held) -> None:
        """Give a connection back to SQLAlchemy's pool, and its place to whoever waits."""
        try:
            await release(held.connection)
        finally:
            self._hand(None)

    def _hand(self, held: Held | None) -> None:
        """A connection (or, with None, a free place) to the first waiter, else to the idle
        ones (or the count of places)."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(held)
                return
        if held is None:
            self._held -= 1
        elif self._closed:
            self._retired.append(held)
        else:
            self._idle.append(held)


def _expire(waiter: asyncio.Future[Held | None]) -> None:
    """A wait's time is up (cheaper than `asyncio.timeout`, which every wait would pay)."""
    if not waiter.done():
        waiter.set_exception(TimeoutError("no reader connection came free in time"))


async def release(connection: AsyncConnection) -> None:
    """Close a connection, which returns it to SQLAlchemy's pool; one a cancelled statement
    left unusable (an error in one field cancels its siblings' work) is discarded, so it
    neither reaches the pool nor fails the response."""
    try:
        await connection.close()
    except Exception:
        log.warning("discarded a connection that could not be closed", exc_info=True)
        await connection.invalidate()

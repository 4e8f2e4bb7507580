"""Hot reads straight from the driver's records.

On a page of customers or loans, SQLAlchemy's execution context and result rows cost more CPU
than PostgreSQL spends answering. A `Query` is a SELECT built once with SQLAlchemy. On
PostgreSQL's autocommit reader it runs as asyncpg's own prepared statement, and each record
becomes a dict with only the conversions its columns' types ask for (a money column's
`Decimal`, say). Anywhere else, SQLite or a transaction on the primary, it runs through
SQLAlchemy. Both give the same dicts, keyed by column name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

Convert = Callable[[Any], Any]
# What leaves a connection that is still open unusable: the server ending the session, or the
# driver's protocol state broken by a message that crossed a query (a session ended meanwhile).
_UNUSABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InternalClientError,
)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    parameters: tuple[tuple[str, Convert | None], ...]  # in order, with their bind processing
    columns: tuple[str, ...]
    conversions: tuple[tuple[str, Convert], ...]


class Query:
    """A SELECT of named parameters, its rows read as dicts.

    `build` makes the statement for a dialect's name (lists are bound differently on each:
    see `persistence.lists.among`). On PostgreSQL no parameter may expand: the statement is
    prepared once, whatever the values.
    """

    def __init__(self, build: Callable[[str], Select[Any]]) -> None:
        self._build = build
        self._statements: dict[str, Select[Any]] = {}
        self._compiled: _Compiled | None = None
        self._names: tuple[str, ...] | None = None

    async def all(self, connection: AsyncConnection, **parameters: Any) -> list[dict[str, Any]]:
        driver = _autocommit_asyncpg(connection)
        if driver is None:
            statement = self.statement(connection.dialect.name)
            result = await connection.execute(statement, parameters)
            return _rows(result, self._columns(statement), ())
        sync, adapted = driver
        compiled = self._compiled or self._compile(connection.dialect)
        arguments = [
            parameters[name] if bind is None else bind(parameters[name])
            for name, bind in compiled.parameters
        ]
        announce = sync.dispatch.before_cursor_execute
        if announce:  # listeners counting statements see this one too (with no context)
            announce(sync, None, compiled.sql, arguments, None, False)
        try:
            async with adapted._execute_mutex:  # one statement at a time, as SQLAlchemy's own
                records = await adapted._connection.fetch(compiled.sql, *arguments)
        except BaseException as error:
            if adapted._connection.is_closed() or isinstance(error, _UNUSABLE):
                await connection.invalidate()  # the pool must not hand it out again
            raise
        return _rows(records, compiled.columns, compiled.conversions)

    def statement(self, dialect: str) -> Select[Any]:
        found = self._statements.get(dialect)
        if found is None:
            found = self._statements[dialect] = self._build(dialect)
        return found

    def _columns(self, statement: Select[Any]) -> tuple[str, ...]:
        """The selected columns' names (the same on every dialect), interned once: a
        dataclass made with `**row` matches interned keywords by identity, five times faster
        than by comparing text."""
        if self._names is None:
            self._names = tuple(sys.intern(str(each.name)) for each in statement.selected_columns)
        return self._names

    def _compile(self, dialect: Dialect) -> _Compiled:
        statement = self.statement(dialect.name)
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("a parameter of a driver-level query cannot expand")
        conversions = []
        for column in statement.selected_columns:
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                conversions.append((column.name, process))
        binds = compiled.binds
        self._compiled = _Compiled(
            sql=compiled.string,
            parameters=tuple(
                (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                for name in compiled.positiontup or ()
            ),
            columns=self._columns(statement),
            conversions=tuple(conversions),
        )
        return self._compiled


def _rows(
    records: Iterable[Sequence[Any]],
    columns: tuple[str, ...],
    conversions: tuple[tuple[str, Convert], ...],
) -> list[dict[str, Any]]:
    """The records as dicts keyed by `columns`, converted where the types ask."""
    rows = [dict(zip(columns, record, strict=True)) for record in records]
    for column, convert in conversions:
        for row in rows:
            value = row[column]
            if value is not None:
                row[column] = convert(value)
    return rows


def _autocommit_asyncpg(connection: AsyncConnection) -> tuple[Connection, Any] | None:
    """The SQLAlchemy connection and its adapter of the asyncpg connection underneath, if this
    is one outside any transaction (the reader's autocommit connection); otherwise None.

    The adapter is reached through its private attributes: the asyncpg connection, and the
    lock that keeps two statements off one connection at once. The tests run every query on
    both paths, so a SQLAlchemy release that renames them fails there, not in production.
    """
    if connection.dialect.driver != "asyncpg" or connection.sync_connection is None:
        return None
    sync = connection.sync_connection
    if sync.invalidated or sync.closed:
        return None
    adapted = sync.connection.dbapi_connection
    if adapted is None or not adapted.autocommit:
        return None
    return sync, adapted

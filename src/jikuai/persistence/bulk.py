"""Inserting many rows at once: binary COPY on PostgreSQL (asyncpg), a multi-row INSERT
elsewhere.

COPY skips the statement's per-row parameter handling and most of the server's per-statement
work, which is what a bulk import spends its time on. Values go through the columns' own bind
processors first (money as whole fen, times in UTC), so both paths store the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

_UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


class UniqueViolation(Exception):
    """A row collided with one already there; the message is the database's own."""


async def insert_rows(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (every column of `table` by name) in the connection's transaction; a
    unique constraint broken is UniqueViolation on either path."""
    if not rows:
        return
    if connection.dialect.driver != "asyncpg":
        await _execute_many(connection, table, rows)
        return
    columns = [column.name for column in table.columns]
    processors = _processors(connection, table)
    records = [
        tuple(
            process(row[name]) if process is not None else row[name]
            for name, process in zip(columns, processors, strict=True)
        )
        for row in rows
    ]
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
    except Exception as error:
        if getattr(error, "sqlstate", None) == _UNIQUE_VIOLATION:
            raise UniqueViolation(str(error)) from None
        raise


async def _execute_many(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    try:
        await connection.execute(insert(table), list(rows))
    except IntegrityError as error:
        if "UNIQUE" in str(error.orig).upper():
            raise UniqueViolation(str(error.orig)) from None
        raise


def _processors(connection: AsyncConnection, table: Table) -> list[Callable[[Any], Any] | None]:
    dialect = connection.dialect
    return [column.type.bind_processor(dialect) for column in table.columns]

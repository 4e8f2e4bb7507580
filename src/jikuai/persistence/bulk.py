"""Inserting many rows at once: binary COPY on PostgreSQL (asyncpg), a multi-row INSERT
elsewhere.

COPY skips the statement's per-row parameter handling and most of the server's per-statement
work, which is what a bulk import spends its time on. Values go through the columns' own bind
processors first (money as whole fen, times in UTC), so both paths store the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

_UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


class UniqueViolation(Exception):
    """A row collided with one already there; the message is the database's own."""


async def insert_rows(connection: AsyncConnection, table: Table, rows: Sequence[object]) -> None:
    """Insert `rows`, objects with an attribute for every column of `table` (the dataclasses
    of the domain), in the connection's transaction; a unique constraint broken is
    UniqueViolation on either path."""
    if not rows:
        return
    columns = [column.name for column in table.columns]
    values = attrgetter(*columns)
    if connection.dialect.driver != "asyncpg":
        named = [dict(zip(columns, values(row), strict=True)) for row in rows]
        await _execute_many(connection, table, named)
        return
    processors = [
        (position, process)
        for position, column in enumerate(table.columns)
        if (process := column.type.bind_processor(connection.dialect)) is not None
    ]
    records = []
    for row in rows:
        record = list(values(row))
        for position, process in processors:
            record[position] = process(record[position])
        records.append(record)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
    except Exception as error:
        if getattr(error, "sqlstate", None) == _UNIQUE_VIOLATION:
            raise UniqueViolation(str(error)) from None
        raise


async def _execute_many(
    connection: AsyncConnection, table: Table, rows: list[dict[str, Any]]
) -> None:
    try:
        await connection.execute(insert(table), rows)
    except IntegrityError as error:
        if "UNIQUE" in str(error.orig).upper():
            raise UniqueViolation(str(error.orig)) from None
        raise

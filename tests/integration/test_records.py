"""Hot reads give the same rows on both paths: straight from asyncpg's records on the reader's
autocommit connection, and through SQLAlchemy in a transaction on the primary (on SQLite, both
are SQLAlchemy's). Statement listeners see the driver's statements too."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from asyncpg import PostgresError
from sqlalchemy import text

from jikuai.domain.customers.model import CustomerFilter, Segment
from jikuai.persistence.unit_of_work import Repositories
from tests.support.credit import DRAW, credit_line_id, local_uuid, mutate, open_line
from tests.support.stack import Stack

Read = Callable[[Repositories], Awaitable[Any]]


async def _same_both_ways(stack: Stack, read: Read) -> Any:
    """What `read` finds on the reader, having checked the primary finds the same values of
    the same types, and that the reader's listeners saw one statement."""
    database = stack.services.database
    async with database.reading() as reader:
        with stack.count_statements(writer=False) as statements:
            on_reader = await read(Repositories(reader))
    async with database.primary.connect() as primary, primary.begin():
        on_primary = await read(Repositories(primary))
    assert _typed(on_reader) == _typed(on_primary)
    assert len(statements) == 1
    return on_reader


def _typed(found: Any) -> Any:
    """Values with their types, so an int that should be a Decimal does not pass as equal."""
    if isinstance(found, list | tuple):
        return [_typed(each) for each in found]
    return [(field.name, type(value), value) for field, value in _fields(found)]


def _fields(found: Any) -> list[tuple[dataclasses.Field[Any], Any]]:
    return [(field, getattr(found, field.name)) for field in dataclasses.fields(found)]


@pytest.fixture
async def borrower(stack: Stack) -> uuid.UUID:
    """A customer with two loans."""
    line = await open_line(stack)
    line_id = await credit_line_id(stack, line)
    for amount in ("1000", "2500.50"):
        drawn = await mutate(
            stack,
            DRAW,
            "drawCredit",
            line.token,
            input={
                "creditLineId": line_id,
                "amount": amount,
                "days": 30,
                "idempotencyKey": str(uuid.uuid4()),
            },
        )
        assert drawn["userErrors"] == [], drawn
    return uuid.UUID(local_uuid(line.customer_id))


async def _first(reads: Repositories) -> list[Any]:
    return list(
        await reads.customers.page(
            institution_id=None, only_id=None, filter=CustomerFilter(), after=None, limit=3
        )
    )


async def test_loans_of_customers_are_the_same_on_both_paths(
    stack: Stack, borrower: uuid.UUID
) -> None:
    found = await _same_both_ways(
        stack, lambda reads: reads.loans.of_customers([borrower, uuid.uuid4()])
    )

    assert len(found) == 2


@pytest.mark.parametrize(
    "read",
    [
        _first,
        lambda reads: reads.customers.page(
            institution_id=None,
            only_id=None,
            filter=CustomerFilter(segment=Segment.FARMER),
            after=uuid.UUID(int=0),
            limit=5,
        ),
    ],
    ids=["page", "filtered page after a cursor"],
)
async def test_pages_of_customers_are_the_same_on_both_paths(
    stack: Stack, borrower: uuid.UUID, read: Read
) -> None:
    assert await _same_both_ways(stack, read)


async def test_customers_by_id_are_the_same_on_both_paths(
    stack: Stack, borrower: uuid.UUID
) -> None:
    first = await _same_both_ways(stack, _first)
    ids = [each.id for each in first]
    institution = first[0].institution_id

    for read in (
        lambda reads: reads.customers.by_id([borrower], institution_id=None),
        lambda reads: reads.customers.by_id([*ids, borrower, *ids], institution_id=None),
        lambda reads: reads.customers.by_id(ids, institution_id=institution),
    ):
        assert await _same_both_ways(stack, read)


async def test_a_connection_the_database_dropped_is_not_reused(
    stack: Stack, borrower: uuid.UUID
) -> None:
    database = stack.services.database
    if database.reader.dialect.name != "postgresql":
        pytest.skip("reads come from the driver's records on PostgreSQL only")
    session = database.session()
    try:
        reads = await session.reads()
        backend = await reads.connection.scalar(text("SELECT pg_backend_pid()"))
        async with database.primary.connect() as primary:
            await primary.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

        # Whichever the driver notices first: the session's end, or the query crossing it.
        with pytest.raises((asyncpg.InterfaceError, asyncpg.InternalClientError, PostgresError)):
            await reads.customers.by_id([borrower], institution_id=None)
        assert reads.connection.invalidated
    finally:
        await session.close()

    fresh = database.session()
    try:
        found = await (await fresh.reads()).customers.by_id([borrower], institution_id=None)
    finally:
        await fresh.close()
    assert [each.id for each in found] == [borrower]

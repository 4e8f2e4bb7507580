"""The field app's sealed batch; an import interrupted part-way resumes where it stopped; two
imports of the same household at once never duplicate it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from jikuai.domain.villages.importing import CHUNK_ROWS, RosterContent, import_roster
from jikuai.domain.villages.model import ImportStatus, RosterSource
from jikuai.domain.villages.rosters import Column, RosterRow
from jikuai.persistence.tables.villages import roster_imports, village_households
from tests.support.credit import local_uuid
from tests.support.points import business_today, db_session
from tests.support.stack import Stack
from tests.support.villages import (
    IMPORT,
    counts,
    household,
    import_batch,
    roster_csv,
    upload,
    village_bank,
)


async def test_a_sealed_batch_from_the_field_app(stack: Stack) -> None:
    setup = await village_bank(stack)
    officer = await stack.token(setup.username("o1"))
    rows: list[dict[str, object]] = [household(stack), household(stack, phone="bad")]
    rows[0]["family_size"] = 5  # numbers may come as JSON numbers
    rows[0]["land_area"] = 12.5

    payload = await import_batch(stack, officer, setup.village_id, rows)

    assert payload["rosterImport"]["source"] == "BATCH"
    assert counts(payload) == (1, 0, 0, 1)
    assert [(e["line"], e["column"], e["code"]) for e in payload["rowErrors"]] == [
        (2, "phone", "INVALID_PHONE")
    ]
    assert counts(await import_batch(stack, officer, setup.village_id, rows)) == (0, 0, 1, 1)


async def test_a_batch_that_does_not_open_or_is_not_rows(stack: Stack) -> None:
    setup = await village_bank(stack)
    officer = await stack.token(setup.username("o1"))
    cases = {
        stack.seal("idNumber", "[]"): "ENVELOPE_INVALID",  # sealed for another field
        stack.seal(
            "sealedRows", "[]", now=datetime.now(UTC) - timedelta(hours=1)
        ): "ENVELOPE_INVALID",
        stack.seal("sealedRows", '{"name": "x"}'): "INVALID_FILE",
        stack.seal("sealedRows", "[" * 5000 + "]" * 5000): "INVALID_FILE",
        stack.seal("sealedRows", json.dumps([{}] * 1001)): "INVALID_LENGTH",
    }
    for sealed, code in cases.items():
        body = await stack.gql(
            IMPORT, {"input": {"villageId": setup.village_id, "sealedRows": sealed}}, token=officer
        )
        payload = body["data"]["importVillageRoster"]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["sealedRows"], code)]
    neither = await stack.gql(IMPORT, {"input": {"villageId": setup.village_id}}, token=officer)
    assert [e["code"] for e in neither["data"]["importVillageRoster"]["userErrors"]] == ["REQUIRED"]


class Interrupted(Exception):
    pass


def rows_then_fault(rows: list[RosterRow], fault_after: int) -> Iterator[RosterRow]:
    for position, row in enumerate(rows):
        if position == fault_after:
            raise Interrupted
        yield row


async def test_an_interrupted_import_resumes_where_it_stopped(stack: Stack) -> None:
    setup = await village_bank(stack)
    rows = [
        RosterRow(line, {Column(key): value for key, value in household(stack).items()})
        for line in range(2, 2 + CHUNK_ROWS + 300)
    ]
    content = RosterContent(RosterSource.FILE, "big.csv", hashlib.sha256(b"big").digest())

    async def run(items: Iterator[RosterRow]) -> None:
        await import_directly(stack, setup.village_id, content, items)

    with pytest.raises(Interrupted):
        await run(rows_then_fault(rows, CHUNK_ROWS + 150))
    (stopped,) = await imports_of(stack, setup.village_id)
    assert (stopped["status"], stopped["lines_done"], stopped["inserted"]) == (
        ImportStatus.RUNNING.value, CHUNK_ROWS + 1, CHUNK_ROWS
    )  # fmt: skip
    assert await household_count(stack, setup.village_id) == CHUNK_ROWS

    await run(iter(rows))

    (finished,) = await imports_of(stack, setup.village_id)
    assert (finished["id"], finished["status"]) == (stopped["id"], ImportStatus.COMPLETED.value)
    assert (finished["rows"], finished["inserted"], finished["unchanged"]) == (
        len(rows), len(rows), 0
    )  # fmt: skip
    assert await household_count(stack, setup.village_id) == len(rows)


async def test_two_imports_of_one_household_at_once_keep_one(stack: Stack) -> None:
    setup = await village_bank(stack)
    officer = await stack.token(setup.username("o1"))
    row = household(stack)
    first, second = roster_csv([row]), roster_csv([row | {"family_size": "6"}])
    results = await asyncio.gather(
        upload(stack, officer, setup.village_id, first),
        upload(stack, officer, setup.village_id, second),
        return_exceptions=True,
    )
    assert await household_count(stack, setup.village_id) == 1
    # One saved the household; the other either updated it after, or lost the race and said so.
    outcomes = sorted(
        "error" if isinstance(each, BaseException) else
        (each["userErrors"][0]["code"] if each["userErrors"] else "ok")
        for each in results
    )  # fmt: skip
    assert outcomes in (["ok", "ok"], ["CONCURRENT_UPDATE", "ok"]), results


async def import_directly(
    stack: Stack, village_id: str, content: RosterContent, items: Iterator[RosterRow]
) -> None:
    """The import as the command line runs it (no staff member), from rows already made."""
    async with db_session(stack) as session:
        await import_roster(
            items,
            village_id=uuid.UUID(local_uuid(village_id)),
            content=content,
            actor=None,
            unit_of_work=session.unit_of_work,
            vault=stack.services.households,
            now=datetime.now(UTC),
            today=business_today(),
            request_id="test",
        )


async def imports_of(stack: Stack, village_id: str) -> list[dict[str, object]]:
    async with stack.services.database.primary.connect() as connection:
        rows = await connection.execute(
            select(roster_imports).where(
                roster_imports.c.village_id == uuid.UUID(local_uuid(village_id))
            )
        )
        return [dict(row._mapping) for row in rows]


async def household_count(stack: Stack, village_id: str) -> int:
    async with stack.services.database.primary.connect() as connection:
        return int(
            await connection.scalar(
                select(func.count()).where(
                    village_households.c.village_id == uuid.UUID(local_uuid(village_id))
                )
            )
            or 0
        )


async def test_a_head_named_again_after_the_resume_point_is_still_refused(stack: Stack) -> None:
    setup = await village_bank(stack)
    first = household(stack)
    cells = [household(stack) for _ in range(CHUNK_ROWS + 20)]
    cells[CHUNK_ROWS + 10] = first | {"family_size": "8"}  # the same head, after the stop
    cells[0] = first
    rows = [
        RosterRow(line, {Column(key): value for key, value in row.items()})
        for line, row in enumerate(cells, start=2)
    ]
    content = RosterContent(RosterSource.FILE, "repeat.csv", hashlib.sha256(b"rep").digest())

    async def run(items: Iterator[RosterRow]) -> None:
        await import_directly(stack, setup.village_id, content, items)

    with pytest.raises(Interrupted):
        await run(rows_then_fault(rows, CHUNK_ROWS + 5))
    await run(iter(rows))

    (finished,) = await imports_of(stack, setup.village_id)
    assert (finished["inserted"], finished["updated"], finished["refused"]) == (
        len(rows) - 1, 0, 1
    )  # fmt: skip
    assert finished["errors"] == [
        {"line": CHUNK_ROWS + 12, "column": "id_number", "code": "DUPLICATE_HOUSEHOLD"}
    ]


REVOKE = """
mutation($id: ID!) {
  revokeCreditListEntry(entryId: $id) { entry { revokedAt } userErrors { code } }
}
"""
ENTRIES = "{ creditListEntries(first: 100, kind: WHITELIST) { edges { node { id revokedAt } } } }"


async def test_a_whitelist_entry_revoked_by_staff_is_not_granted_back(stack: Stack) -> None:
    setup = await village_bank(stack)
    officer = await stack.token(setup.username("o1"))
    risk = await stack.token(setup.username("risk"))
    row = household(stack)
    await upload(stack, officer, setup.village_id, roster_csv([row]))
    listed = await stack.gql(ENTRIES, token=risk)
    (entry,) = [edge["node"] for edge in listed["data"]["creditListEntries"]["edges"]]
    revoked = await stack.gql(REVOKE, {"id": entry["id"]}, token=risk)
    assert revoked["data"]["revokeCreditListEntry"]["userErrors"] == []

    await upload(stack, officer, setup.village_id, roster_csv([row | {"land_area": "50"}]))

    after = await stack.gql(ENTRIES, token=risk)
    nodes = [edge["node"] for edge in after["data"]["creditListEntries"]["edges"]]
    assert [(node["id"], node["revokedAt"] is not None) for node in nodes] == [(entry["id"], True)]


async def test_a_household_declined_then_pre_approved_again_gets_a_new_entry(
    stack: Stack,
) -> None:
    setup = await village_bank(stack)
    officer = await stack.token(setup.username("o1"))
    risk = await stack.token(setup.username("risk"))
    row = household(stack)
    for rating in ("GOOD", "POOR", "EXCELLENT"):
        await upload(stack, officer, setup.village_id, roster_csv([row | {"peer_rating": rating}]))
    listed = await stack.gql(ENTRIES, token=risk)
    nodes = [edge["node"] for edge in listed["data"]["creditListEntries"]["edges"]]
    assert sorted(node["revokedAt"] is None for node in nodes) == [False, True]


async def test_a_batch_of_a_thousand_rows(stack: Stack) -> None:
    setup = await village_bank(stack)
    officer = await stack.token(setup.username("o1"))
    rows = [household(stack) for _ in range(1000)]
    payload = await import_batch(stack, officer, setup.village_id, rows)
    assert payload["userErrors"] == []
    assert counts(payload) == (1000, 0, 0, 0)

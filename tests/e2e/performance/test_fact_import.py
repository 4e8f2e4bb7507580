"""`importPerformanceFacts`: core banking and institution admins report daily facts, idempotent
per (date, source, key); each bad fact is reported on its own while the good ones are saved;
customers are named by sealed ID number."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from jikuai.domain.performance.indicators import Measure
from jikuai.domain.performance.model import Fact
from jikuai.domain.performance.ports import SavedFacts
from jikuai.persistence.engine import DatabaseSession
from jikuai.persistence.tables.identity import audit_events
from jikuai.persistence.tables.performance import performance_facts
from tests.support.credit import error_codes, local_uuid
from tests.support.performance import Bank, create_scheme, entries, new_bank, scoreboard
from tests.support.points import business_today, db_session, service_token
from tests.support.stack import Stack

IMPORT = """
mutation($input: ImportPerformanceFactsInput!) {
  importPerformanceFacts(input: $input) {
    inserted updated unchanged
    rowErrors { index field code message }
    userErrors { field code message }
  }
}
"""


def fact(key: str | None = None, **fields: Any) -> dict[str, Any]:
    """A `PerformanceFactInput`: yesterday's deposit balance of the whole institution."""
    return {
        "date": (business_today() - timedelta(days=1)).isoformat(),
        "source": "CBS",
        "key": key or uuid.uuid4().hex,
        "measure": "DEPOSIT_BALANCE",
        "value": "1000.00",
    } | fields


async def import_facts(
    stack: Stack, token: str, facts: list[dict[str, Any]], **headers: str
) -> dict[str, Any]:
    body = await stack.gql(IMPORT, {"input": {"facts": facts}}, token=token, headers=headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["importPerformanceFacts"]
    return payload


def counts(payload: dict[str, Any]) -> tuple[int, int, int]:
    return payload["inserted"], payload["updated"], payload["unchanged"]


def row_errors(payload: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    return [(error["index"], error["field"], error["code"]) for error in payload["rowErrors"]]


async def stored(stack: Stack, bank: Bank) -> dict[str, dict[str, Any]]:
    """The bank's facts by key, straight from the database."""
    async with stack.services.database.primary.connect() as connection:
        rows = await connection.execute(
            select(performance_facts).where(
                performance_facts.c.institution_id == bank.institution.id
            )
        )
        return {row.key: dict(row._mapping) for row in rows}


async def audit_trail(stack: Stack, bank: Bank) -> list[tuple[str, str, uuid.UUID, Any]]:
    """The bank's audit events of imports: (action, actor kind, actor, details), oldest first."""
    async with stack.services.database.primary.connect() as connection:
        rows = await connection.execute(
            select(
                audit_events.c.action,
                audit_events.c.actor_kind,
                audit_events.c.actor_id,
                audit_events.c.details,
            )
            .where(
                audit_events.c.institution_id == bank.institution.id,
                audit_events.c.action == "performance_facts.import",
            )
            .order_by(audit_events.c.created_at)
        )
        return [tuple(row) for row in rows]


async def registered(stack: Stack, bank: Bank, id_number: str) -> uuid.UUID:
    """A customer of the bank with this ID number; their row id."""
    payload = await stack.register(bank.username("o1"), id_number=id_number)
    assert payload["userErrors"] == [], payload
    return uuid.UUID(local_uuid(payload["customer"]["id"]))


# Who imports ------------------------------------------------------------------------------------


async def test_an_institution_admin_imports_facts_of_staff_customers_and_the_institution(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    id_number = stack.new_id_number()
    customer_id = await registered(stack, bank, id_number)
    day = business_today() - timedelta(days=1)

    payload = await import_facts(
        stack,
        await stack.token(bank.username("admin")),
        [
            fact("staff", staffUsername=bank.username("o1"), value="523000.5"),
            fact(
                "customer",
                measure="LOW_COST_DEPOSIT_BALANCE",
                customerIdNumber=stack.seal("customerIdNumber", id_number),
                value="8530.99",
            ),
            fact("bank", measure="SOCIAL_SECURITY_CARDS_ACTIVATED", value="12"),
        ],
    )

    assert payload["rowErrors"] == []
    assert payload["userErrors"] == []
    assert counts(payload) == (3, 0, 0)
    facts = await stored(stack, bank)
    assert {
        key: (row["metric"], row["staff_id"], row["customer_id"], row["value"])
        for key, row in facts.items()
    } == {
        "staff": ("DEPOSIT_BALANCE", bank.staff_id("o1"), None, Decimal("523000.50")),
        "customer": ("LOW_COST_DEPOSIT_BALANCE", None, customer_id, Decimal("8530.99")),
        "bank": ("SOCIAL_SECURITY_CARDS_ACTIVATED", None, None, Decimal("12.00")),
    }
    assert {(row["fact_date"], row["source"]) for row in facts.values()} == {(day, "CBS")}
    assert await audit_trail(stack, bank) == [
        (
            "performance_facts.import",
            "staff",
            bank.staff_id("admin"),
            {"inserted": 3, "updated": 0, "unchanged": 0, "refused": 0},
        )
    ]


async def test_core_banking_imports_with_its_service_account(stack: Stack) -> None:
    bank = await new_bank(stack)

    payload = await import_facts(
        stack,
        await service_token(stack, bank.code),
        [fact("d1", staffUsername=bank.username("o2"), value="1.00")],
    )

    assert counts(payload) == (1, 0, 0)
    assert (await stored(stack, bank))["d1"]["staff_id"] == bank.staff_id("o2")


@pytest.mark.parametrize("who", ["o1", "m1", "risk"])
async def test_other_staff_are_forbidden(stack: Stack, who: str) -> None:
    bank = await new_bank(stack)

    body = await stack.gql(
        IMPORT,
        {"input": {"facts": [fact()]}},
        token=await stack.token(bank.username(who)),
    )

    assert error_codes(body) == ["FORBIDDEN"]
    assert await stored(stack, bank) == {}


async def test_the_province_admin_and_anonymous_callers_cannot_import(stack: Stack) -> None:
    by_province = await stack.gql(
        IMPORT, {"input": {"facts": [fact()]}}, token=await stack.token("prov-admin")
    )
    anonymous = await stack.gql(IMPORT, {"input": {"facts": [fact()]}})

    assert error_codes(by_province) == ["FORBIDDEN"]
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_a_forbidden_caller_learns_nothing_about_sealed_id_numbers(stack: Stack) -> None:
    bank = await new_bank(stack)

    body = await stack.gql(
        IMPORT,
        {"input": {"facts": [fact(customerIdNumber="not an envelope")]}},
        token=await stack.token(bank.username("o1")),
    )

    assert error_codes(body) == ["FORBIDDEN"]


# Idempotency ------------------------------------------------------------------------------------


async def test_the_same_facts_again_change_nothing_and_a_changed_value_replaces_the_old(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    token = await service_token(stack, bank.code)
    facts = [fact(f"k{n}", staffUsername=bank.username("o1"), value=f"{n}00.00") for n in range(5)]
    assert counts(await import_facts(stack, token, facts)) == (5, 0, 0)
    before = await stored(stack, bank)

    again = await import_facts(stack, token, facts)
    facts[2] = facts[2] | {"value": "250.10"}
    facts[3] = facts[3] | {"staffUsername": bank.username("o2")}
    changed = await import_facts(stack, token, facts)

    assert counts(again) == (0, 0, 5)
    assert counts(changed) == (0, 2, 3)
    after = await stored(stack, bank)
    assert after["k2"]["value"] == Decimal("250.10")
    assert after["k3"]["staff_id"] == bank.staff_id("o2")
    assert after["k0"] == before["k0"]  # recorded_at too: an unchanged fact is not rewritten
    assert after["k2"]["recorded_at"] > before["k2"]["recorded_at"]
    # Each import that changed something is in the audit trail; the one that did not is not.
    assert [details for *_, details in await audit_trail(stack, bank)] == [
        {"inserted": 5, "updated": 0, "unchanged": 0, "refused": 0},
        {"inserted": 0, "updated": 2, "unchanged": 3, "refused": 0},
    ]


async def test_a_fact_is_identified_by_date_source_and_key(stack: Stack) -> None:
    bank = await new_bank(stack)
    token = await service_token(stack, bank.code)
    today = business_today()

    payload = await import_facts(
        stack,
        token,
        [
            fact("same", date=today.isoformat()),
            fact("same", date=(today - timedelta(days=1)).isoformat()),
            fact("same", date=today.isoformat(), source="CARDS"),
        ],
    )

    assert counts(payload) == (3, 0, 0)
    async with stack.services.database.primary.connect() as connection:
        keys = await connection.execute(
            select(performance_facts.c.fact_date, performance_facts.c.source).where(
                performance_facts.c.institution_id == bank.institution.id
            )
        )
        assert len(keys.all()) == 3


async def test_the_same_key_in_another_institution_is_another_fact(stack: Stack) -> None:
    first, second = await new_bank(stack), await new_bank(stack)

    one = await import_facts(stack, await service_token(stack, first.code), [fact("shared")])
    two = await import_facts(stack, await service_token(stack, second.code), [fact("shared")])

    assert counts(one) == counts(two) == (1, 0, 0)


async def test_two_imports_of_the_same_fact_at_once_save_it_once(stack: Stack) -> None:
    """The second import looked before the first committed: its insert waits for the first and
    then finds the fact there, which it replaces, instead of failing on the key."""
    if not stack.settings.primary_database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time")
    bank = await new_bank(stack)
    day = business_today()
    first = Fact(bank.institution.id, day, "CBS", "raced", Measure.DEPOSIT_BALANCE, None, None,
                 Decimal("1.00"))  # fmt: skip
    second = dataclasses.replace(first, value=Decimal("2.00"))

    async def save(session: DatabaseSession, fact: Fact) -> SavedFacts:
        async with session.unit_of_work() as uow:
            saved = await uow.performance.save_facts([fact], now=datetime.now(UTC))
            await uow.commit()
        return saved

    async with db_session(stack) as one, db_session(stack) as other:
        async with one.unit_of_work() as uow:
            assert await uow.performance.save_facts([first], now=datetime.now(UTC)) == SavedFacts(
                1, 0, 0
            )
            racing = asyncio.create_task(save(other, second))
            await asyncio.sleep(0.3)
            assert not racing.done()  # waiting for the first import's row
            await uow.commit()
        assert await racing == SavedFacts(0, 1, 0)

    assert (await stored(stack, bank))["raced"]["value"] == Decimal("2.00")


# Bad rows ---------------------------------------------------------------------------------------


async def test_bad_facts_are_reported_one_by_one_while_the_good_ones_are_saved(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    id_number = stack.new_id_number()
    await registered(stack, bank, id_number)
    tomorrow = business_today() + timedelta(days=1)
    facts = [
        fact("good-1"),
        fact("bad-source", source="PLATFORM"),
        fact("bad-date", date=tomorrow.isoformat()),
        fact("bad-value", value="10.001"),
        fact("negative", value="-5.00"),
        fact("too-big", value="1000000000000"),
        fact("both", staffUsername=bank.username("o1"), customerIdNumber=stack.seal(
            "customerIdNumber", id_number
        )),
        fact("k" * 65),
        fact(" ", source="a b", value="1.5", measure="SOCIAL_SECURITY_CARDS_ISSUED"),
        fact("good-2", measure="SOCIAL_SECURITY_CARDS_ISSUED", value="3"),
    ]  # fmt: skip

    payload = await import_facts(stack, await service_token(stack, bank.code), facts)

    assert row_errors(payload) == [
        (1, "source", "INVALID_SOURCE"),
        (2, "date", "INVALID_DATE"),
        (3, "value", "INVALID_AMOUNT"),
        (4, "value", "INVALID_AMOUNT"),
        (5, "value", "INVALID_AMOUNT"),
        (6, "customerIdNumber", "INVALID_SUBJECT"),
        (7, "key", "INVALID_LENGTH"),
        (8, "source", "INVALID_SOURCE"),
        (8, "key", "REQUIRED"),
        (8, "value", "INVALID_AMOUNT"),
    ]
    assert (
        payload["rowErrors"][0]["message"]
        == "数据来源须为 1–32 位字母、数字或 _-，且不能是 PLATFORM"
    )
    assert counts(payload) == (2, 0, 0)
    assert set(await stored(stack, bank)) == {"good-1", "good-2"}


async def test_row_errors_speak_the_callers_language(stack: Stack) -> None:
    bank = await new_bank(stack)

    payload = await import_facts(
        stack,
        await service_token(stack, bank.code),
        [fact(value="0.001")],
        **{"accept-language": "en"},
    )

    assert payload["rowErrors"] == [
        {"index": 0, "field": "value", "code": "INVALID_AMOUNT", "message": "Invalid amount"}
    ]


async def test_staff_of_another_institution_are_not_found_row_by_row(stack: Stack) -> None:
    bank = await new_bank(stack)
    other = await new_bank(stack)

    payload = await import_facts(
        stack,
        await service_token(stack, bank.code),
        [
            fact("other", staffUsername=other.username("o1")),
            fact("mine", staffUsername=bank.username("o1")),
            fact("nobody", staffUsername="nobody-at-all"),
            fact("alpha", staffUsername="alpha-officer"),
        ],
    )

    assert row_errors(payload) == [
        (0, "staffUsername", "NOT_FOUND"),
        (2, "staffUsername", "NOT_FOUND"),
        (3, "staffUsername", "NOT_FOUND"),
    ]
    assert set(await stored(stack, bank)) == {"mine"}


async def test_a_thousand_facts_are_one_call_and_more_are_refused_whole(stack: Stack) -> None:
    bank = await new_bank(stack)
    token = await service_token(stack, bank.code)

    accepted = await import_facts(stack, token, [fact(f"a{n}") for n in range(1000)])
    refused = await import_facts(stack, token, [fact(f"b{n}") for n in range(1001)])

    assert counts(accepted) == (1000, 0, 0)
    assert refused["userErrors"] == [
        {"field": ["facts"], "code": "INVALID_LENGTH", "message": "长度不符合要求"}
    ]
    assert counts(refused) == (0, 0, 0)
    assert refused["rowErrors"] == []
    assert not any(key.startswith("b") for key in await stored(stack, bank))


async def test_an_empty_import_does_nothing(stack: Stack) -> None:
    bank = await new_bank(stack)

    payload = await import_facts(stack, await service_token(stack, bank.code), [])

    assert counts(payload) == (0, 0, 0)
    assert payload["rowErrors"] == payload["userErrors"] == []


async def test_a_measure_the_platform_computes_cannot_be_imported(stack: Stack) -> None:
    body = await stack.gql(
        IMPORT,
        {"input": {"facts": [fact(measure="OUTSTANDING_BALANCE")]}},
        token=await service_token(stack),
    )

    assert error_codes(body) == ["BAD_USER_INPUT"]


# Customers by sealed ID number ------------------------------------------------------------------


async def test_customers_are_named_by_sealed_id_numbers_within_the_institution(
    stack: Stack,
) -> None:
    bank, other = await new_bank(stack), await new_bank(stack)
    mine, theirs, unknown = (stack.new_id_number() for _ in range(3))
    customer_id = await registered(stack, bank, mine)
    await registered(stack, other, theirs)

    def sealed(id_number: str, field: str = "customerIdNumber") -> str:
        return stack.seal(field, id_number)

    payload = await import_facts(
        stack,
        await service_token(stack, bank.code),
        [
            fact("mine", customerIdNumber=sealed(mine)),
            fact("lower-x", customerIdNumber=sealed(f" {mine.lower()} ")),
            fact("theirs", customerIdNumber=sealed(theirs)),
            fact("unknown", customerIdNumber=sealed(unknown)),
            fact("invalid", customerIdNumber=sealed("220102198005171234")),
            fact("plain", customerIdNumber=mine),
            fact("wrong-field", customerIdNumber=sealed(mine, "idNumber")),
            fact(
                "stale",
                customerIdNumber=stack.seal(
                    "customerIdNumber", mine, now=datetime.now(UTC) - timedelta(days=1)
                ),
            ),
        ],
    )

    assert row_errors(payload) == [
        (2, "customerIdNumber", "NOT_FOUND"),
        (3, "customerIdNumber", "NOT_FOUND"),
        (4, "customerIdNumber", "INVALID_ID_NUMBER"),
        (5, "customerIdNumber", "ENVELOPE_INVALID"),
        (6, "customerIdNumber", "ENVELOPE_INVALID"),
        (7, "customerIdNumber", "ENVELOPE_INVALID"),
    ]
    facts = await stored(stack, bank)
    assert set(facts) == {"mine", "lower-x"}
    assert {row["customer_id"] for row in facts.values()} == {customer_id}


async def test_a_row_whose_envelope_does_not_open_is_still_checked_for_the_rest(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)

    payload = await import_facts(
        stack,
        await service_token(stack, bank.code),
        [fact(source="", customerIdNumber="garbage", value="-1")],
    )

    assert row_errors(payload) == [
        (0, "source", "REQUIRED"),
        (0, "customerIdNumber", "ENVELOPE_INVALID"),
        (0, "value", "INVALID_AMOUNT"),
    ]


# Cost and effect --------------------------------------------------------------------------------


async def test_the_statements_of_an_import_do_not_grow_with_its_rows(stack: Stack) -> None:
    bank = await new_bank(stack)
    token = await service_token(stack, bank.code)
    id_numbers = [stack.new_id_number() for _ in range(3)]
    for id_number in id_numbers:
        await registered(stack, bank, id_number)

    def facts(prefix: str, size: int) -> list[dict[str, Any]]:
        officers = [bank.username(suffix) for suffix in ("o1", "o2", "o3")]
        return [fact(f"{prefix}s{n}", staffUsername=officers[n % 3]) for n in range(size)] + [
            fact(
                f"{prefix}c{n}",
                customerIdNumber=stack.seal("customerIdNumber", id_numbers[n % 3]),
            )
            for n in range(size)
        ]

    with stack.count_statements(writer=True) as few:
        small = await import_facts(stack, token, facts("x", 3))
    with stack.count_statements(writer=True) as many:
        large = await import_facts(stack, token, facts("y", 150))

    assert counts(small) == (6, 0, 0)
    assert counts(large) == (300, 0, 0)
    assert len(many) == len(few)


async def test_imported_facts_show_in_the_scoreboard_at_once(stack: Stack) -> None:
    bank = await new_bank(stack)
    await create_scheme(
        stack, bank, [{"code": "DEPOSIT_BALANCE", "weight": "100", "target": "1000000"}]
    )
    admin = bank.username("admin")
    today = business_today().isoformat()
    before = await scoreboard(stack, admin)  # now cached

    await import_facts(
        stack,
        await service_token(stack, bank.code),
        [fact("o1", date=today, staffUsername=bank.username("o1"), value="500000.00")],
    )
    after = await scoreboard(stack, admin)

    def deposits(board: dict[str, Any]) -> str | None:
        entry = next(e for e in entries(board) if e["staff"]["username"] == bank.username("o1"))
        actual: str | None = entry["indicators"][0]["actual"]
        return actual

    assert deposits(before) in (None, "0.00")
    assert deposits(after) == "500000.00"

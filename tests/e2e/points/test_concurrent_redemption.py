"""No balance can be spent twice: redemptions racing for one customer's points, one code or one
idempotency key, through the whole stack. On PostgreSQL the requests truly overlap; on the
embedded default SQLite serialises the writes, and the answers must be the same."""

import asyncio
import uuid

from tests.support.credit import customer_token
from tests.support.merchants import approved_merchant
from tests.support.points import (
    account,
    assert_ledger_balances,
    award,
    new_code,
    record,
    redeem,
    service_token,
    set_rules,
)
from tests.support.stack import Stack


async def test_of_fifty_redemptions_against_a_balance_for_ten_exactly_ten_succeed(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    await award(stack, core, customer_id, 1000)
    codes = [await new_code(stack, token) for _ in range(50)]

    results = await asyncio.gather(
        *(redeem(stack, merchant.cashier_token, code, points=100) for code in codes)
    )

    succeeded = [each for each in results if each["redemption"]]
    refused = [each["userErrors"][0]["code"] for each in results if not each["redemption"]]
    assert len(succeeded) == 10
    assert refused == ["INSUFFICIENT_POINTS"] * 40
    assert len({each["redemption"]["id"] for each in succeeded}) == 10
    assert (await account(stack, token)) | {"expiringSoon": []} == {
        "balance": 0,
        "pending": 0,
        "held": 0,
        "debt": 0,
        "expiringSoon": [],
    }
    await assert_ledger_balances(stack)


async def test_one_code_scanned_by_many_cashiers_at_once_is_used_once(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    await award(stack, core, customer_id, 1000)
    code = await new_code(stack, token)

    results = await asyncio.gather(
        *(redeem(stack, merchant.cashier_token, code, points=10) for _ in range(20))
    )

    assert sum(1 for each in results if each["redemption"]) == 1
    assert (
        sorted(each["userErrors"][0]["code"] for each in results if not each["redemption"])
        == ["REDEMPTION_CODE_USED"] * 19
    )
    assert (await account(stack, token))["balance"] == 990
    await assert_ledger_balances(stack)


async def test_a_key_sent_many_times_at_once_redeems_once(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    await award(stack, core, customer_id, 1000)
    code = await new_code(stack, token)
    key = uuid.uuid4().hex

    results = await asyncio.gather(
        *(redeem(stack, merchant.cashier_token, code, key=key, points=250) for _ in range(20))
    )

    assert all(each["userErrors"] == [] for each in results), results
    assert len({each["redemption"]["id"] for each in results}) == 1
    assert sum(1 for each in results if not each["replayed"]) == 1
    assert (await account(stack, token))["balance"] == 750
    await assert_ledger_balances(stack)


async def test_the_same_event_reported_at_once_many_times_earns_once(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    source_ref = f"SSC-{uuid.uuid4().hex}"

    results = await asyncio.gather(
        *(
            record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION", source_ref)
            for _ in range(20)
        )
    )

    assert all(each["userErrors"] == [] for each in results), results
    assert len({each["event"]["id"] for each in results}) == 1
    assert sum(1 for each in results if not each["replayed"]) == 1
    assert (await account(stack, token))["balance"] == 200
    await assert_ledger_balances(stack)

"""Undoing: an earning reversed after some of it was spent leaves a debt that later earnings
settle first; a redemption voided or reversed gives its points back to the lots they came from."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from jikuai.domain.points.expiry import expire_points
from jikuai.domain.points.rules import add_months
from tests.support.credit import customer_token, local_uuid
from tests.support.merchants import approved_merchant
from tests.support.points import (
    CANCEL,
    CONFIRM,
    DECLINE,
    REVERSE,
    REVERSE_REDEMPTION,
    VOID,
    account,
    account_balance,
    assert_ledger_balances,
    award,
    business_today,
    db_session,
    lots_of,
    new_code,
    record,
    redeem,
    service_token,
    set_rules,
    sql,
)
from tests.support.stack import Stack


async def _undo_event(
    stack: Stack, mutation: str, token: str, event: dict[str, Any]
) -> dict[str, Any]:
    body = await stack.gql(
        mutation,
        {"input": {"eventType": event["eventType"], "sourceRef": event["sourceRef"]}},
        token=token,
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    assert payload["userErrors"] == [], payload
    return payload


async def _on_redemption(
    stack: Stack, mutation: str, token: str, redemption_id: str, **variables: Any
) -> dict[str, Any]:
    body = await stack.gql(mutation, {"id": redemption_id, **variables}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


async def _spend(stack: Stack, cashier: str, token: str, points: int) -> dict[str, Any]:
    redeemed = await redeem(stack, cashier, await new_code(stack, token), points=points)
    assert redeemed["userErrors"] == [], redeemed
    redemption: dict[str, Any] = redeemed["redemption"]
    return redemption


def _balances(found: dict[str, Any]) -> tuple[int, int, int, int]:
    return found["balance"], found["pending"], found["held"], found["debt"]


def _remaining(lots: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(lot["remaining"], lot["state"]) for lot in lots]


# Reversed earnings -----------------------------------------------------------------------------


async def test_a_partly_spent_earning_reversed_takes_back_the_rest_and_leaves_a_debt(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    event = await award(stack, core, customer_id, 1000)
    await _spend(stack, merchant.cashier_token, token, 300)

    reversed_ = await _undo_event(stack, REVERSE, core, event)

    assert reversed_["event"]["status"] == "REVERSED"
    assert reversed_["event"]["points"] == 1000
    assert _balances(await account(stack, token)) == (0, 0, 0, 300)
    assert _remaining(await lots_of(stack, customer_id)) == [(0, "REVERSED")]
    # the merchant keeps what it was paid: the customer owes it, not the merchant
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 300
    await assert_ledger_balances(stack)


async def test_reversing_twice_is_refused(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    event = await award(stack, core, customer_id, 400)
    await _undo_event(stack, REVERSE, core, event)

    body = await stack.gql(
        REVERSE, {"input": {"eventType": "CAMPAIGN", "sourceRef": event["sourceRef"]}}, token=core
    )

    assert body["data"]["reversePointsEvent"]["userErrors"] == [
        {"field": ["sourceRef"], "code": "INVALID_STATE"}
    ]
    assert _balances(await account(stack, token)) == (0, 0, 0, 0)


async def test_later_earnings_settle_the_debt_first(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    first = await award(stack, core, customer_id, 1000)
    await _spend(stack, merchant.cashier_token, token, 600)
    await _undo_event(stack, REVERSE, core, first)

    small = await award(stack, core, customer_id, 200)
    after_small = await account(stack, token)
    large = await award(stack, core, customer_id, 500)
    after_large = await account(stack, token)

    assert (small["points"], small["debtSettled"]) == (200, 200)
    assert _balances(after_small) == (0, 0, 0, 400)
    assert (large["points"], large["debtSettled"]) == (500, 400)
    assert _balances(after_large) == (100, 0, 0, 0)
    # only what was left after the debt became a lot
    assert [(lot["points"], lot["remaining"]) for lot in await lots_of(stack, customer_id)] == [
        (1000, 0),
        (100, 100),
    ]
    history = await stack.gql(
        "query { pointsHistory(first: 3) { edges { node { kind points } } } }", token=token
    )
    assert [edge["node"] for edge in history["data"]["pointsHistory"]["edges"]] == [
        {"kind": "EARN", "points": 500},
        {"kind": "EARN", "points": 200},
        {"kind": "REVERSE_EARNING", "points": -1000},
    ]
    await assert_ledger_balances(stack)


async def test_a_pending_earning_settles_debt_and_cancelling_it_brings_the_debt_back(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    first = await award(stack, core, customer_id, 500)
    await _spend(stack, merchant.cashier_token, token, 100)
    await _undo_event(stack, REVERSE, core, first)

    referral = (await record(stack, core, customer_id, "REFERRAL"))["event"]
    while_pending = await account(stack, token)
    cancelled = await _undo_event(stack, CANCEL, core, referral)

    assert (referral["status"], referral["points"], referral["debtSettled"]) == (
        "PENDING",
        300,
        100,
    )
    assert _balances(while_pending) == (0, 200, 0, 0)
    assert cancelled["event"]["status"] == "CANCELLED"
    assert _balances(await account(stack, token)) == (0, 0, 0, 100)
    await assert_ledger_balances(stack)


async def test_reversing_an_earning_of_which_some_expired(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    card = (await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION"))["event"]
    await _spend(stack, merchant.cashier_token, token, 50)
    after_last_day = add_months(business_today(), 1)
    async with db_session(stack) as session:
        await expire_points(
            after_last_day, unit_of_work=session.unit_of_work, now=datetime.now(UTC)
        )

    await _undo_event(stack, REVERSE, core, card)

    assert _balances(await account(stack, token)) == (0, 0, 0, 50)
    [lot] = await lots_of(stack, customer_id)
    assert (lot["remaining"], lot["expired"], lot["state"]) == (0, 150, "REVERSED")
    entries = await sql(
        stack,
        "SELECT a.kind, e.amount FROM points_journals j"
        " JOIN points_entries e ON e.journal_id = j.id"
        " JOIN points_accounts a ON a.id = e.account_id"
        " WHERE j.customer_id = :customer AND j.kind = 'REVERSE_EARNING' ORDER BY a.kind",
        customer=uuid.UUID(local_uuid(customer_id)),
    )
    # nothing was left to take back; what expired leaves expiry income, what was spent is owed
    assert [tuple(row) for row in entries] == [
        ("DEBT", -50),
        ("EXPIRY_INCOME", -150),
        ("ISSUANCE", 200),
    ]
    await assert_ledger_balances(stack)


# Undone redemptions ----------------------------------------------------------------------------


async def _two_lots(stack: Stack) -> tuple[str, str, str, str]:
    """A customer with a card lot (soonest, 200) partly spent and a deposit lot (1000):
    (core token, customer token, customer id, cashier token)."""
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    await record(stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", amount="100000")
    await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")
    await _spend(stack, merchant.cashier_token, token, 70)
    return core, token, customer_id, merchant.cashier_token


async def test_a_voided_redemption_gives_each_lot_back_what_it_took(stack: Stack) -> None:
    _, token, customer_id, cashier = await _two_lots(stack)
    before = await lots_of(stack, customer_id)
    redemption = await _spend(stack, cashier, token, 600)
    spent = await lots_of(stack, customer_id)

    voided = await _on_redemption(stack, VOID, cashier, redemption["id"])

    assert voided["userErrors"] == []
    assert voided["redemption"]["status"] == "VOIDED"
    assert _remaining(before) == [(1000, "ACTIVE"), (130, "ACTIVE")]
    assert _remaining(spent) == [(530, "ACTIVE"), (0, "ACTIVE")]
    assert await lots_of(stack, customer_id) == before
    assert _balances(await account(stack, token)) == (1130, 0, 0, 0)
    await assert_ledger_balances(stack)


async def test_a_reversed_redemption_gives_each_lot_back_what_it_took(stack: Stack) -> None:
    _, token, customer_id, cashier = await _two_lots(stack)
    before = await lots_of(stack, customer_id)
    redemption = await _spend(stack, cashier, token, 1100)

    reversed_ = await _on_redemption(
        stack,
        REVERSE_REDEMPTION,
        await stack.token("alpha-admin"),
        redemption["id"],
        reason="顾客投诉，商户未提供商品",
    )

    assert reversed_["userErrors"] == []
    assert reversed_["redemption"]["status"] == "REVERSED"
    assert await lots_of(stack, customer_id) == before
    assert _balances(await account(stack, token)) == (1130, 0, 0, 0)
    await assert_ledger_balances(stack)


async def test_voiding_after_the_lots_earning_was_reversed_settles_the_debt_it_left(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    event = await award(stack, core, customer_id, 1000)
    redemption = await _spend(stack, merchant.cashier_token, token, 600)
    await _undo_event(stack, REVERSE, core, event)
    assert _balances(await account(stack, token)) == (0, 0, 0, 600)

    voided = await _on_redemption(stack, VOID, merchant.cashier_token, redemption["id"])

    assert voided["redemption"]["status"] == "VOIDED"
    # the reversed lot takes nothing back: the points settle the debt its reversal left
    assert _balances(await account(stack, token)) == (0, 0, 0, 0)
    assert _remaining(await lots_of(stack, customer_id)) == [(0, "REVERSED")]
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 0
    await assert_ledger_balances(stack)


async def test_voiding_after_the_debt_was_partly_settled_gives_the_rest_back_as_a_lot(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    event = await award(stack, core, customer_id, 1000)
    redemption = await _spend(stack, merchant.cashier_token, token, 600)
    await _undo_event(stack, REVERSE, core, event)
    settling = await award(stack, core, customer_id, 200)  # all of it settles debt
    assert settling["debtSettled"] == 200

    voided = await _on_redemption(stack, VOID, merchant.cashier_token, redemption["id"])

    assert voided["redemption"]["status"] == "VOIDED"
    assert _balances(await account(stack, token)) == (200, 0, 0, 0)
    reversed_lot, returned = await lots_of(stack, customer_id)
    assert (reversed_lot["remaining"], reversed_lot["state"]) == (0, "REVERSED")
    # the 200 the debt no longer needs come back with the old lot's last day
    assert (returned["points"], returned["remaining"], returned["state"]) == (200, 200, "ACTIVE")
    assert returned["expires_on"] == reversed_lot["expires_on"]
    await assert_ledger_balances(stack)


async def test_undoing_a_redemption_across_a_reversed_and_a_live_lot(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    campaign = await award(stack, core, customer_id, 300)  # 6 months: spent first
    manual = await record(stack, core, customer_id, "MANUAL_ADJUSTMENT", points=1000)
    assert manual["userErrors"] == []
    redemption = await _spend(stack, merchant.cashier_token, token, 500)
    assert _remaining(await lots_of(stack, customer_id)) == [(0, "ACTIVE"), (800, "ACTIVE")]
    await _undo_event(stack, REVERSE, core, campaign)
    assert _balances(await account(stack, token)) == (800, 0, 0, 300)

    reversed_ = await _on_redemption(
        stack,
        REVERSE_REDEMPTION,
        await stack.token("alpha-admin"),
        redemption["id"],
        reason="商户重复扫码",
    )

    assert reversed_["redemption"]["status"] == "REVERSED"
    assert _remaining(await lots_of(stack, customer_id)) == [(0, "REVERSED"), (1000, "ACTIVE")]
    assert _balances(await account(stack, token)) == (1000, 0, 0, 0)
    await assert_ledger_balances(stack)


async def test_declining_a_held_redemption_whose_earning_was_reversed_settles_the_debt(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    event = await award(stack, core, customer_id, 6000)
    held = await _spend(stack, merchant.cashier_token, token, 5500)
    assert held["status"] == "AWAITING_CONFIRMATION"
    await _undo_event(stack, REVERSE, core, event)
    assert _balances(await account(stack, token)) == (0, 0, 5500, 5500)

    declined = await _on_redemption(stack, DECLINE, token, held["id"])

    assert declined["redemption"]["status"] == "DECLINED"
    assert _balances(await account(stack, token)) == (0, 0, 0, 0)
    await assert_ledger_balances(stack)


async def test_a_confirmed_redemption_whose_earning_was_reversed_stays_owed(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    event = await award(stack, core, customer_id, 6000)
    held = await _spend(stack, merchant.cashier_token, token, 5500)
    await _undo_event(stack, REVERSE, core, event)

    confirmed = await _on_redemption(stack, CONFIRM, token, held["id"])

    assert confirmed["redemption"]["status"] == "COMPLETED"
    assert _balances(await account(stack, token)) == (0, 0, 0, 5500)
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 5500
    later = await award(stack, core, customer_id, 6000)
    assert later["debtSettled"] == 5500
    assert _balances(await account(stack, token)) == (500, 0, 0, 0)
    await assert_ledger_balances(stack)


async def test_points_given_back_by_a_reversal_keep_their_lots_last_day(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")
    redemption = await _spend(stack, merchant.cashier_token, token, 200)
    after_last_day = add_months(business_today(), 1)

    await _on_redemption(
        stack,
        REVERSE_REDEMPTION,
        await stack.token("alpha-admin"),
        redemption["id"],
        reason="争议",
    )
    async with db_session(stack) as session:
        await expire_points(
            after_last_day, unit_of_work=session.unit_of_work, now=datetime.now(UTC)
        )

    [lot] = await lots_of(stack, customer_id)
    assert (lot["remaining"], lot["expired"]) == (0, 200)
    assert _balances(await account(stack, token)) == (0, 0, 0, 0)
    await assert_ledger_balances(stack)


async def test_an_earning_of_no_points_is_reversed_with_nothing_to_move(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    nothing = await record(stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", amount="99.99")
    assert nothing["event"]["points"] == 0

    reversed_ = await _undo_event(stack, REVERSE, core, nothing["event"])

    assert (reversed_["event"]["status"], reversed_["event"]["points"]) == ("REVERSED", 0)
    assert _balances(await account(stack, token)) == (0, 0, 0, 0)
    await assert_ledger_balances(stack)

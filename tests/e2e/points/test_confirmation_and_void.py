"""Large redemptions wait for the customer's confirmation; a cashier voids on the same day; an
institution admin reverses later, audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jikuai.domain.points import redemption as redemption_domain
from jikuai.domain.points.expiry import release_points
from jikuai.domain.shared.errors import DomainError, ErrorCode
from tests.support.credit import audit_actions, customer_token, error_codes, local_uuid
from tests.support.merchants import add_reward, approved_merchant
from tests.support.points import (
    CONFIRM,
    DECLINE,
    REVERSE_REDEMPTION,
    VOID,
    account,
    account_balance,
    assert_ledger_balances,
    business_today,
    cashier_actor,
    customer_actor,
    db_session,
    lots_of,
    new_code,
    points_program,
    redeem,
    redemption_node,
    rich_customer,
    set_rules,
)
from tests.support.stack import Stack


async def _act(
    stack: Stack, mutation: str, token: str, redemption_id: str, **variables: Any
) -> dict[str, Any]:
    body = await stack.gql(mutation, {"id": redemption_id, **variables}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


async def _spend(stack: Stack, cashier: str, token: str, **fields: Any) -> dict[str, Any]:
    redeemed = await redeem(stack, cashier, await new_code(stack, token), **fields)
    assert redeemed["userErrors"] == [], redeemed
    found: dict[str, Any] = redeemed["redemption"]
    return found


def _balances(found: dict[str, Any]) -> tuple[int, int]:
    return found["balance"], found["held"]


# Confirmation ----------------------------------------------------------------------------------


async def test_above_the_threshold_a_redemption_waits_for_the_customer(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 12000)
    merchant = await approved_merchant(stack)

    at_threshold = await _spend(stack, merchant.cashier_token, token, points=5000)
    before = datetime.now(UTC)
    above = await _spend(stack, merchant.cashier_token, token, points=5001)
    after = datetime.now(UTC)

    assert (at_threshold["status"], at_threshold["confirmBy"]) == ("COMPLETED", None)
    assert above["status"] == "AWAITING_CONFIRMATION"
    confirm_by = datetime.fromisoformat(above["confirmBy"])
    assert before + timedelta(seconds=119) <= confirm_by <= after + timedelta(seconds=120)
    assert _balances(await account(stack, token)) == (1999, 5001)
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 5000
    await assert_ledger_balances(stack)


async def test_a_confirmed_redemption_is_completed_and_the_merchant_owed(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 8000)
    merchant = await approved_merchant(stack)
    held = await _spend(stack, merchant.cashier_token, token, points=6000)

    confirmed = await _act(stack, CONFIRM, token, held["id"])
    again = await _act(stack, CONFIRM, token, held["id"])

    assert confirmed["userErrors"] == []
    assert (confirmed["redemption"]["id"], confirmed["redemption"]["status"]) == (
        held["id"],
        "COMPLETED",
    )
    assert again["userErrors"] == [{"field": ["redemptionId"], "code": "INVALID_STATE"}]
    assert _balances(await account(stack, token)) == (2000, 0)
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 6000
    history = await stack.gql(
        "query { pointsHistory(first: 5) { edges { node { kind points } } } }", token=token
    )
    # the hold is what the customer spent; its confirmation moves nothing of theirs
    assert [edge["node"] for edge in history["data"]["pointsHistory"]["edges"]] == [
        {"kind": "HOLD", "points": -6000},
        {"kind": "EARN", "points": 8000},
    ]
    await assert_ledger_balances(stack)


async def test_a_declined_redemption_gives_every_point_back(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id = await rich_customer(stack, 8000)
    merchant = await approved_merchant(stack)
    before = await lots_of(stack, customer_id)
    held = await _spend(stack, merchant.cashier_token, token, points=7000)

    declined = await _act(stack, DECLINE, token, held["id"])
    confirmed = await _act(stack, CONFIRM, token, held["id"])

    assert declined["redemption"]["status"] == "DECLINED"
    assert confirmed["userErrors"] == [{"field": ["redemptionId"], "code": "INVALID_STATE"}]
    assert _balances(await account(stack, token)) == (8000, 0)
    assert await lots_of(stack, customer_id) == before
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 0
    await assert_ledger_balances(stack)


async def test_a_confirmation_after_the_window_finds_the_redemption_lapsed(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id = await rich_customer(stack, 8000)
    merchant = await approved_merchant(stack)
    held = await _spend(stack, merchant.cashier_token, token, points=7000)
    confirm_by = datetime.fromisoformat(held["confirmBy"])

    async with db_session(stack) as session:
        with pytest.raises(DomainError) as lapsed:
            await redemption_domain.confirm_redemption(
                uuid.UUID(local_uuid(held["id"])),
                actor=customer_actor(stack, customer_id),
                uow=session.unit_of_work(),
                now=confirm_by,
                today=business_today(),
            )

    assert lapsed.value.code is ErrorCode.REDEMPTION_LAPSED
    assert (await redemption_node(stack, token, held["id"]))["status"] == "LAPSED"
    assert _balances(await account(stack, token)) == (8000, 0)
    assert (await _act(stack, CONFIRM, token, held["id"]))["userErrors"] == [
        {"field": ["redemptionId"], "code": "INVALID_STATE"}
    ]
    await assert_ledger_balances(stack)


async def test_a_decline_after_the_window_records_the_redemption_lapsed(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id = await rich_customer(stack, 8000)
    merchant = await approved_merchant(stack)
    held = await _spend(stack, merchant.cashier_token, token, points=7000)
    confirm_by = datetime.fromisoformat(held["confirmBy"])

    async with db_session(stack) as session:
        declined = await redemption_domain.decline_redemption(
            uuid.UUID(local_uuid(held["id"])),
            actor=customer_actor(stack, customer_id),
            uow=session.unit_of_work(),
            now=confirm_by,
            today=business_today(),
        )

    assert declined.status.value == "LAPSED"
    assert _balances(await account(stack, token)) == (8000, 0)
    await assert_ledger_balances(stack)


async def test_a_confirmation_just_inside_the_window_completes(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id = await rich_customer(stack, 8000)
    merchant = await approved_merchant(stack)
    held = await _spend(stack, merchant.cashier_token, token, points=7000)
    confirm_by = datetime.fromisoformat(held["confirmBy"])

    async with db_session(stack) as session:
        confirmed = await redemption_domain.confirm_redemption(
            uuid.UUID(local_uuid(held["id"])),
            actor=customer_actor(stack, customer_id),
            uow=session.unit_of_work(),
            now=confirm_by - timedelta(milliseconds=1),
            today=business_today(),
        )

    assert confirmed.status.value == "COMPLETED"
    assert _balances(await account(stack, token)) == (1000, 0)


async def test_the_release_job_lapses_redemptions_left_unconfirmed(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 8000)
    merchant = await approved_merchant(stack)
    held = await _spend(stack, merchant.cashier_token, token, points=6500)
    confirm_by = datetime.fromisoformat(held["confirmBy"])

    async def release(now: datetime) -> None:
        async with db_session(stack) as session:
            await release_points(business_today(), unit_of_work=session.unit_of_work, now=now)

    await release(confirm_by - timedelta(seconds=1))
    still = await redemption_node(stack, token, held["id"])
    await release(confirm_by)
    lapsed = await redemption_node(stack, token, held["id"])

    assert still["status"] == "AWAITING_CONFIRMATION"
    assert lapsed["status"] == "LAPSED"
    assert _balances(await account(stack, token)) == (8000, 0)
    await assert_ledger_balances(stack)


@pytest.mark.parametrize("who", ["other customer", "cashier", "alpha-admin"])
@pytest.mark.parametrize("mutation", [CONFIRM, DECLINE])
async def test_only_the_redemptions_customer_answers_it(
    stack: Stack, who: str, mutation: str
) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 8000)
    merchant = await approved_merchant(stack)
    held = await _spend(stack, merchant.cashier_token, token, points=6000)
    if who == "other customer":
        other, _ = await customer_token(stack)
    elif who == "cashier":
        other = merchant.cashier_token
    else:
        other = await stack.token(who)

    body = await stack.gql(mutation, {"id": held["id"]}, token=other)

    if who == "other customer":
        payload = next(iter(body["data"].values()))
        assert payload["userErrors"] == [{"field": ["redemptionId"], "code": "NOT_FOUND"}]
    else:
        assert error_codes(body) == ["FORBIDDEN"]
    assert (await redemption_node(stack, token, held["id"]))["status"] == "AWAITING_CONFIRMATION"
    assert _balances(await account(stack, token)) == (2000, 6000)


# Void ------------------------------------------------------------------------------------------


async def test_a_void_the_same_day_gives_back_points_stock_and_the_days_limits(
    stack: Stack,
) -> None:
    await set_rules(stack, "beta")
    token, customer_id = await rich_customer(stack, 3000, institution="beta")
    merchant = await approved_merchant(stack, "beta")
    reward = await add_reward(stack, merchant, pricePoints=1000, stock=1, perCustomerLimit=1)
    before = await lots_of(stack, customer_id)

    async with points_program(stack, "beta", customerDailyPoints=1000, merchantDailyPoints=1000):
        first = await _spend(stack, merchant.cashier_token, token, rewardId=reward["id"])
        voided = await _act(stack, VOID, merchant.cashier_token, first["id"])
        restored = await lots_of(stack, customer_id)
        balance = await account(stack, token)
        # the stock, the customer's and merchant's day and the customer's limit are free again
        second = await _spend(stack, merchant.cashier_token, token, rewardId=reward["id"])

    assert first["reward"]["stock"] == 0
    assert voided["userErrors"] == []
    assert voided["redemption"]["status"] == "VOIDED"
    assert voided["redemption"]["reward"]["stock"] == 1
    assert restored == before
    assert _balances(balance) == (3000, 0)
    assert (second["status"], second["reward"]["stock"]) == ("COMPLETED", 0)
    assert _balances(await account(stack, token)) == (2000, 0)
    await assert_ledger_balances(stack)


async def test_a_redemption_is_voided_once_and_only_by_its_merchant(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    other = await approved_merchant(stack)
    redemption = await _spend(stack, merchant.cashier_token, token, points=400)

    by_other = await _act(stack, VOID, other.cashier_token, redemption["id"])
    by_customer = await stack.gql(VOID, {"id": redemption["id"]}, token=token)
    by_staff = await stack.gql(
        VOID, {"id": redemption["id"]}, token=await stack.token("alpha-admin")
    )
    voided = await _act(stack, VOID, merchant.cashier_token, redemption["id"])
    again = await _act(stack, VOID, merchant.cashier_token, redemption["id"])

    assert by_other["userErrors"] == [{"field": ["redemptionId"], "code": "NOT_FOUND"}]
    assert error_codes(by_customer) == ["FORBIDDEN"]
    assert error_codes(by_staff) == ["FORBIDDEN"]
    assert voided["redemption"]["status"] == "VOIDED"
    assert again["userErrors"] == [{"field": ["redemptionId"], "code": "INVALID_STATE"}]
    assert (await account(stack, token))["balance"] == 1000
    await assert_ledger_balances(stack)


async def test_a_redemption_cannot_be_voided_the_next_day(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    redemption = await _spend(stack, merchant.cashier_token, token, points=400)

    async with db_session(stack) as session:
        with pytest.raises(DomainError) as closed:
            await redemption_domain.void_redemption(
                uuid.UUID(local_uuid(redemption["id"])),
                actor=await cashier_actor(stack, merchant),
                uow=session.unit_of_work(),
                now=datetime.now(UTC) + timedelta(days=1),
                today=business_today() + timedelta(days=1),
            )

    assert closed.value.code is ErrorCode.VOID_WINDOW_CLOSED
    assert (await redemption_node(stack, token, redemption["id"]))["status"] == "COMPLETED"
    assert (await account(stack, token))["balance"] == 600


async def test_voiding_a_redemption_awaiting_confirmation_releases_the_hold(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 9000)
    merchant = await approved_merchant(stack)
    held = await _spend(stack, merchant.cashier_token, token, points=8000)

    voided = await _act(stack, VOID, merchant.cashier_token, held["id"])
    confirmed = await _act(stack, CONFIRM, token, held["id"])

    assert voided["redemption"]["status"] == "VOIDED"
    assert confirmed["userErrors"] == [{"field": ["redemptionId"], "code": "INVALID_STATE"}]
    assert _balances(await account(stack, token)) == (9000, 0)
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 0
    await assert_ledger_balances(stack)


# Reversal by staff -----------------------------------------------------------------------------


async def test_an_admin_reverses_a_completed_redemption_with_a_reason_audited(
    stack: Stack,
) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant, pricePoints=300, stock=4)
    redemption = await _spend(stack, merchant.cashier_token, token, rewardId=reward["id"])
    admin = await stack.token("alpha-admin")

    no_reason = await _act(stack, REVERSE_REDEMPTION, admin, redemption["id"], reason="  ")
    reversed_ = await _act(
        stack, REVERSE_REDEMPTION, admin, redemption["id"], reason="商品质量问题，顾客退货"
    )
    again = await _act(stack, REVERSE_REDEMPTION, admin, redemption["id"], reason="再次")

    assert no_reason["userErrors"] == [{"field": ["reason"], "code": "REQUIRED"}]
    assert reversed_["userErrors"] == []
    assert reversed_["redemption"]["status"] == "REVERSED"
    assert reversed_["redemption"]["reward"]["stock"] == 4
    assert again["userErrors"] == [{"field": ["redemptionId"], "code": "INVALID_STATE"}]
    assert await audit_actions(stack, redemption["id"]) == ["redemption.reverse"]
    assert (await account(stack, token))["balance"] == 1000
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 0
    await assert_ledger_balances(stack)


@pytest.mark.parametrize(
    "who", ["alpha-officer", "alpha-manager", "alpha-risk", "prov-admin", "cashier", "customer"]
)
async def test_only_institution_admins_reverse_redemptions(stack: Stack, who: str) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    redemption = await _spend(stack, merchant.cashier_token, token, points=100)
    actor_token = {"cashier": merchant.cashier_token, "customer": token}.get(who) or (
        await stack.token(who)
    )

    body = await stack.gql(
        REVERSE_REDEMPTION, {"id": redemption["id"], "reason": "争议"}, token=actor_token
    )

    assert error_codes(body) == ["FORBIDDEN"]
    assert (await redemption_node(stack, token, redemption["id"]))["status"] == "COMPLETED"
    assert await audit_actions(stack, redemption["id"]) == []


async def test_another_institutions_admin_finds_no_redemption_to_reverse(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    redemption = await _spend(stack, merchant.cashier_token, token, points=100)

    refused = await _act(
        stack,
        REVERSE_REDEMPTION,
        await stack.token("beta-admin"),
        redemption["id"],
        reason="争议",
    )

    assert refused["userErrors"] == [{"field": ["redemptionId"], "code": "NOT_FOUND"}]
    assert (await account(stack, token))["balance"] == 900


@pytest.mark.parametrize("state", ["VOIDED", "AWAITING_CONFIRMATION", "DECLINED"])
async def test_only_completed_redemptions_are_reversed(stack: Stack, state: str) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 9000)
    merchant = await approved_merchant(stack)
    redemption = await _spend(
        stack, merchant.cashier_token, token, points=100 if state == "VOIDED" else 6000
    )
    if state == "VOIDED":
        await _act(stack, VOID, merchant.cashier_token, redemption["id"])
    elif state == "DECLINED":
        await _act(stack, DECLINE, token, redemption["id"])
    balance = await account(stack, token)

    refused = await _act(
        stack,
        REVERSE_REDEMPTION,
        await stack.token("alpha-admin"),
        redemption["id"],
        reason="争议",
    )

    assert refused["userErrors"] == [{"field": ["redemptionId"], "code": "INVALID_STATE"}]
    assert (await redemption_node(stack, token, redemption["id"]))["status"] == state
    assert await account(stack, token) == balance
    await assert_ledger_balances(stack)

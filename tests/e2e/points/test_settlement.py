"""Merchant settlement (商户结算): a business day closes into one batch per merchant, reconciled
with the ledger and valued at the institution's CNY per point; staff mark batches paid."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from jikuai.domain.points.settlement import SettlementRun, settle_day, value_of
from jikuai.domain.shared.errors import DomainError, ErrorCode
from tests.support.credit import audit_actions, customer_token, error_codes
from tests.support.merchants import MerchantFixture, approved_merchant
from tests.support.points import (
    CONFIRM,
    MARK_PAID,
    REVERSE_REDEMPTION,
    SETTLEMENTS,
    VOID,
    account_balance,
    assert_ledger_balances,
    business_today,
    db_session,
    institution_id,
    new_code,
    points_program,
    redeem,
    rich_customer,
    set_rules,
    sql,
)
from tests.support.stack import Stack

NODE_SETTLEMENT = "query($id: ID!) { node(id: $id) { ... on Settlement { id points } } }"


async def _settle(stack: Stack, on: date, *, today: date | None = None) -> SettlementRun:
    async with db_session(stack) as session:
        return await settle_day(
            on,
            unit_of_work=session.unit_of_work,
            now=datetime.now(UTC),
            today=today or on + timedelta(days=1),
        )


async def _spend(stack: Stack, merchant: MerchantFixture, token: str, points: int) -> str:
    redeemed = await redeem(
        stack, merchant.cashier_token, await new_code(stack, token), points=points
    )
    assert redeemed["userErrors"] == [], redeemed
    redemption_id: str = redeemed["redemption"]["id"]
    return redemption_id


async def _act(stack: Stack, mutation: str, token: str, **variables: Any) -> dict[str, Any]:
    body = await stack.gql(mutation, variables, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    assert payload["userErrors"] == [], payload
    return payload


async def _batches(
    stack: Stack, token: str, merchant_id: str | None = None
) -> list[dict[str, Any]]:
    """Every batch the token's holder sees (of one merchant), newest first."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        body = await stack.gql(
            SETTLEMENTS, {"merchantId": merchant_id, "first": 100, "after": after}, token=token
        )
        assert "errors" not in body, body
        connection = body["data"]["settlements"]
        found += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return found
        after = connection["pageInfo"]["endCursor"]


async def _ledger_day(stack: Stack, merchant: MerchantFixture, on: date) -> tuple[int, int]:
    """(net points, redemptions in less undone ones) the day's redemption journals moved in and
    out of the merchant's payable account, straight from the database."""
    rows = await sql(
        stack,
        "SELECT e.amount FROM points_entries e"
        " JOIN points_journals j ON j.id = e.journal_id"
        " JOIN points_accounts a ON a.id = e.account_id"
        " WHERE a.kind = 'MERCHANT_PAYABLE' AND a.owner_id = :merchant"
        " AND j.business_date = :day"
        " AND j.kind IN ('REDEEM', 'CAPTURE', 'VOID', 'REVERSE_REDEMPTION')",
        merchant=merchant.local_id,
        day=on if stack.settings.primary_database_url.startswith("postgres") else on.isoformat(),
    )
    amounts = [int(row[0]) for row in rows]
    return sum(amounts), sum(1 if amount > 0 else -1 for amount in amounts)


def _half_up(points: int, rate: str) -> Decimal:
    return (points * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def test_a_day_closes_into_one_batch_per_merchant_as_the_ledger_has_it(
    stack: Stack,
) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 20000)
    first = await approved_merchant(stack)
    second = await approved_merchant(stack)
    admin = await stack.token("alpha-admin")
    # first: three redemptions, one voided, and one confirmed by the customer
    await _spend(stack, first, token, 300)
    await _spend(stack, first, token, 500)
    voided = await _spend(stack, first, token, 201)
    await _act(stack, VOID, first.cashier_token, id=voided)
    held = await _spend(stack, first, token, 6000)
    await _act(stack, CONFIRM, token, id=held)
    # second: two redemptions, one reversed by the institution the same day
    reversed_ = await _spend(stack, second, token, 401)
    await _spend(stack, second, token, 777)
    await _act(stack, REVERSE_REDEMPTION, admin, id=reversed_, reason="争议")
    today = business_today()

    run = await _settle(stack, today)
    again = await _settle(stack, today)

    assert run.batches >= 2
    assert again == SettlementRun(batches=0, points=0, amount=Decimal("0.00"))
    expected = {first.merchant_id: (6800, 3), second.merchant_id: (777, 1)}
    for merchant in (first, second):
        [batch] = await _batches(stack, admin, merchant.merchant_id)
        points, redemptions = expected[merchant.merchant_id]
        assert (batch["points"], batch["redemptions"]) == (points, redemptions)
        assert await _ledger_day(stack, merchant, today) == (points, redemptions)
        assert date.fromisoformat(batch["businessDate"]) == today
        assert Decimal(batch["cnyPerPoint"]) == Decimal("0.01")
        assert Decimal(batch["amount"]) == _half_up(points, "0.01")
        assert (batch["status"], batch["paidAt"], batch["paymentReference"]) == (
            "UNPAID",
            None,
            None,
        )
        assert batch["merchant"] == {"id": merchant.merchant_id}
    await assert_ledger_balances(stack)


async def test_a_batch_is_valued_at_the_institutions_rate_rounded_half_up_to_the_fen(
    stack: Stack,
) -> None:
    await set_rules(stack, "beta")
    token, _ = await rich_customer(stack, 5000, institution="beta")
    odd = await approved_merchant(stack, "beta")
    half = await approved_merchant(stack, "beta")
    await _spend(stack, odd, token, 1000)
    await _spend(stack, odd, token, 3)  # 1003 × 0.0125 = 12.5375
    await _spend(stack, half, token, 1002)  # 1002 × 0.0125 = 12.525, exactly half a fen
    today = business_today()

    async with points_program(stack, "beta", cnyPerPoint="0.0125"):
        await _settle(stack, today)

    admin = await stack.token("beta-admin")
    [odd_batch] = await _batches(stack, admin, odd.merchant_id)
    [half_batch] = await _batches(stack, admin, half.merchant_id)
    assert (odd_batch["points"], Decimal(odd_batch["amount"])) == (1003, Decimal("12.54"))
    assert (half_batch["points"], Decimal(half_batch["amount"])) == (1002, Decimal("12.53"))
    assert Decimal(odd_batch["amount"]) == _half_up(1003, "0.0125")
    assert Decimal(odd_batch["cnyPerPoint"]) == Decimal("0.0125")
    assert (odd_batch["redemptions"], half_batch["redemptions"]) == (2, 1)


@pytest.mark.parametrize(
    ("points", "rate", "amount"),
    [(1, "0.0125", "0.01"), (2, "0.0125", "0.03"), (4, "0.0125", "0.05"), (333, "0.01", "3.33")],
)
def test_the_value_of_points_is_rounded_half_up(points: int, rate: str, amount: str) -> None:
    assert value_of(points, Decimal(rate)) == Decimal(amount)


async def test_only_a_day_that_is_over_can_be_settled(stack: Stack) -> None:
    today = business_today()

    for on in (today, today + timedelta(days=1)):
        with pytest.raises(DomainError) as refused:
            await _settle(stack, on, today=today)
        assert refused.value.code is ErrorCode.INVALID_DATE


async def test_a_day_with_nothing_left_to_pay_closes_into_an_empty_batch_paid_as_such(
    stack: Stack,
) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    voided = await _spend(stack, merchant, token, 250)
    await _act(stack, VOID, merchant.cashier_token, id=voided)
    admin = await stack.token("alpha-admin")

    await _settle(stack, business_today())
    [batch] = await _batches(stack, admin, merchant.merchant_id)
    paid = await _act(stack, MARK_PAID, admin, id=batch["id"], reference="NOTHING-DUE")

    assert (batch["points"], batch["redemptions"], Decimal(batch["amount"])) == (0, 0, Decimal(0))
    assert paid["settlement"]["status"] == "PAID"
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 0
    await assert_ledger_balances(stack)


# Who sees which batches ------------------------------------------------------------------------


async def _settled_merchant(stack: Stack, institution: str, points: int) -> MerchantFixture:
    await set_rules(stack, institution)
    token, _ = await rich_customer(stack, points, institution=institution)
    merchant = await approved_merchant(stack, institution)
    await _spend(stack, merchant, token, points)
    return merchant


async def test_cashiers_see_their_merchants_batches_and_staff_their_institutions(
    stack: Stack,
) -> None:
    alpha = await _settled_merchant(stack, "alpha", 123)
    alpha_other = await _settled_merchant(stack, "alpha", 45)
    beta = await _settled_merchant(stack, "beta", 67)
    await _settle(stack, business_today())

    cashier = await _batches(stack, alpha.cashier_token)
    cashier_asking_for_another = await _batches(stack, alpha.cashier_token, beta.merchant_id)
    alpha_staff = await _batches(stack, await stack.token("alpha-officer"))
    alpha_staff_on_beta = await _batches(stack, await stack.token("alpha-admin"), beta.merchant_id)
    beta_staff = await _batches(stack, await stack.token("beta-manager"))
    province = await _batches(stack, await stack.token("prov-admin"), beta.merchant_id)

    assert [batch["points"] for batch in cashier] == [123]
    assert {batch["merchant"]["id"] for batch in cashier} == {alpha.merchant_id}
    assert [batch["points"] for batch in cashier_asking_for_another] == [123]
    alpha_points = {batch["merchant"]["id"]: batch["points"] for batch in alpha_staff}
    assert alpha_points[alpha.merchant_id] == 123
    assert alpha_points[alpha_other.merchant_id] == 45
    assert beta.merchant_id not in alpha_points
    assert None not in alpha_points  # every batch's merchant is one they may see
    assert alpha_staff_on_beta == []
    beta_ids = {batch["id"] for batch in beta_staff}
    assert beta_ids.isdisjoint(batch["id"] for batch in alpha_staff)
    assert [batch["points"] for batch in province] == [67]
    beta_batch = province[0]["id"]
    by_node = await stack.gql(NODE_SETTLEMENT, {"id": beta_batch}, token=alpha.cashier_token)
    assert by_node.get("data", {}).get("node") is None


@pytest.mark.parametrize("who", ["customer", "alpha-risk"])
async def test_customers_and_staff_outside_the_programme_see_no_batches(
    stack: Stack, who: str
) -> None:
    token = (await customer_token(stack))[0] if who == "customer" else await stack.token(who)

    body = await stack.gql(SETTLEMENTS, {"first": 5}, token=token)

    assert error_codes(body) == ["FORBIDDEN"]


# Paying ----------------------------------------------------------------------------------------


async def test_an_admin_marks_a_batch_paid_once_moving_its_points_out_of_the_payable(
    stack: Stack,
) -> None:
    merchant = await _settled_merchant(stack, "alpha", 4321)
    await _settle(stack, business_today())
    admin = await stack.token("alpha-admin")
    [batch] = await _batches(stack, admin, merchant.merchant_id)
    payable = await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE")
    settled = await account_balance(stack, institution_id(stack), "MERCHANT_SETTLED")

    no_reference = await stack.gql(MARK_PAID, {"id": batch["id"], "reference": " "}, token=admin)
    by_manager = await stack.gql(
        MARK_PAID,
        {"id": batch["id"], "reference": "X"},
        token=await stack.token("alpha-manager"),
    )
    by_cashier = await stack.gql(
        MARK_PAID, {"id": batch["id"], "reference": "X"}, token=merchant.cashier_token
    )
    by_other_institution = await stack.gql(
        MARK_PAID, {"id": batch["id"], "reference": "X"}, token=await stack.token("beta-admin")
    )
    paid = await stack.gql(
        MARK_PAID, {"id": batch["id"], "reference": "  CMB-20261129-0001 "}, token=admin
    )
    again = await stack.gql(MARK_PAID, {"id": batch["id"], "reference": "AGAIN"}, token=admin)

    assert no_reference["data"]["markSettlementPaid"]["userErrors"] == [
        {"field": ["paymentReference"], "code": "REQUIRED"}
    ]
    assert error_codes(by_manager) == ["FORBIDDEN"]
    assert error_codes(by_cashier) == ["FORBIDDEN"]
    assert by_other_institution["data"]["markSettlementPaid"]["userErrors"] == [
        {"field": ["settlementId"], "code": "NOT_FOUND"}
    ]
    result = paid["data"]["markSettlementPaid"]
    assert result["userErrors"] == []
    assert result["settlement"]["status"] == "PAID"
    assert result["settlement"]["paymentReference"] == "CMB-20261129-0001"
    assert result["settlement"]["paidAt"]
    assert again["data"]["markSettlementPaid"]["userErrors"] == [
        {"field": ["settlementId"], "code": "INVALID_STATE"}
    ]
    assert payable == 4321
    assert await account_balance(stack, merchant.local_id, "MERCHANT_PAYABLE") == 0
    assert await account_balance(stack, institution_id(stack), "MERCHANT_SETTLED") == (
        settled + 4321
    )
    [stored] = await _batches(stack, admin, merchant.merchant_id)
    assert (stored["status"], stored["paymentReference"]) == ("PAID", "CMB-20261129-0001")
    assert await audit_actions(stack, batch["id"]) == ["settlement.paid"]
    await assert_ledger_balances(stack)

"""Points that wait before they can be spent (pending), and points that end (expiry): the jobs of
a business date, run for chosen dates through the domain."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from jikuai.domain.points.earning import RecordEvent, record_event
from jikuai.domain.points.expiry import JobResult, expire_points, release_points
from jikuai.domain.points.model import EventType
from jikuai.domain.points.rules import add_months
from jikuai.domain.shared.errors import DomainError, ErrorCode
from tests.support.credit import customer_token, local_uuid
from tests.support.merchants import approved_merchant
from tests.support.points import (
    CANCEL,
    REVERSE,
    account,
    assert_ledger_balances,
    business_today,
    db_session,
    event_node,
    lots_of,
    new_code,
    record,
    redeem,
    redeem_on,
    service_actor,
    service_token,
    set_rules,
    sql,
)
from tests.support.stack import Stack

EXPIRING = """
query($days: Int!) { pointsAccount { expiringSoon(withinDays: $days) { points date } } }
"""


async def _release(stack: Stack, on: date) -> JobResult:
    async with db_session(stack) as session:
        return await release_points(on, unit_of_work=session.unit_of_work, now=datetime.now(UTC))


async def _expire(stack: Stack, on: date) -> JobResult:
    async with db_session(stack) as session:
        return await expire_points(on, unit_of_work=session.unit_of_work, now=datetime.now(UTC))


async def _event_ref(
    stack: Stack, mutation: str, token: str, event_type: str, source_ref: str
) -> dict[str, Any]:
    body = await stack.gql(
        mutation, {"input": {"eventType": event_type, "sourceRef": source_ref}}, token=token
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


def _card_last_day(today: date) -> date:
    """The last day of points earned today under the one-month rolling card rule."""
    return add_months(today, 1) - timedelta(days=1)


# Pending ---------------------------------------------------------------------------------------


async def test_a_referral_is_pending_not_spendable(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)

    recorded = await record(stack, core, customer_id, "REFERRAL")

    assert recorded["event"]["status"] == "PENDING"
    assert recorded["event"]["points"] == 300
    found = await account(stack, token)
    assert (found["balance"], found["pending"], found["expiringSoon"]) == (0, 300, [])
    [lot] = await lots_of(stack, customer_id)
    assert (lot["state"], lot["remaining"]) == ("PENDING", 300)
    await assert_ledger_balances(stack)


async def test_pending_points_cannot_be_spent(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    await record(stack, core, customer_id, "REFERRAL")

    refused = await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=1)

    assert refused["userErrors"] == [{"field": ["points"], "code": "INSUFFICIENT_POINTS"}]
    assert (await account(stack, token))["pending"] == 300


async def test_a_pending_earning_cancelled_in_its_window_is_gone(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    ref = f"REF-{uuid.uuid4().hex}"
    await record(stack, core, customer_id, "REFERRAL", ref)

    cancelled = await _event_ref(stack, CANCEL, core, "REFERRAL", ref)
    again = await _event_ref(stack, CANCEL, core, "REFERRAL", ref)

    assert cancelled["userErrors"] == []
    assert cancelled["event"]["status"] == "CANCELLED"
    assert again["userErrors"] == [{"field": ["sourceRef"], "code": "INVALID_STATE"}]
    found = await account(stack, token)
    assert (found["balance"], found["pending"], found["debt"]) == (0, 0, 0)
    [lot] = await lots_of(stack, customer_id)
    assert (lot["state"], lot["remaining"]) == ("CANCELLED", 0)
    # a cancelled lot is never released
    await _release(stack, business_today() + timedelta(days=30))
    assert (await account(stack, token))["balance"] == 0
    await assert_ledger_balances(stack)


async def test_reversing_a_pending_earning_cancels_it(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    ref = f"REF-{uuid.uuid4().hex}"
    await record(stack, core, customer_id, "REFERRAL", ref)

    reversed_ = await _event_ref(stack, REVERSE, core, "REFERRAL", ref)

    assert reversed_["event"]["status"] == "CANCELLED"
    assert (await account(stack, token))["pending"] == 0
    await assert_ledger_balances(stack)


async def test_pending_points_become_spendable_on_their_day_once(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    ref = f"REF-{uuid.uuid4().hex}"
    event = (await record(stack, core, customer_id, "REFERRAL", ref))["event"]
    today = business_today()

    await _release(stack, today + timedelta(days=6))
    before = await account(stack, token)  # six days on, still waiting
    released = await _release(stack, today + timedelta(days=7))
    after = await account(stack, token)
    again = await _release(stack, today + timedelta(days=7))

    assert (before["balance"], before["pending"]) == (0, 300)
    assert released.points >= 300
    assert (after["balance"], after["pending"]) == (300, 0)
    assert again == JobResult(customers=0, lots=0, points=0)
    assert (await account(stack, token))["balance"] == 300
    assert (await event_node(stack, core, event["id"]))["status"] == "POSTED"
    [lot] = await lots_of(stack, customer_id)
    assert (lot["state"], lot["remaining"]) == ("ACTIVE", 300)
    moved = await sql(
        stack,
        "SELECT points, business_date FROM points_journals"
        " WHERE customer_id = :customer AND kind = 'RELEASE'",
        customer=uuid.UUID(local_uuid(customer_id)),
    )
    assert [(row[0], _day(row[1])) for row in moved] == [(300, today + timedelta(days=7))]
    await assert_ledger_balances(stack)


async def test_a_released_earning_is_reversed_not_cancelled(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    ref = f"REF-{uuid.uuid4().hex}"
    await record(stack, core, customer_id, "REFERRAL", ref)
    await _release(stack, business_today() + timedelta(days=7))

    cancelled = await _event_ref(stack, CANCEL, core, "REFERRAL", ref)
    reversed_ = await _event_ref(stack, REVERSE, core, "REFERRAL", ref)

    assert cancelled["userErrors"] == [{"field": ["sourceRef"], "code": "INVALID_STATE"}]
    assert reversed_["userErrors"] == []
    assert reversed_["event"]["status"] == "REVERSED"
    found = await account(stack, token)
    assert (found["balance"], found["pending"], found["debt"]) == (0, 0, 0)
    await assert_ledger_balances(stack)


# Expiry ----------------------------------------------------------------------------------------


async def test_spending_takes_the_soonest_expiring_points_first_even_when_newer(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    today = business_today()
    await record(stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", amount="100000")
    await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")

    redeemed = await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=150)

    assert redeemed["userErrors"] == []
    deposit, card = await lots_of(stack, customer_id)  # oldest first
    assert (deposit["points"], deposit["remaining"], _day(deposit["expires_on"])) == (
        1000,
        1000,
        date(today.year + 1, 12, 31),
    )
    assert (card["points"], card["remaining"], _day(card["expires_on"])) == (
        200,
        50,
        _card_last_day(today),
    )

    more = await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=100)

    assert more["userErrors"] == []
    deposit, card = await lots_of(stack, customer_id)
    assert (card["remaining"], deposit["remaining"]) == (0, 950)
    assert (await account(stack, token))["balance"] == 950
    await assert_ledger_balances(stack)


async def test_expiring_soon_lists_spendable_points_by_last_day(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    today = business_today()
    await record(stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", amount="30000")
    await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")
    await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")
    await record(stack, core, customer_id, "REFERRAL")  # pending: not spendable yet

    everything = await account(stack, token)
    month = await stack.gql(EXPIRING, {"days": 31}, token=token)
    far = await stack.gql(EXPIRING, {"days": 2147483647}, token=token)

    assert everything["expiringSoon"] == [
        {"points": 400, "date": _card_last_day(today).isoformat()},
        {"points": 300, "date": date(today.year + 1, 12, 31).isoformat()},
    ]
    assert month["data"]["pointsAccount"]["expiringSoon"] == [
        {"points": 400, "date": _card_last_day(today).isoformat()}
    ]
    # looking further than ten years is looking ten years
    assert far["data"]["pointsAccount"]["expiringSoon"] == everything["expiringSoon"]


async def test_the_expiry_job_ends_what_is_left_of_lots_past_their_last_day_once(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    today = business_today()
    last_day = _card_last_day(today)
    await record(stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", amount="50000")
    await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")
    await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=80)

    await _expire(stack, last_day)
    untouched = await lots_of(stack, customer_id)
    after_last_day = await _expire(stack, last_day + timedelta(days=1))
    expired = await lots_of(stack, customer_id)
    again = await _expire(stack, last_day + timedelta(days=1))

    # on its last day a lot is still good: the run of that day leaves it alone
    assert [(lot["remaining"], lot["expired"]) for lot in untouched] == [(500, 0), (120, 0)]
    # the next day's run ends exactly what was left of it
    assert after_last_day.points >= 120
    assert [(lot["remaining"], lot["expired"], lot["state"]) for lot in expired] == [
        (500, 0, "ACTIVE"),
        (0, 120, "ACTIVE"),
    ]
    assert again == JobResult(customers=0, lots=0, points=0)
    found = await account(stack, token)
    assert (found["balance"], found["debt"]) == (500, 0)
    assert found["expiringSoon"] == [
        {"points": 500, "date": date(today.year + 1, 12, 31).isoformat()}
    ]
    journals = await sql(
        stack,
        "SELECT j.points, j.business_date, a.kind, e.amount FROM points_journals j"
        " JOIN points_entries e ON e.journal_id = j.id"
        " JOIN points_accounts a ON a.id = e.account_id"
        " WHERE j.customer_id = :customer AND j.kind = 'EXPIRE' ORDER BY a.kind",
        customer=uuid.UUID(local_uuid(customer_id)),
    )
    assert [(row[0], _day(row[1]), row[2], row[3]) for row in journals] == [
        (120, last_day + timedelta(days=1), "AVAILABLE", -120),
        (120, last_day + timedelta(days=1), "EXPIRY_INCOME", 120),
    ]
    history = await stack.gql(
        "query { pointsHistory(first: 1) { edges { node { kind points } } } }", token=token
    )
    assert history["data"]["pointsHistory"]["edges"][0]["node"] == {
        "kind": "EXPIRE",
        "points": -120,
    }
    await assert_ledger_balances(stack)


async def test_points_past_their_last_day_cannot_be_spent_before_the_job_runs(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    last_day = _card_last_day(business_today())
    await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")

    with pytest.raises(DomainError) as refused:
        await redeem_on(stack, merchant, customer_id, day=last_day + timedelta(days=1), points=1)
    on_last_day = await redeem_on(stack, merchant, customer_id, day=last_day, points=150)

    assert refused.value.code is ErrorCode.INSUFFICIENT_POINTS
    assert on_last_day.points == 150
    [lot] = await lots_of(stack, customer_id)
    assert (lot["remaining"], lot["expired"]) == (50, 0)
    assert (await account(stack, token))["balance"] == 50
    await assert_ledger_balances(stack)


def _day(value: Any) -> date:
    """A date column as either driver returns it."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def test_a_pending_earning_that_all_settled_debt_is_posted_on_its_day(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    first = (await record(stack, core, customer_id, "CAMPAIGN", points=500))["event"]
    await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=400)
    await _event_ref(stack, REVERSE, core, "CAMPAIGN", first["sourceRef"])
    ref = f"REF-{uuid.uuid4().hex}"
    referral = (await record(stack, core, customer_id, "REFERRAL", ref))["event"]
    assert (referral["status"], referral["debtSettled"]) == ("PENDING", 300)
    assert (await account(stack, token))["debt"] == 100

    await _release(stack, business_today() + timedelta(days=7))
    cancelled = await _event_ref(stack, CANCEL, core, "REFERRAL", ref)

    # its waiting days are over like any pending earning's: posted, and no longer cancellable
    assert (await event_node(stack, core, referral["id"]))["status"] == "POSTED"
    assert cancelled["userErrors"] == [{"field": ["sourceRef"], "code": "INVALID_STATE"}]
    found = await account(stack, token)
    assert (found["balance"], found["pending"], found["debt"]) == (0, 0, 100)
    await assert_ledger_balances(stack)


async def test_a_pending_earning_cut_to_nothing_by_a_cap_is_posted_on_its_day(
    stack: Stack,
) -> None:
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    try:
        await set_rules(stack, REFERRAL={"dailyCap": 300})
        await record(stack, core, customer_id, "REFERRAL")
        ref = f"REF-{uuid.uuid4().hex}"
        nothing = (await record(stack, core, customer_id, "REFERRAL", ref))["event"]
    finally:
        await set_rules(stack)
    assert (nothing["points"], nothing["capped"], nothing["status"]) == (0, True, "PENDING")

    await _release(stack, business_today() + timedelta(days=7))

    assert (await event_node(stack, core, nothing["id"]))["status"] == "POSTED"
    found = await account(stack, token)
    assert (found["balance"], found["pending"]) == (300, 0)
    await assert_ledger_balances(stack)


async def test_points_past_their_last_day_are_not_listed_as_expiring(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id = await customer_token(stack)
    today = business_today()
    earned_on = today - timedelta(days=40)  # one month on, its last day is over
    async with db_session(stack) as session:
        await record_event(
            RecordEvent(
                uuid.UUID(local_uuid(customer_id)),
                EventType.SOCIAL_SECURITY_CARD_ACTIVATION,
                uuid.uuid4().hex,
            ),
            actor=service_actor(stack),
            uow=session.unit_of_work(),
            now=datetime.now(UTC),
            today=earned_on,
        )
    await record(stack, await service_token(stack), customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")

    found = await account(stack, token)

    # not spendable any more, so not "expiring": only today's card points are
    assert found["expiringSoon"] == [{"points": 200, "date": _card_last_day(today).isoformat()}]


async def test_the_jobs_page_through_customers_in_small_batches(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    customers = [await customer_token(stack) for _ in range(3)]
    for _, customer_id in customers:
        await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")
        await record(stack, core, customer_id, "REFERRAL")
    today = business_today()

    async with db_session(stack) as session:
        released = await release_points(
            today + timedelta(days=7),
            unit_of_work=session.unit_of_work,
            now=datetime.now(UTC),
            batch_size=1,
        )
        expired = await expire_points(
            add_months(today, 1),
            unit_of_work=session.unit_of_work,
            now=datetime.now(UTC),
            batch_size=1,
        )

    assert released.customers >= 3
    assert expired.customers >= 3
    for token, _ in customers:
        found = await account(stack, token)
        assert (found["balance"], found["pending"]) == (300, 0)
    await assert_ledger_balances(stack)

"""Who may read whose points, redemptions and settlements, and who configures the programme."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from jikuai.domain.points.settlement import settle_day
from tests.support.credit import customer_token, error_codes
from tests.support.merchants import MerchantFixture, approved_merchant
from tests.support.points import (
    ACCOUNT,
    CANCEL,
    DEFAULT_PROGRAM,
    HISTORY,
    NODE_EVENT,
    NODE_REDEMPTION,
    REVERSE,
    SET_PROGRAM,
    SET_RULE,
    award,
    business_today,
    db_session,
    new_code,
    points_program,
    record,
    redeem,
    rich_customer,
    service_token,
    set_rules,
)
from tests.support.stack import Stack

PROGRAM = "query { pointsProgram { cnyPerPoint confirmAbovePoints customerDailyPoints } }"
RULES = "query { earningRules { eventType fixedPoints } }"
REDEMPTIONS = """
query($after: String) {
  redemptions(first: 100, after: $after) {
    edges { node { id points merchant { id } } } pageInfo { hasNextPage endCursor }
  }
}
"""
NODE_SETTLEMENT = "query($id: ID!) { node(id: $id) { ... on Settlement { id points } } }"
SETTLEMENTS = """
query($merchantId: ID) { settlements(merchantId: $merchantId, first: 5) { edges { node { id } } } }
"""


async def _token(stack: Stack, who: str, *, merchant: MerchantFixture | None = None) -> str | None:
    """A token for `who`: a staff username, "customer", "cashier", "service" or "anonymous"."""
    if who == "anonymous":
        return None
    if who == "customer":
        return (await customer_token(stack))[0]
    if who == "cashier":
        return (merchant or await approved_merchant(stack)).cashier_token
    if who == "service":
        return await service_token(stack)
    return await stack.token(who)


def _node(body: dict[str, Any]) -> dict[str, Any] | None:
    """The node, or None when it is not visible (NOT_FOUND)."""
    node: dict[str, Any] | None = body["data"]["node"] if body.get("data") else None
    if node is None:
        assert error_codes(body) == ["NOT_FOUND"], body
    return node


async def _all_redemptions(stack: Stack, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        body = await stack.gql(REDEMPTIONS, {"after": after}, token=token)
        assert "errors" not in body, body
        connection = body["data"]["redemptions"]
        found += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return found
        after = connection["pageInfo"]["endCursor"]


# Points accounts and history -------------------------------------------------------------------


async def test_a_customer_reads_their_own_points_only(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id = await rich_customer(stack, 300)
    _, other = await rich_customer(stack, 900)

    own = await stack.gql(ACCOUNT, {"customerId": None}, token=token)
    own_by_id = await stack.gql(ACCOUNT, {"customerId": customer_id}, token=token)
    others = await stack.gql(ACCOUNT, {"customerId": other}, token=token)

    assert own["data"]["pointsAccount"]["balance"] == 300
    assert own_by_id["data"]["pointsAccount"]["balance"] == 300
    assert others["data"]["pointsAccount"] is None


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("alpha-officer", True),
        ("alpha-manager", True),
        ("alpha-admin", True),
        ("prov-admin", True),
        ("beta-admin", False),
        ("beta-officer", False),
    ],
)
async def test_staff_read_the_points_of_their_institutions_customers(
    stack: Stack, who: str, sees: bool
) -> None:
    await set_rules(stack)
    _, customer_id = await rich_customer(stack, 450)
    token = await stack.token(who)

    found = await stack.gql(ACCOUNT, {"customerId": customer_id}, token=token)
    history = await stack.gql(
        "query($id: ID) { pointsHistory(customerId: $id) { edges { node { points } } } }",
        {"id": customer_id},
        token=token,
    )
    nobody = await stack.gql(ACCOUNT, {"customerId": None}, token=token)

    assert "errors" not in found, found
    account = found["data"]["pointsAccount"]
    edges = history["data"]["pointsHistory"]["edges"]
    if sees:
        assert account["balance"] == 450
        assert [edge["node"]["points"] for edge in edges] == [450]
    else:
        assert account is None
        assert edges == []
    assert nobody["data"]["pointsAccount"] is None


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("alpha-risk", "FORBIDDEN"),
        ("cashier", "FORBIDDEN"),
        ("service", "FORBIDDEN"),
        ("anonymous", "UNAUTHENTICATED"),
    ],
)
async def test_others_read_no_points(stack: Stack, who: str, code: str) -> None:
    await set_rules(stack)
    _, customer_id = await rich_customer(stack, 450)
    token = await _token(stack, who)

    found = await stack.gql(ACCOUNT, {"customerId": customer_id}, token=token)
    history = await stack.gql(HISTORY, {"first": 5}, token=token)

    assert error_codes(found) == [code]
    assert error_codes(history) == [code]


# Redemptions -----------------------------------------------------------------------------------


async def test_redemptions_are_seen_by_their_merchant_customer_and_institution(
    stack: Stack,
) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    other_token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    other_merchant = await approved_merchant(stack)
    mine = await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=111)
    theirs = await redeem(
        stack, other_merchant.cashier_token, await new_code(stack, other_token), points=222
    )
    mine_id, theirs_id = mine["redemption"]["id"], theirs["redemption"]["id"]

    cashier_list = await _all_redemptions(stack, merchant.cashier_token)
    customer_list = await _all_redemptions(stack, token)
    alpha_list = {
        each["id"] for each in await _all_redemptions(stack, await stack.token("alpha-officer"))
    }
    beta_list = {
        each["id"] for each in await _all_redemptions(stack, await stack.token("beta-admin"))
    }

    assert [(each["id"], each["points"]) for each in cashier_list] == [(mine_id, 111)]
    assert [(each["id"], each["points"]) for each in customer_list] == [(mine_id, 111)]
    assert {mine_id, theirs_id} <= alpha_list
    assert not {mine_id, theirs_id} & beta_list

    async def node(who: str) -> dict[str, Any] | None:
        tokens = {
            "merchant": merchant.cashier_token,
            "other merchant": other_merchant.cashier_token,
            "customer": token,
            "other customer": other_token,
        }
        by = tokens.get(who) or await stack.token(who)
        return _node(await stack.gql(NODE_REDEMPTION, {"id": mine_id}, token=by))

    for who in ("merchant", "customer", "alpha-manager", "prov-admin"):
        found = await node(who)
        assert found is not None, who
        assert found["points"] == 111
    for who in ("other merchant", "other customer", "beta-admin", "alpha-risk"):
        assert await node(who) is None, who


@pytest.mark.parametrize("who", ["alpha-risk", "service"])
async def test_staff_outside_the_programme_and_systems_list_no_redemptions(
    stack: Stack, who: str
) -> None:
    body = await stack.gql(REDEMPTIONS, {"after": None}, token=await _token(stack, who))

    assert error_codes(body) == ["FORBIDDEN"]


# Points events ---------------------------------------------------------------------------------


async def test_a_points_event_is_seen_by_its_customer_institution_and_system(
    stack: Stack,
) -> None:
    await set_rules(stack)
    await set_rules(stack, "beta")
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    event = await award(stack, core, customer_id, 70)

    async def sees(by: str) -> bool:
        found = _node(await stack.gql(NODE_EVENT, {"id": event["id"]}, token=by))
        return found is not None and found["points"] == 70

    other_customer, _ = await customer_token(stack)
    assert await sees(token)
    assert await sees(core)
    assert await sees(await service_token(stack))  # another system of the institution
    assert await sees(await stack.token("alpha-officer"))
    assert await sees(await stack.token("prov-admin"))
    assert not await sees(other_customer)
    assert not await sees(await service_token(stack, "beta"))
    assert not await sees(await stack.token("beta-admin"))
    assert not await sees((await approved_merchant(stack)).cashier_token)
    assert not await sees(await stack.token("alpha-risk"))


async def test_another_institutions_system_cannot_undo_an_event(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    beta_core = await service_token(stack, "beta")
    token, customer_id = await customer_token(stack)
    ref = f"REF-{uuid.uuid4().hex}"
    await record(stack, core, customer_id, "REFERRAL", ref)
    event_ref = {"input": {"eventType": "REFERRAL", "sourceRef": ref}}

    cancelled = await stack.gql(CANCEL, event_ref, token=beta_core)
    reversed_ = await stack.gql(REVERSE, event_ref, token=beta_core)
    unknown = await stack.gql(
        CANCEL, {"input": {"eventType": "REFERRAL", "sourceRef": f"{ref}-x"}}, token=core
    )

    for body in (cancelled, reversed_, unknown):
        payload = next(iter(body["data"].values()))
        assert payload["userErrors"] == [{"field": ["sourceRef"], "code": "NOT_FOUND"}]
    found = await stack.gql(ACCOUNT, {"customerId": None}, token=token)
    assert found["data"]["pointsAccount"]["pending"] == 300


@pytest.mark.parametrize("who", ["customer", "cashier", "alpha-manager", "prov-admin"])
async def test_only_systems_and_admins_undo_events(stack: Stack, who: str) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    _, customer_id = await customer_token(stack)
    event = await award(stack, core, customer_id, 100)
    token = await _token(stack, who)

    body = await stack.gql(
        REVERSE, {"input": {"eventType": "CAMPAIGN", "sourceRef": event["sourceRef"]}}, token=token
    )

    assert error_codes(body) == ["FORBIDDEN"]


async def test_an_admin_undoes_campaign_awards_but_not_the_systems_events(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    admin = await stack.token("alpha-admin")
    _, customer_id = await customer_token(stack)
    campaign = await award(stack, core, customer_id, 100)
    card = (await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION"))["event"]

    campaign_reversed = await stack.gql(
        REVERSE,
        {"input": {"eventType": "CAMPAIGN", "sourceRef": campaign["sourceRef"]}},
        token=admin,
    )
    card_reversed = await stack.gql(
        REVERSE,
        {"input": {"eventType": "SOCIAL_SECURITY_CARD_ACTIVATION", "sourceRef": card["sourceRef"]}},
        token=admin,
    )

    assert campaign_reversed["data"]["reversePointsEvent"]["event"]["status"] == "REVERSED"
    assert error_codes(card_reversed) == ["FORBIDDEN"]


# Settlements -----------------------------------------------------------------------------------


async def test_a_settlement_by_id_is_seen_by_its_merchant_and_programme_staff(
    stack: Stack,
) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 500)
    merchant = await approved_merchant(stack)
    await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=99)
    today = business_today()
    async with db_session(stack) as session:
        await settle_day(
            today,
            unit_of_work=session.unit_of_work,
            now=datetime.now(UTC),
            today=today + timedelta(days=1),
        )
    listed = await stack.gql(SETTLEMENTS, {"merchantId": None}, token=merchant.cashier_token)
    [batch_id] = [edge["node"]["id"] for edge in listed["data"]["settlements"]["edges"]]

    async def sees(by: str) -> bool:
        found = _node(await stack.gql(NODE_SETTLEMENT, {"id": batch_id}, token=by))
        return found is not None and found["points"] == 99

    assert await sees(merchant.cashier_token)
    assert await sees(await stack.token("alpha-officer"))
    assert await sees(await stack.token("prov-admin"))
    assert not await sees((await approved_merchant(stack)).cashier_token)
    assert not await sees(await stack.token("beta-admin"))
    assert not await sees(token)
    assert not await sees(await stack.token("alpha-risk"))


# The programme and its rules -------------------------------------------------------------------


async def test_each_institution_has_its_own_programme(stack: Stack) -> None:
    customer, _ = await customer_token(stack)

    async with points_program(stack, "beta", cnyPerPoint="0.02", customerDailyPoints=777):
        beta = await stack.gql(PROGRAM, token=await stack.token("beta-officer"))
        alpha = await stack.gql(PROGRAM, token=await stack.token("alpha-officer"))
        alpha_customer = await stack.gql(PROGRAM, token=customer)
    restored = await stack.gql(PROGRAM, token=await stack.token("beta-officer"))

    beta_program = beta["data"]["pointsProgram"]
    assert Decimal(beta_program["cnyPerPoint"]) == Decimal("0.02")
    assert (beta_program["confirmAbovePoints"], beta_program["customerDailyPoints"]) == (5000, 777)
    assert Decimal(alpha["data"]["pointsProgram"]["cnyPerPoint"]) == Decimal("0.01")
    assert alpha["data"]["pointsProgram"]["customerDailyPoints"] == 20000
    assert alpha_customer["data"]["pointsProgram"] == alpha["data"]["pointsProgram"]
    assert restored["data"]["pointsProgram"]["customerDailyPoints"] == 20000


async def test_an_inconsistent_programme_is_refused_with_every_field(stack: Stack) -> None:
    admin = await stack.token("beta-admin")
    before = await stack.gql(PROGRAM, token=admin)

    body = await stack.gql(
        SET_PROGRAM,
        {
            "input": DEFAULT_PROGRAM
            | {
                "cnyPerPoint": "0.00001",
                "confirmAbovePoints": 0,
                "confirmWindowSeconds": 10,
                "merchantDailyPoints": -1,
            }
        },
        token=admin,
    )

    payload = body["data"]["setPointsProgram"]
    assert payload["program"] is None
    assert payload["userErrors"] == [
        {"field": ["cnyPerPoint"], "code": "INVALID_AMOUNT"},
        {"field": ["confirmAbovePoints"], "code": "INVALID_POINTS"},
        {"field": ["merchantDailyPoints"], "code": "INVALID_POINTS"},
        {"field": ["confirmWindowSeconds"], "code": "INVALID_TERM"},
    ]
    assert await stack.gql(PROGRAM, token=admin) == before


async def test_a_point_worth_more_than_a_hundred_yuan_is_refused(stack: Stack) -> None:
    admin = await stack.token("beta-admin")

    body = await stack.gql(
        SET_PROGRAM,
        {"input": DEFAULT_PROGRAM | {"cnyPerPoint": "999999999999999.9999"}},
        token=admin,
    )

    assert body["data"]["setPointsProgram"]["userErrors"] == [
        {"field": ["cnyPerPoint"], "code": "INVALID_AMOUNT"}
    ]


@pytest.mark.parametrize(
    "who", ["alpha-officer", "alpha-manager", "alpha-risk", "prov-admin", "customer", "service"]
)
async def test_only_institution_admins_configure_the_programme(stack: Stack, who: str) -> None:
    token = await _token(stack, who)

    program = await stack.gql(SET_PROGRAM, {"input": DEFAULT_PROGRAM}, token=token)
    rule = await stack.gql(
        SET_RULE,
        {
            "input": {
                "eventType": "ON_TIME_REPAYMENT",
                "method": "FIXED",
                "fixedPoints": 1,
                "expiryMode": "ROLLING_MONTHS",
                "expiryPeriod": 1,
            }
        },
        token=token,
    )

    assert error_codes(program) == ["FORBIDDEN"]
    assert error_codes(rule) == ["FORBIDDEN"]


async def test_an_admins_rule_changes_their_institution_only(stack: Stack) -> None:
    await set_rules(stack, "beta")

    try:
        await set_rules(stack, "alpha", ON_TIME_REPAYMENT={"fixedPoints": 77})
        alpha = await stack.gql(RULES, token=await stack.token("alpha-officer"))
        beta = await stack.gql(RULES, token=await stack.token("beta-officer"))
    finally:
        await set_rules(stack)

    def repayment(body: dict[str, Any]) -> Any:
        return next(
            each["fixedPoints"]
            for each in body["data"]["earningRules"]
            if each["eventType"] == "ON_TIME_REPAYMENT"
        )

    assert (repayment(alpha), repayment(beta)) == (77, 50)

"""createReward, updateReward and the `rewards` lists: who keeps a benefit, what is checked, and
who sees which."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jikuai.domain.shared.calendar import business_date
from tests.support.credit import customer_token, error_codes, institution_gid
from tests.support.merchants import (
    APPROVE,
    CREATE_REWARD,
    SUSPEND,
    UPDATE_REWARD,
    MerchantFixture,
    add_reward,
    apply,
    approved_merchant,
    review,
    reward_input,
)
from tests.support.stack import Stack

REWARDS = """
query($institutionId: ID, $category: MerchantCategory, $merchantId: ID, $first: Int!,
      $after: String) {
  rewards(institutionId: $institutionId, category: $category, merchantId: $merchantId,
          first: $first, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor }
  }
}
"""
MERCHANT_REWARDS = """
query($id: ID!) { merchant(id: $id) { rewards(first: 100) { edges { node { id } } } } }
"""


async def _create(stack: Stack, token: str, merchant_id: str, **fields: Any) -> dict[str, Any]:
    body = await stack.gql(
        CREATE_REWARD, {"input": {"merchantId": merchant_id, **reward_input(**fields)}}, token=token
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createReward"]
    return payload


async def _update(stack: Stack, token: str, reward_id: str, **fields: Any) -> dict[str, Any]:
    body = await stack.gql(
        UPDATE_REWARD, {"input": {"rewardId": reward_id, **reward_input(**fields)}}, token=token
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["updateReward"]
    return payload


async def _ids(stack: Stack, token: str, **arguments: Any) -> list[str]:
    """Every reward id `rewards(...)` lists, page by page."""
    ids: list[str] = []
    after = None
    while True:
        body = await stack.gql(REWARDS, {"first": 2, "after": after, **arguments}, token=token)
        assert "errors" not in body, body
        connection = body["data"]["rewards"]
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]


async def test_a_cashier_creates_a_benefit_of_their_merchant(stack: Stack) -> None:
    merchant = await approved_merchant(stack)

    reward = await add_reward(
        stack,
        merchant,
        name=" 化肥9折券 ",
        kind="VOUCHER",
        pricePoints=300,
        stock=10,
        perCustomerLimit=2,
    )

    assert reward == {
        "id": reward["id"],
        "name": "化肥9折券",
        "description": "到店出示核销码领取",
        "kind": "VOUCHER",
        "pricePoints": 300,
        "stock": 10,
        "perCustomerLimit": 2,
        "validFrom": "2020-01-01",
        "validUntil": "2099-12-31",
        "active": True,
        "merchant": {"id": merchant.merchant_id},
    }


async def test_staff_of_the_institution_create_benefits_too(stack: Stack) -> None:
    merchant = await approved_merchant(stack)

    reward = await add_reward(stack, merchant, token=await stack.token("alpha-officer"))

    assert reward["merchant"] == {"id": merchant.merchant_id}


async def test_every_invalid_term_is_reported_at_once(stack: Stack) -> None:
    merchant = await approved_merchant(stack)

    payload = await _create(
        stack,
        merchant.cashier_token,
        merchant.merchant_id,
        name=" ",
        description="长" * 501,
        pricePoints=0,
        stock=-1,
        perCustomerLimit=0,
        validFrom="2026-12-31",
        validUntil="2026-12-01",
    )

    assert payload == {
        "reward": None,
        "userErrors": [
            {"field": ["name"], "code": "REQUIRED"},
            {"field": ["description"], "code": "INVALID_LENGTH"},
            {"field": ["pricePoints"], "code": "INVALID_POINTS"},
            {"field": ["stock"], "code": "INVALID_QUANTITY"},
            {"field": ["perCustomerLimit"], "code": "INVALID_QUANTITY"},
            {"field": ["validUntil"], "code": "INVALID_DATE"},
        ],
    }


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "米" * 101}, {"field": ["name"], "code": "INVALID_LENGTH"}),
        ({"pricePoints": -5}, {"field": ["pricePoints"], "code": "INVALID_POINTS"}),
    ],
)
async def test_each_rule_has_its_code(
    stack: Stack, fields: dict[str, Any], error: dict[str, Any]
) -> None:
    merchant = await approved_merchant(stack)

    payload = await _create(stack, merchant.cashier_token, merchant.merchant_id, **fields)

    assert payload["userErrors"] == [error]


async def test_a_zero_stock_and_a_one_day_window_are_allowed(stack: Stack) -> None:
    merchant = await approved_merchant(stack)

    reward = await add_reward(
        stack, merchant, stock=0, validFrom="2026-12-01", validUntil="2026-12-01"
    )

    assert reward["stock"] == 0


async def test_another_merchants_cashier_and_another_institution_find_nothing(
    stack: Stack,
) -> None:
    merchant = await approved_merchant(stack)
    other = await approved_merchant(stack)

    by_cashier = await _create(stack, other.cashier_token, merchant.merchant_id)
    by_staff = await _create(stack, await stack.token("beta-manager"), merchant.merchant_id)

    for payload in (by_cashier, by_staff):
        assert payload == {
            "reward": None,
            "userErrors": [{"field": ["merchantId"], "code": "NOT_FOUND"}],
        }


async def test_customers_and_risk_officers_may_not_keep_benefits(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    customer, _ = await customer_token(stack)
    variables = {"input": {"merchantId": merchant.merchant_id, **reward_input()}}

    for token in (customer, await stack.token("alpha-risk")):
        body = await stack.gql(CREATE_REWARD, variables, token=token)
        assert error_codes(body) == ["FORBIDDEN"]


async def test_updating_replaces_every_term(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant, stock=5, perCustomerLimit=1)

    payload = await _update(
        stack,
        merchant.cashier_token,
        reward["id"],
        name="东北大米 10kg",
        pricePoints=900,
        stock=None,
        perCustomerLimit=None,
        active=False,
    )

    assert payload["userErrors"] == []
    assert payload["reward"] | {"id": None} == {
        "id": None,
        "name": "东北大米 10kg",
        "description": "到店出示核销码领取",
        "kind": "ITEM",
        "pricePoints": 900,
        "stock": None,
        "perCustomerLimit": None,
        "validFrom": "2020-01-01",
        "validUntil": "2099-12-31",
        "active": False,
        "merchant": {"id": merchant.merchant_id},
    }
    assert payload["reward"]["id"] == reward["id"]


async def test_an_update_is_checked_like_a_creation(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant)

    payload = await _update(stack, merchant.cashier_token, reward["id"], pricePoints=0, stock=-2)

    assert payload["userErrors"] == [
        {"field": ["pricePoints"], "code": "INVALID_POINTS"},
        {"field": ["stock"], "code": "INVALID_QUANTITY"},
    ]


async def test_only_the_merchants_cashiers_and_staff_update_a_benefit(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    other = await approved_merchant(stack)
    reward = await add_reward(stack, merchant)

    by_other = await _update(stack, other.cashier_token, reward["id"])
    by_beta = await _update(stack, await stack.token("beta-admin"), reward["id"])
    by_staff = await _update(stack, await stack.token("alpha-manager"), reward["id"], stock=3)

    for payload in (by_other, by_beta):
        assert payload["userErrors"] == [{"field": ["rewardId"], "code": "NOT_FOUND"}]
    assert by_staff["reward"]["stock"] == 3


async def _shelf(stack: Stack) -> tuple[MerchantFixture, dict[str, str]]:
    """An approved merchant with one benefit on offer and one of each kind that is not."""
    merchant = await approved_merchant(stack)
    today = business_date(datetime.now(UTC))
    offered = await add_reward(stack, merchant, name="on offer")
    rewards = {
        "offered": offered["id"],
        "inactive": (await add_reward(stack, merchant, active=False))["id"],
        "expired": (
            await add_reward(stack, merchant, validUntil=(today - timedelta(days=1)).isoformat())
        )["id"],
        "future": (
            await add_reward(stack, merchant, validFrom=(today + timedelta(days=1)).isoformat())
        )["id"],
        "last_day": (await add_reward(stack, merchant, validUntil=today.isoformat()))["id"],
    }
    return merchant, rewards


async def test_a_customer_sees_only_what_is_on_offer_today(stack: Stack) -> None:
    merchant, rewards = await _shelf(stack)
    token, _ = await customer_token(stack)

    seen = await _ids(stack, token, merchantId=merchant.merchant_id)
    nested = await stack.gql(MERCHANT_REWARDS, {"id": merchant.merchant_id}, token=token)

    assert seen == [rewards["offered"], rewards["last_day"]]
    assert [edge["node"]["id"] for edge in nested["data"]["merchant"]["rewards"]["edges"]] == seen


async def test_a_suspended_or_pending_merchants_benefits_are_not_on_offer(stack: Stack) -> None:
    suspended = await approved_merchant(stack)
    kept = await add_reward(stack, suspended)
    await review(stack, SUSPEND, suspended.merchant_id, username="alpha-manager")
    pending = await apply(stack, await stack.token("alpha-officer"))
    waiting = await _create(
        stack, await stack.token("alpha-officer"), pending["merchant"]["id"], name="waiting"
    )
    token, _ = await customer_token(stack)

    seen = await _ids(stack, token)
    node = await stack.gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": kept["id"]}, token=token
    )

    assert kept["id"] not in seen
    assert waiting["reward"]["id"] not in seen
    assert error_codes(node) == ["NOT_FOUND"]
    assert await _ids(stack, token, merchantId=suspended.merchant_id) == []

    await review(stack, APPROVE, suspended.merchant_id, username="alpha-manager")
    assert await _ids(stack, token, merchantId=suspended.merchant_id) == [kept["id"]]


async def test_a_customer_sees_their_own_institutions_benefits_only(stack: Stack) -> None:
    alpha = await approved_merchant(stack)
    beta = await approved_merchant(stack, "beta")
    ours = await add_reward(stack, alpha)
    theirs = await add_reward(stack, beta)
    token, _ = await customer_token(stack)

    seen = await _ids(stack, token)
    asked_for_beta = await _ids(stack, token, institutionId=institution_gid(stack, "beta"))
    beta_merchant = await stack.gql(MERCHANT_REWARDS, {"id": beta.merchant_id}, token=token)

    assert ours["id"] in seen
    assert theirs["id"] not in seen
    assert asked_for_beta == []
    assert error_codes(beta_merchant) == ["NOT_FOUND"]


async def test_a_wechat_user_yet_to_register_sees_no_benefits(stack: Stack) -> None:
    login = await stack.gql(
        "mutation($code: String!) { wechatLogin(input: {code: $code}) { accessToken } }",
        {"code": f"dev:o{uuid.uuid4().hex[:20]}"},
    )

    assert await _ids(stack, login["data"]["wechatLogin"]["accessToken"]) == []


async def test_staff_see_every_state_of_their_institutions_benefits(stack: Stack) -> None:
    merchant, rewards = await _shelf(stack)
    beta = await approved_merchant(stack, "beta")
    theirs = await add_reward(stack, beta)

    seen = await _ids(stack, await stack.token("alpha-risk"), merchantId=merchant.merchant_id)
    alpha_all = await _ids(stack, await stack.token("alpha-manager"))
    beta_asked = await _ids(
        stack, await stack.token("alpha-manager"), institutionId=institution_gid(stack, "beta")
    )
    province = await _ids(
        stack, await stack.token("prov-admin"), institutionId=institution_gid(stack, "beta")
    )

    assert seen == list(rewards.values())
    assert theirs["id"] not in alpha_all
    assert beta_asked == []
    assert theirs["id"] in province
    assert rewards["offered"] not in province


async def test_a_cashier_lists_their_merchants_benefits_only(stack: Stack) -> None:
    merchant, rewards = await _shelf(stack)
    other = await approved_merchant(stack)
    await add_reward(stack, other)

    seen = await _ids(stack, merchant.cashier_token)
    asked_for_other = await _ids(stack, merchant.cashier_token, merchantId=other.merchant_id)

    assert seen == list(rewards.values())
    assert asked_for_other == []


async def test_benefits_are_filtered_by_their_merchants_category(stack: Stack) -> None:
    pharmacy = await approved_merchant(stack, category="PHARMACY")
    shop = await approved_merchant(stack, category="SUPERMARKET")
    medicine = await add_reward(stack, pharmacy)
    rice = await add_reward(stack, shop)
    token, _ = await customer_token(stack)

    seen = await _ids(stack, token, category="PHARMACY")

    assert medicine["id"] in seen
    assert rice["id"] not in seen


async def test_a_merchants_benefits_page_within_it(stack: Stack) -> None:
    merchant, rewards = await _shelf(stack)

    body = await stack.gql(
        """query($id: ID!, $after: String) { merchant(id: $id) {
             rewards(first: 2, after: $after) {
               edges { node { id } } pageInfo { hasNextPage endCursor } } } }""",
        {"id": merchant.merchant_id},
        token=merchant.cashier_token,
    )
    first = body["data"]["merchant"]["rewards"]
    body = await stack.gql(
        """query($id: ID!, $after: String) { merchant(id: $id) {
             rewards(first: 10, after: $after) { edges { node { id } } } } }""",
        {"id": merchant.merchant_id, "after": first["pageInfo"]["endCursor"]},
        token=merchant.cashier_token,
    )
    rest = body["data"]["merchant"]["rewards"]

    ids = [edge["node"]["id"] for edge in first["edges"] + rest["edges"]]
    assert first["pageInfo"]["hasNextPage"] is True
    assert ids == list(rewards.values())


async def test_a_page_of_merchants_with_their_benefits_costs_the_same_statements_at_any_size(
    stack: Stack,
) -> None:
    for _ in range(3):
        await _shelf(stack)
    query = """query($first: Int!) { merchants(first: $first) { edges { node {
        name contactPhoneMasked onboardedBy { username } institution { code } operators { id }
        rewards(first: 3) { edges { node { id merchant { id } } } } } } } }"""
    token = await stack.token("alpha-manager")

    with stack.count_statements() as small:
        await stack.gql(query, {"first": 2}, token=token)
    with stack.count_statements() as large:
        body = await stack.gql(query, {"first": 6}, token=token)

    assert len(body["data"]["merchants"]["edges"]) == 6
    assert len(large) == len(small)

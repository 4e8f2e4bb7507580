"""Redemption (核销): one-time codes, what a cashier may take for a sum or a benefit, the limits
of a day, and the customer's history."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from jikuai.domain.points import redemption as redemption_domain
from tests.support.credit import WECHAT_LOGIN, customer_token, error_codes
from tests.support.merchants import SUSPEND, add_reward, approved_merchant, review
from tests.support.points import (
    CREATE_CODE,
    HISTORY,
    account,
    assert_ledger_balances,
    award,
    business_today,
    customer_actor,
    new_code,
    points_program,
    record,
    redeem,
    rich_customer,
    service_token,
    set_rules,
)
from tests.support.stack import Stack

REWARD_STOCK = "query($id: ID!) { node(id: $id) { ... on Reward { stock } } }"


def luhn_valid(number: str) -> bool:
    digits = [int(char) for char in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * digit, 10)) for digit in digits[1::2])
    return total % 10 == 0


def codes_of(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def _stock(stack: Stack, reward_id: str) -> int | None:
    body = await stack.gql(REWARD_STOCK, {"id": reward_id}, token=await stack.token("alpha-admin"))
    assert "errors" not in body, body
    stock: int | None = body["data"]["node"]["stock"]
    return stock


# Codes -----------------------------------------------------------------------------------------


async def test_a_customer_gets_a_fresh_18_digit_code_valid_for_a_minute(stack: Stack) -> None:
    token, _ = await customer_token(stack)
    before = datetime.now(UTC)

    first = (await stack.gql(CREATE_CODE, token=token))["data"]["createRedemptionCode"]
    second = await new_code(stack, token)

    after = datetime.now(UTC)
    assert first["userErrors"] == []
    code = first["redemptionCode"]["code"]
    for each in (code, second):
        assert len(each) == 18
        assert each.isdigit()
        assert each.startswith("88")
        assert luhn_valid(each)
    assert code != second
    expires_at = datetime.fromisoformat(first["redemptionCode"]["expiresAt"])
    assert before + timedelta(seconds=60) <= expires_at + timedelta(seconds=1)
    assert expires_at <= after + timedelta(seconds=60)


@pytest.mark.parametrize("who", ["unregistered", "alpha-officer", "alpha-admin", "cashier"])
async def test_only_registered_customers_get_codes(stack: Stack, who: str) -> None:
    if who == "unregistered":
        login = await stack.gql(WECHAT_LOGIN, {"code": f"dev:o{uuid.uuid4().hex[:20]}"})
        token = login["data"]["wechatLogin"]["accessToken"]
    elif who == "cashier":
        token = (await approved_merchant(stack)).cashier_token
    else:
        token = await stack.token(who)

    body = await stack.gql(CREATE_CODE, token=token)

    assert error_codes(body) == ["FORBIDDEN"]


async def test_codes_need_a_sign_in(stack: Stack) -> None:
    assert error_codes(await stack.gql(CREATE_CODE)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda code: code[:-1] + str((int(code[-1]) + 1) % 10),  # a misread check digit
        lambda code: "88" + code[2:10] + code[11:] + code[10],  # digits moved, not issued
        lambda code: code[:-1],
        lambda code: code + "0",
        lambda code: "abc",
        lambda code: "",
        lambda code: "13" + code[2:],  # a WeChat Pay code's prefix
    ],
)
async def test_codes_never_issued_are_unknown(stack: Stack, mangle: Any) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 500)
    merchant = await approved_merchant(stack)
    code = await new_code(stack, token)

    refused = await redeem(stack, merchant.cashier_token, mangle(code), points=10)

    assert refused["userErrors"] == [{"field": ["code"], "code": "REDEMPTION_CODE_UNKNOWN"}]
    assert refused["redemption"] is None
    # the real code was not touched
    assert (await redeem(stack, merchant.cashier_token, code, points=10))["userErrors"] == []


async def test_a_well_formed_code_never_issued_is_unknown(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    body = "88" + f"{uuid.uuid4().int % 10**15:015d}"
    check = next(str(digit) for digit in range(10) if luhn_valid(body + str(digit)))

    refused = await redeem(stack, merchant.cashier_token, body + check, points=10)

    assert refused["userErrors"] == [{"field": ["code"], "code": "REDEMPTION_CODE_UNKNOWN"}]


async def test_a_code_scanned_after_its_minute_is_expired(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id = await rich_customer(stack, 500)
    merchant = await approved_merchant(stack)
    issued = await redemption_domain.create_code(
        actor=customer_actor(stack, customer_id),
        codes_store=stack.services.cache,
        now=datetime.now(UTC) - timedelta(seconds=61),
    )

    refused = await redeem(stack, merchant.cashier_token, issued.code, points=10)

    assert refused["userErrors"] == [{"field": ["code"], "code": "REDEMPTION_CODE_EXPIRED"}]
    assert (await account(stack, token))["balance"] == 500


async def test_a_code_is_used_once(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 500)
    merchant = await approved_merchant(stack)
    other = await approved_merchant(stack)
    code = await new_code(stack, token)

    first = await redeem(stack, merchant.cashier_token, code, points=100)
    again = await redeem(stack, merchant.cashier_token, code, points=100)
    elsewhere = await redeem(stack, other.cashier_token, code, points=100)

    assert first["redemption"]["status"] == "COMPLETED"
    assert again["userErrors"] == [{"field": ["code"], "code": "REDEMPTION_CODE_USED"}]
    assert elsewhere["userErrors"] == [{"field": ["code"], "code": "REDEMPTION_CODE_USED"}]
    assert (await account(stack, token))["balance"] == 400


async def test_a_failed_redemption_leaves_the_code_for_another_try(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    code = await new_code(stack, token)
    key = uuid.uuid4().hex

    too_much = await redeem(stack, merchant.cashier_token, code, key=key, points=1001)
    # the key of a failed redemption is free too
    enough = await redeem(stack, merchant.cashier_token, code, key=key, points=1000)

    assert too_much["userErrors"] == [{"field": ["points"], "code": "INSUFFICIENT_POINTS"}]
    assert enough["userErrors"] == []
    assert (enough["redemption"]["points"], enough["replayed"]) == (1000, False)
    assert (await account(stack, token))["balance"] == 0
    await assert_ledger_balances(stack)


# Idempotency -----------------------------------------------------------------------------------


async def test_the_same_key_and_input_answer_with_the_first_redemption(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    code = await new_code(stack, token)
    key = uuid.uuid4().hex

    first = await redeem(stack, merchant.cashier_token, code, key=key, points=250)
    second = await redeem(stack, merchant.cashier_token, code, key=key, points=250)

    assert (first["replayed"], second["replayed"]) == (False, True)
    assert second["userErrors"] == []
    assert second["redemption"]["id"] == first["redemption"]["id"]
    assert second["redemption"]["points"] == 250
    assert (await account(stack, token))["balance"] == 750
    await assert_ledger_balances(stack)


async def test_the_same_key_with_another_input_is_refused(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    code = await new_code(stack, token)
    key = uuid.uuid4().hex
    first = await redeem(stack, merchant.cashier_token, code, key=key, points=250)

    other_points = await redeem(stack, merchant.cashier_token, code, key=key, points=300)
    other_code = await redeem(
        stack, merchant.cashier_token, await new_code(stack, token), key=key, points=250
    )
    # keys are the cashier's merchant's: another merchant's same key is another request
    other_merchant = await approved_merchant(stack)
    elsewhere = await redeem(
        stack, other_merchant.cashier_token, await new_code(stack, token), key=key, points=100
    )

    assert first["userErrors"] == []
    for refused in (other_points, other_code):
        assert refused["redemption"] is None
        assert refused["userErrors"] == [
            {"field": ["idempotencyKey"], "code": "IDEMPOTENCY_KEY_REUSED"}
        ]
    assert (elsewhere["userErrors"], elsewhere["replayed"]) == ([], False)
    assert (await account(stack, token))["balance"] == 650


@pytest.mark.parametrize("key", ["", "   ", "k" * 65])
async def test_an_idempotency_key_is_required(stack: Stack, key: str) -> None:
    token, _ = await customer_token(stack)
    merchant = await approved_merchant(stack)
    body = await stack.gql(
        "mutation($input: RedeemPointsInput!) {"
        " redeemPoints(input: $input) { redemption { id } userErrors { field code } } }",
        {"input": {"code": await new_code(stack, token), "idempotencyKey": key, "points": 1}},
        token=merchant.cashier_token,
    )

    assert body["data"]["redeemPoints"]["userErrors"] == [
        {"field": ["idempotencyKey"], "code": "REQUIRED"}
    ]


@pytest.mark.parametrize("fields", ["both", "neither", {"points": 0}, {"points": -5}])
async def test_points_or_a_reward_and_not_both(stack: Stack, fields: Any) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant)
    if fields == "both":
        fields = {"points": 100, "rewardId": reward["id"]}
    elif fields == "neither":
        fields = {}

    refused = await redeem(stack, merchant.cashier_token, await new_code(stack, token), **fields)

    assert refused["userErrors"] == [{"field": ["points"], "code": "INVALID_POINTS"}]
    assert (await account(stack, token))["balance"] == 1000


@pytest.mark.parametrize("who", ["customer", "alpha-admin", "service"])
async def test_only_cashiers_redeem(stack: Stack, who: str) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    code = await new_code(stack, token)
    actor_token = {
        "customer": token,
        "alpha-admin": await stack.token("alpha-admin"),
        "service": await service_token(stack),
    }[who]

    body = await stack.gql(
        "mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) { replayed } }",
        {"input": {"code": code, "idempotencyKey": uuid.uuid4().hex, "points": 10}},
        token=actor_token,
    )

    assert error_codes(body) == ["FORBIDDEN"]
    assert (await account(stack, token))["balance"] == 1000


# Benefits --------------------------------------------------------------------------------------


async def test_a_benefit_costs_its_price_and_one_of_its_stock(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 2000)
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant, pricePoints=750, stock=2)

    redeemed = await redeem(
        stack, merchant.cashier_token, await new_code(stack, token), rewardId=reward["id"]
    )

    assert redeemed["userErrors"] == []
    assert redeemed["redemption"]["points"] == 750
    assert redeemed["redemption"]["reward"] == {
        "id": reward["id"],
        "name": reward["name"],
        "stock": 1,
    }
    assert await _stock(stack, reward["id"]) == 1
    assert (await account(stack, token))["balance"] == 1250
    await assert_ledger_balances(stack)


async def test_a_benefit_out_of_stock_is_refused_and_takes_nothing(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 2000)
    other_token, _ = await rich_customer(stack, 2000)
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant, pricePoints=300, stock=1)

    first = await redeem(
        stack, merchant.cashier_token, await new_code(stack, token), rewardId=reward["id"]
    )
    second = await redeem(
        stack, merchant.cashier_token, await new_code(stack, other_token), rewardId=reward["id"]
    )

    assert first["userErrors"] == []
    assert second["userErrors"] == [{"field": ["rewardId"], "code": "OUT_OF_STOCK"}]
    assert await _stock(stack, reward["id"]) == 0
    assert (await account(stack, other_token))["balance"] == 2000


async def test_a_benefit_the_customer_cannot_afford_keeps_its_stock(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 100)
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant, pricePoints=300, stock=3)

    refused = await redeem(
        stack, merchant.cashier_token, await new_code(stack, token), rewardId=reward["id"]
    )

    assert refused["userErrors"] == [{"field": ["points"], "code": "INSUFFICIENT_POINTS"}]
    assert await _stock(stack, reward["id"]) == 3


async def test_a_benefit_is_limited_per_customer(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 2000)
    other_token, _ = await rich_customer(stack, 2000)
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant, pricePoints=100, perCustomerLimit=2)

    taken = [
        await redeem(
            stack, merchant.cashier_token, await new_code(stack, token), rewardId=reward["id"]
        )
        for _ in range(3)
    ]
    other = await redeem(
        stack, merchant.cashier_token, await new_code(stack, other_token), rewardId=reward["id"]
    )

    assert [codes_of(each) for each in taken] == [[], [], ["REWARD_LIMIT_REACHED"]]
    assert taken[2]["userErrors"][0]["field"] == ["rewardId"]
    assert other["userErrors"] == []
    assert (await account(stack, token))["balance"] == 1800


async def test_another_merchants_benefit_is_not_found(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 2000)
    merchant = await approved_merchant(stack)
    other = await approved_merchant(stack)
    reward = await add_reward(stack, other, pricePoints=100, stock=5)

    refused = await redeem(
        stack, merchant.cashier_token, await new_code(stack, token), rewardId=reward["id"]
    )

    assert refused["userErrors"] == [{"field": ["rewardId"], "code": "NOT_FOUND"}]
    assert await _stock(stack, reward["id"]) == 5
    assert (await account(stack, token))["balance"] == 2000


@pytest.mark.parametrize(
    "terms",
    [
        {"active": False},
        {"validFrom": "2098-01-01", "validUntil": "2099-12-31"},
        {"validFrom": "2020-01-01", "validUntil": "2021-12-31"},
    ],
)
async def test_a_benefit_not_on_offer_today_is_refused(stack: Stack, terms: dict[str, Any]) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 2000)
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant, pricePoints=100, stock=5, **terms)

    refused = await redeem(
        stack, merchant.cashier_token, await new_code(stack, token), rewardId=reward["id"]
    )

    assert refused["userErrors"] == [{"field": ["rewardId"], "code": "REWARD_NOT_OFFERED"}]
    assert await _stock(stack, reward["id"]) == 5
    assert (await account(stack, token))["balance"] == 2000


# Merchants and institutions --------------------------------------------------------------------


async def test_a_suspended_merchant_redeems_nothing(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    other = await approved_merchant(stack)
    suspended = await review(stack, SUSPEND, merchant.merchant_id, username="alpha-manager")
    assert suspended["userErrors"] == []
    code = await new_code(stack, token)

    refused = await redeem(stack, merchant.cashier_token, code, points=100)
    elsewhere = await redeem(stack, other.cashier_token, code, points=100)

    assert codes_of(refused) == ["MERCHANT_NOT_ACTIVE"]
    assert elsewhere["userErrors"] == []
    assert (await account(stack, token))["balance"] == 900


async def test_another_institutions_customer_is_unknown_to_a_merchant(stack: Stack) -> None:
    await set_rules(stack, "beta")
    token, _ = await rich_customer(stack, 1000, institution="beta")
    alpha_merchant = await approved_merchant(stack)
    beta_merchant = await approved_merchant(stack, "beta")
    code = await new_code(stack, token)

    refused = await redeem(stack, alpha_merchant.cashier_token, code, points=100)
    at_home = await redeem(stack, beta_merchant.cashier_token, code, points=100)

    assert refused["userErrors"] == [{"field": ["code"], "code": "REDEMPTION_CODE_UNKNOWN"}]
    assert at_home["userErrors"] == []
    assert (await account(stack, token))["balance"] == 900


# Daily limits ----------------------------------------------------------------------------------


async def test_a_customer_redeems_up_to_the_daily_limit(stack: Stack) -> None:
    await set_rules(stack, "beta")
    token, _ = await rich_customer(stack, 5000, institution="beta")
    merchant = await approved_merchant(stack, "beta")
    other = await approved_merchant(stack, "beta")

    async with points_program(stack, "beta", customerDailyPoints=1000):
        first = await redeem(
            stack, merchant.cashier_token, await new_code(stack, token), points=800
        )
        over = await redeem(stack, other.cashier_token, await new_code(stack, token), points=201)
        exactly = await redeem(stack, other.cashier_token, await new_code(stack, token), points=200)
        more = await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=1)

    assert first["userErrors"] == []
    assert over["userErrors"] == [{"field": ["points"], "code": "CUSTOMER_DAILY_LIMIT"}]
    assert exactly["userErrors"] == []
    assert codes_of(more) == ["CUSTOMER_DAILY_LIMIT"]
    assert (await account(stack, token))["balance"] == 4000
    await assert_ledger_balances(stack)


async def test_a_merchant_takes_up_to_its_daily_limit(stack: Stack) -> None:
    await set_rules(stack, "beta")
    first_token, _ = await rich_customer(stack, 5000, institution="beta")
    second_token, _ = await rich_customer(stack, 5000, institution="beta")
    merchant = await approved_merchant(stack, "beta")
    other = await approved_merchant(stack, "beta")

    async with points_program(stack, "beta", merchantDailyPoints=1500):
        one = await redeem(
            stack, merchant.cashier_token, await new_code(stack, first_token), points=900
        )
        two = await redeem(
            stack, merchant.cashier_token, await new_code(stack, second_token), points=601
        )
        exactly = await redeem(
            stack, merchant.cashier_token, await new_code(stack, second_token), points=600
        )
        elsewhere = await redeem(
            stack, other.cashier_token, await new_code(stack, second_token), points=900
        )

    assert one["userErrors"] == []
    assert two["userErrors"] == [{"field": ["points"], "code": "MERCHANT_DAILY_LIMIT"}]
    assert exactly["userErrors"] == []
    assert elsewhere["userErrors"] == []
    assert (await account(stack, first_token))["balance"] == 4100
    assert (await account(stack, second_token))["balance"] == 3500
    await assert_ledger_balances(stack)


async def test_a_redemption_refused_by_the_merchants_limit_counts_nothing_for_the_customer(
    stack: Stack,
) -> None:
    await set_rules(stack, "beta")
    token, _ = await rich_customer(stack, 5000, institution="beta")
    merchant = await approved_merchant(stack, "beta")
    other = await approved_merchant(stack, "beta")

    async with points_program(stack, "beta", customerDailyPoints=1000, merchantDailyPoints=500):
        refused = await redeem(
            stack, merchant.cashier_token, await new_code(stack, token), points=600
        )
        full = await redeem(stack, other.cashier_token, await new_code(stack, token), points=500)
        also = await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=500)

    assert codes_of(refused) == ["MERCHANT_DAILY_LIMIT"]
    assert (full["userErrors"], also["userErrors"]) == ([], [])
    assert (await account(stack, token))["balance"] == 4000


# History ---------------------------------------------------------------------------------------


async def test_the_history_is_newest_first_with_signed_points_and_redemptions(
    stack: Stack,
) -> None:
    await set_rules(stack)
    token, customer_id = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    redeemed = await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=300)
    await record(stack, await service_token(stack), customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")

    body = await stack.gql(HISTORY, {"first": 10}, token=token)

    assert "errors" not in body, body
    connection = body["data"]["pointsHistory"]
    assert [edge["node"] for edge in connection["edges"]] == [
        {
            "kind": "EARN",
            "points": 200,
            "eventType": "SOCIAL_SECURITY_CARD_ACTIVATION",
            "redemption": None,
        },
        {
            "kind": "REDEEM",
            "points": -300,
            "eventType": None,
            "redemption": {"id": redeemed["redemption"]["id"], "points": 300},
        },
        {"kind": "EARN", "points": 1000, "eventType": "CAMPAIGN", "redemption": None},
    ]
    assert connection["pageInfo"]["hasNextPage"] is False


async def test_the_history_reads_its_redemptions_in_one_statement(stack: Stack) -> None:
    await set_rules(stack)
    token, _customer_id = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)

    async def statements() -> int:
        with stack.count_statements() as seen:
            body = await stack.gql(HISTORY, {"first": 20}, token=token)
        assert "errors" not in body, body
        return len(seen)

    await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=10)
    one = await statements()
    for _ in range(4):
        await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=10)
    five = await statements()

    assert five == one


async def test_the_history_pages_with_first_and_after(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id = await rich_customer(stack, 100)
    core = await service_token(stack)
    for points in (200, 300, 400, 500):
        await award(stack, core, customer_id, points)

    seen: list[int] = []
    pages: list[bool] = []
    after = None
    while True:
        body = await stack.gql(HISTORY, {"first": 2, "after": after}, token=token)
        connection = body["data"]["pointsHistory"]
        seen += [edge["node"]["points"] for edge in connection["edges"]]
        pages.append(connection["pageInfo"]["hasNextPage"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    assert seen == [500, 400, 300, 200, 100]
    assert pages == [True, True, False]


async def test_a_customer_sees_only_their_own_history(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 100)
    _, other_customer = await rich_customer(stack, 999)

    mine = await stack.gql(HISTORY, {"first": 10}, token=token)
    other = await stack.gql(
        "query($id: ID) { pointsHistory(customerId: $id) { edges { node { points } } } }",
        {"id": other_customer},
        token=token,
    )

    assert [edge["node"]["points"] for edge in mine["data"]["pointsHistory"]["edges"]] == [100]
    assert other["data"]["pointsHistory"]["edges"] == []


async def test_redemptions_are_dated_on_the_business_day(stack: Stack) -> None:
    await set_rules(stack)
    token, _ = await rich_customer(stack, 100)
    merchant = await approved_merchant(stack)

    redeemed = await redeem(stack, merchant.cashier_token, await new_code(stack, token), points=1)

    assert date.fromisoformat(redeemed["redemption"]["businessDate"]) == business_today()
    assert redeemed["redemption"]["merchant"]["id"] == merchant.merchant_id
    assert redeemed["redemption"]["confirmBy"] is None

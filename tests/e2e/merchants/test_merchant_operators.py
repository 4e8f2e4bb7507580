"""addMerchantOperator and merchantLogin: cashiers, their sign-in, and what a cashier sees."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from jikuai.persistence.tables.merchants import merchant_operators
from tests.support.credit import customer_token, error_codes
from tests.support.merchants import (
    ADD_OPERATOR,
    CASHIER_PASSWORD,
    REJECT,
    add_operator,
    apply,
    approved_merchant,
    merchant_login,
    review,
)
from tests.support.stack import Stack

MERCHANT = """
query($id: ID!) {
  merchant(id: $id) {
    id name contactPhoneMasked settlementAccountLast4 operators { username }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
REFRESH = """
mutation($token: String!) {
  refreshToken(input: {refreshToken: $token}) { accessToken refreshToken userErrors { code } }
}
"""


def _username() -> str:
    return f"cashier-{uuid.uuid4().hex[:12]}"


async def _pending(stack: Stack, institution: str = "alpha") -> str:
    payload = await apply(stack, await stack.token(f"{institution}-officer"))
    merchant_id: str = payload["merchant"]["id"]
    return merchant_id


@pytest.mark.parametrize("staff", ["alpha-officer", "alpha-manager", "alpha-admin"])
async def test_merchant_staff_add_a_cashier(stack: Stack, staff: str) -> None:
    merchant_id = await _pending(stack)
    username = _username()

    payload = await add_operator(
        stack, merchant_id, username=username, token=await stack.token(staff), displayName="李收银"
    )

    assert payload["userErrors"] == []
    assert payload["operator"] == {
        "id": payload["operator"]["id"],
        "username": username,
        "displayName": "李收银",
        "active": True,
        "merchant": {"id": merchant_id},
    }


async def test_only_a_hash_of_the_password_is_kept(stack: Stack) -> None:
    merchant_id = await _pending(stack)
    username = _username()
    await add_operator(
        stack, merchant_id, username=username, token=await stack.token("alpha-admin")
    )

    async with stack.services.database.primary.connect() as connection:
        stored = await connection.scalar(
            select(merchant_operators.c.password_hash).where(
                merchant_operators.c.username == username
            )
        )

    assert stored is not None
    assert CASHIER_PASSWORD not in stored
    assert stored.startswith("$argon2id$")


async def test_a_username_is_taken_across_merchants_and_institutions(stack: Stack) -> None:
    username = _username()
    first = await add_operator(
        stack, await _pending(stack), username=username, token=await stack.token("alpha-manager")
    )

    again = await add_operator(
        stack,
        await _pending(stack, "beta"),
        username=username,
        token=await stack.token("beta-manager"),
    )

    assert first["userErrors"] == []
    assert again == {
        "operator": None,
        "userErrors": [{"field": ["username"], "code": "USERNAME_TAKEN"}],
    }


async def test_every_invalid_field_is_reported_at_once(stack: Stack) -> None:
    payload = await add_operator(
        stack,
        await _pending(stack),
        username="ab",
        displayName=" ",
        password="short",
        token=await stack.token("alpha-manager"),
    )

    assert payload["userErrors"] == [
        {"field": ["username"], "code": "INVALID_LENGTH"},
        {"field": ["displayName"], "code": "REQUIRED"},
        {"field": ["password"], "code": "INVALID_LENGTH"},
    ]


async def test_a_rejected_merchant_gets_no_cashier(stack: Stack) -> None:
    merchant_id = await _pending(stack)
    await review(stack, REJECT, merchant_id, username="alpha-manager")

    payload = await add_operator(
        stack, merchant_id, username=_username(), token=await stack.token("alpha-manager")
    )

    assert payload["userErrors"] == [{"field": None, "code": "INVALID_STATE"}]


async def test_another_institutions_merchant_is_not_found(stack: Stack) -> None:
    payload = await add_operator(
        stack,
        await _pending(stack, "beta"),
        username=_username(),
        token=await stack.token("alpha-manager"),
    )

    assert payload["userErrors"] == [{"field": ["merchantId"], "code": "NOT_FOUND"}]


async def test_risk_officers_customers_and_cashiers_may_not_add_cashiers(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    customer, _ = await customer_token(stack)
    variables = {
        "input": {
            "merchantId": merchant.merchant_id,
            "username": _username(),
            "displayName": "x",
            "password": CASHIER_PASSWORD,
        }
    }

    for token in (await stack.token("alpha-risk"), customer, merchant.cashier_token):
        body = await stack.gql(ADD_OPERATOR, variables, token=token)
        assert error_codes(body) == ["FORBIDDEN"]


async def test_a_cashier_signs_in_for_their_merchant(stack: Stack) -> None:
    merchant = await approved_merchant(stack)

    login = await merchant_login(stack, merchant.cashier_username)

    assert login["userErrors"] == []
    assert None not in (login["accessToken"], login["refreshToken"], login["expiresAt"])
    assert login["operator"]["username"] == merchant.cashier_username
    assert login["operator"]["merchant"]["id"] == merchant.merchant_id


@pytest.mark.parametrize(
    ("username", "password"), [(None, "wrong password"), ("nobody-at-all", CASHIER_PASSWORD)]
)
async def test_a_wrong_password_and_an_unknown_cashier_are_the_same_error(
    stack: Stack, username: str | None, password: str
) -> None:
    merchant = await approved_merchant(stack)

    login = await merchant_login(stack, username or merchant.cashier_username, password)

    assert login == {
        "accessToken": None,
        "refreshToken": None,
        "expiresAt": None,
        "operator": None,
        "userErrors": [{"code": "INVALID_CREDENTIALS"}],
    }


async def test_staff_credentials_do_not_sign_in_to_the_merchant_app(stack: Stack) -> None:
    login = await merchant_login(stack, "alpha-manager", "correct horse battery staple")

    assert login["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]


async def test_a_cashiers_refresh_token_gives_a_working_access_token(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    login = await merchant_login(stack, merchant.cashier_username)

    refreshed = (await stack.gql(REFRESH, {"token": login["refreshToken"]}))["data"]["refreshToken"]
    body = await stack.gql(MERCHANT, {"id": merchant.merchant_id}, token=refreshed["accessToken"])

    assert refreshed["userErrors"] == []
    assert body["data"]["merchant"]["id"] == merchant.merchant_id


async def test_a_cashier_sees_their_own_merchant_and_no_other(stack: Stack) -> None:
    mine = await approved_merchant(stack)
    other = await approved_merchant(stack)

    own = await stack.gql(MERCHANT, {"id": mine.merchant_id}, token=mine.cashier_token)
    foreign = await stack.gql(MERCHANT, {"id": other.merchant_id}, token=mine.cashier_token)
    node = await stack.gql(NODE, {"id": other.merchant_id}, token=mine.cashier_token)
    listed = await stack.gql("{ merchants { edges { node { id } } } }", token=mine.cashier_token)

    assert own["data"]["merchant"]["contactPhoneMasked"] is not None
    assert own["data"]["merchant"]["operators"] == [{"username": mine.cashier_username}]
    assert error_codes(foreign) == ["NOT_FOUND"]
    assert error_codes(node) == ["NOT_FOUND"]
    assert error_codes(listed) == ["FORBIDDEN"]


async def test_a_cashier_is_visible_to_staff_of_its_institution_only(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    operators = await stack.gql(
        "query($id: ID!) { merchant(id: $id) { operators { id } } }",
        {"id": merchant.merchant_id},
        token=await stack.token("alpha-manager"),
    )
    operator_id = operators["data"]["merchant"]["operators"][0]["id"]

    by_staff = await stack.gql(NODE, {"id": operator_id}, token=await stack.token("alpha-risk"))
    by_other = await stack.gql(NODE, {"id": operator_id}, token=await stack.token("beta-manager"))
    by_self = await stack.gql(NODE, {"id": operator_id}, token=merchant.cashier_token)

    assert by_staff["data"]["node"] == {"id": operator_id}
    assert error_codes(by_other) == ["NOT_FOUND"]
    assert by_self["data"]["node"] == {"id": operator_id}

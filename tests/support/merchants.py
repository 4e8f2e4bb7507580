"""Helpers for the merchant (and points) end-to-end tests: applications, approved merchants with
a signed-in cashier, benefits."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from jikuai.domain.merchants.uscc import ALPHABET, uscc_check_character
from tests.support.credit import local_uuid
from tests.support.stack import Stack

CASHIER_PASSWORD = "cashier password 1"
MERCHANT_FIELDS = """
  id name uscc category address contactPhoneMasked settlementAccountLast4
  legalRepresentativeIdMasked status statusReason reviewedAt createdAt
  onboardedBy { username } institution { code }
"""
APPLY = f"""
mutation($input: ApplyMerchantInput!) {{
  applyMerchant(input: $input) {{ merchant {{ {MERCHANT_FIELDS} }} userErrors {{ field code }} }}
}}
"""
APPROVE = f"""
mutation($input: MerchantReviewInput!) {{
  approveMerchant(input: $input) {{ merchant {{ {MERCHANT_FIELDS} }} userErrors {{ field code }} }}
}}
"""
REJECT = APPROVE.replace("approveMerchant", "rejectMerchant")
SUSPEND = APPROVE.replace("approveMerchant", "suspendMerchant")
ADD_OPERATOR = """
mutation($input: AddMerchantOperatorInput!) {
  addMerchantOperator(input: $input) {
    operator { id username displayName active merchant { id } } userErrors { field code }
  }
}
"""
MERCHANT_LOGIN = """
mutation($u: String!, $p: String!) {
  merchantLogin(input: {username: $u, password: $p}) {
    accessToken refreshToken expiresAt operator { username merchant { id name } }
    userErrors { code }
  }
}
"""
REWARD_FIELDS = """
  id name description kind pricePoints stock perCustomerLimit validFrom validUntil active
  merchant { id }
"""
CREATE_REWARD = f"""
mutation($input: CreateRewardInput!) {{
  createReward(input: $input) {{ reward {{ {REWARD_FIELDS} }} userErrors {{ field code }} }}
}}
"""
UPDATE_REWARD = f"""
mutation($input: UpdateRewardInput!) {{
  updateReward(input: $input) {{ reward {{ {REWARD_FIELDS} }} userErrors {{ field code }} }}
}}
"""


@dataclass(frozen=True)
class MerchantFixture:
    """An approved merchant and one of its cashiers, signed in."""

    merchant_id: str  # global ID
    local_id: uuid.UUID
    cashier_username: str
    cashier_token: str


def new_uscc() -> str:
    """A valid Unified Social Credit Code no other test uses."""
    first_17 = "91220100" + "".join(secrets.choice(ALPHABET) for _ in range(9))
    return first_17 + uscc_check_character(first_17)


def application(stack: Stack, **fields: Any) -> dict[str, Any]:
    """An `ApplyMerchantInput` with the sensitive fields sealed; `fields` override (camelCase),
    and `contactPhone`, `settlementAccount`, `legalRepresentativeIdNumber` are given in plain."""
    plain = {
        "contactPhone": stack.new_phone(),
        "settlementAccount": "6228 4800 1234 5678 901",
        "legalRepresentativeIdNumber": stack.new_id_number(),
    }
    sealed = {name: stack.seal(name, fields.pop(name, value)) for name, value in plain.items()}
    return {
        "name": "保寿村便民超市",
        "uscc": new_uscc(),
        "category": "SUPERMARKET",
        "address": "吉林省榆树市保寿村1号",
        **sealed,
        **fields,
    }


async def apply(stack: Stack, token: str, **fields: Any) -> dict[str, Any]:
    """The `applyMerchant` payload."""
    body = await stack.gql(APPLY, {"input": application(stack, **fields)}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["applyMerchant"]
    return payload


async def review(
    stack: Stack, mutation: str, merchant_id: str, *, username: str, reason: str = "资料齐全"
) -> dict[str, Any]:
    """The payload of a review mutation (APPROVE, REJECT or SUSPEND) by `username`."""
    body = await stack.gql(
        mutation,
        {"input": {"merchantId": merchant_id, "reason": reason}},
        token=await stack.token(username),
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


async def add_operator(
    stack: Stack, merchant_id: str, *, username: str, token: str, **fields: Any
) -> dict[str, Any]:
    """The `addMerchantOperator` payload for a new cashier `username`."""
    body = await stack.gql(
        ADD_OPERATOR,
        {
            "input": {
                "merchantId": merchant_id,
                "username": username,
                "displayName": "收银员",
                "password": CASHIER_PASSWORD,
                **fields,
            }
        },
        token=token,
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["addMerchantOperator"]
    return payload


async def merchant_login(
    stack: Stack, username: str, password: str = CASHIER_PASSWORD
) -> dict[str, Any]:
    body = await stack.gql(MERCHANT_LOGIN, {"u": username, "p": password})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["merchantLogin"]
    return payload


async def approved_merchant(
    stack: Stack, institution: str = "alpha", *, category: str = "SUPERMARKET"
) -> MerchantFixture:
    """A merchant applied for by the institution's loan officer and approved by its branch
    manager, with one cashier signed in."""
    applied = await apply(stack, await stack.token(f"{institution}-officer"), category=category)
    assert applied["userErrors"] == [], applied
    merchant_id: str = applied["merchant"]["id"]
    approved = await review(stack, APPROVE, merchant_id, username=f"{institution}-manager")
    assert approved["userErrors"] == [], approved
    username = f"cashier-{uuid.uuid4().hex[:12]}"
    added = await add_operator(
        stack, merchant_id, username=username, token=await stack.token(f"{institution}-manager")
    )
    assert added["userErrors"] == [], added
    login = await merchant_login(stack, username)
    assert login["userErrors"] == [], login
    return MerchantFixture(
        merchant_id=merchant_id,
        local_id=uuid.UUID(local_uuid(merchant_id)),
        cashier_username=username,
        cashier_token=login["accessToken"],
    )


def reward_input(**fields: Any) -> dict[str, Any]:
    """The terms of a benefit on offer for years; `fields` override (camelCase)."""
    return {
        "name": "东北大米 5kg",
        "description": "到店出示核销码领取",
        "kind": "ITEM",
        "pricePoints": 500,
        "stock": None,
        "perCustomerLimit": None,
        "validFrom": "2020-01-01",
        "validUntil": "2099-12-31",
        "active": True,
        **fields,
    }


async def add_reward(
    stack: Stack, merchant: MerchantFixture, *, token: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A benefit created by the merchant's cashier (or `token`); returns the reward."""
    body = await stack.gql(
        CREATE_REWARD,
        {"input": {"merchantId": merchant.merchant_id, **reward_input(**fields)}},
        token=token or merchant.cashier_token,
    )
    assert "errors" not in body, body
    payload = body["data"]["createReward"]
    assert payload["userErrors"] == [], payload
    reward: dict[str, Any] = payload["reward"]
    return reward

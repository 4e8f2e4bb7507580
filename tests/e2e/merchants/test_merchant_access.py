"""Who sees which merchant, and how much of it: `merchant`, `merchants`, `node` and the
merchant of a benefit."""

from __future__ import annotations

from typing import Any

from tests.support.credit import customer_token, error_codes
from tests.support.merchants import (
    MERCHANT_FIELDS,
    SUSPEND,
    add_reward,
    apply,
    approved_merchant,
    review,
)
from tests.support.stack import Stack

MERCHANT = f"query($id: ID!) {{ merchant(id: $id) {{ {MERCHANT_FIELDS} operators {{ id }} }} }}"
MERCHANTS = """
query($status: MerchantStatus, $after: String) {
  merchants(status: $status, first: 100, after: $after) {
    edges { node { id status institution { code } } } pageInfo { hasNextPage endCursor }
  }
}
"""
REWARD_MERCHANT = """
query($id: ID!) { node(id: $id) { ... on Reward { merchant { id name contactPhoneMasked } } } }
"""
BACK_OFFICE = (
    "contactPhoneMasked",
    "settlementAccountLast4",
    "legalRepresentativeIdMasked",
    "statusReason",
)


async def _all(stack: Stack, token: str, status: str | None = None) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = await stack.gql(MERCHANTS, {"status": status, "after": after}, token=token)
        assert "errors" not in body, body
        connection = body["data"]["merchants"]
        nodes += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]


async def test_staff_of_the_institution_see_the_back_office_masked(stack: Stack) -> None:
    merchant = await approved_merchant(stack)

    body = await stack.gql(
        MERCHANT, {"id": merchant.merchant_id}, token=await stack.token("alpha-risk")
    )

    found = body["data"]["merchant"]
    assert found["contactPhoneMasked"][3:7] == "****"
    assert len(found["settlementAccountLast4"]) == 4
    assert found["legalRepresentativeIdMasked"][1:-1] == "*" * 16
    assert found["statusReason"] == "资料齐全"
    assert len(found["operators"]) == 1


async def test_another_institutions_merchant_is_not_found(stack: Stack) -> None:
    merchant = await approved_merchant(stack)

    for query in (MERCHANT, "query($id: ID!) { node(id: $id) { id } }"):
        body = await stack.gql(
            query, {"id": merchant.merchant_id}, token=await stack.token("beta-manager")
        )
        assert error_codes(body) == ["NOT_FOUND"]


async def test_a_customer_sees_an_approved_merchant_of_their_institution_without_its_back_office(
    stack: Stack,
) -> None:
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant)
    token, _ = await customer_token(stack)

    direct = await stack.gql(MERCHANT, {"id": merchant.merchant_id}, token=token)
    through_reward = await stack.gql(REWARD_MERCHANT, {"id": reward["id"]}, token=token)

    found = direct["data"]["merchant"]
    assert found["status"] == "APPROVED"
    assert all(found[name] is None for name in BACK_OFFICE)
    assert found["onboardedBy"] is None
    assert found["operators"] == []
    assert through_reward["data"]["node"]["merchant"] == {
        "id": merchant.merchant_id,
        "name": found["name"],
        "contactPhoneMasked": None,
    }


async def test_a_customer_does_not_see_a_pending_or_suspended_merchant(stack: Stack) -> None:
    pending = await apply(stack, await stack.token("alpha-officer"))
    suspended = await approved_merchant(stack)
    await review(stack, SUSPEND, suspended.merchant_id, username="alpha-manager")
    token, _ = await customer_token(stack)

    for merchant_id in (pending["merchant"]["id"], suspended.merchant_id):
        body = await stack.gql(MERCHANT, {"id": merchant_id}, token=token)
        assert error_codes(body) == ["NOT_FOUND"]


async def test_merchants_lists_the_staff_members_institution_by_status(stack: Stack) -> None:
    approved = await approved_merchant(stack)
    pending = await apply(stack, await stack.token("alpha-officer"))
    elsewhere = await approved_merchant(stack, "beta")

    everything = await _all(stack, await stack.token("alpha-risk"))
    waiting = await _all(stack, await stack.token("alpha-manager"), "PENDING")

    ids = [node["id"] for node in everything]
    assert approved.merchant_id in ids
    assert pending["merchant"]["id"] in ids
    assert elsewhere.merchant_id not in ids
    assert ids.index(approved.merchant_id) < ids.index(pending["merchant"]["id"])  # oldest first
    assert {node["institution"]["code"] for node in everything} == {"alpha"}
    assert pending["merchant"]["id"] in [node["id"] for node in waiting]
    assert {node["status"] for node in waiting} == {"PENDING"}


async def test_the_province_lists_every_institutions_merchants(stack: Stack) -> None:
    alpha = await approved_merchant(stack)
    beta = await approved_merchant(stack, "beta")

    ids = [node["id"] for node in await _all(stack, await stack.token("prov-admin"))]

    assert alpha.merchant_id in ids
    assert beta.merchant_id in ids


async def test_customers_may_not_list_merchants(stack: Stack) -> None:
    token, _ = await customer_token(stack)

    body = await stack.gql(MERCHANTS, {}, token=token)

    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_cursor_we_did_not_give_out_is_bad_input(stack: Stack) -> None:
    body = await stack.gql(
        MERCHANTS, {"after": "not a cursor"}, token=await stack.token("alpha-manager")
    )

    assert error_codes(body) == ["BAD_USER_INPUT"]

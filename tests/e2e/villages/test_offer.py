"""A pre-approved farmer signs in with WeChat, registers with the ID number the roster has, sees
the offer, accepts it in one step and draws on the line; the village's progress follows."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from tests.support.credit import DRAW, customer_token
from tests.support.stack import Stack
from tests.support.villages import (
    counts,
    household,
    households,
    progress,
    roster_csv,
    upload,
    village_bank,
)

OFFER = """
{ myVillageCreditOffer { villageName limitAmount grade expiresOn product { code } } }
"""
ACCEPT = """
mutation {
  acceptVillageCreditOffer {
    application { id state amount method approvedAmount }
    creditLine { id limitAmount available status product { code } }
    userErrors { field code }
  }
}
"""


async def accept(stack: Stack, token: str) -> dict[str, Any]:
    body = await stack.gql(ACCEPT, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["acceptVillageCreditOffer"]
    return payload


async def offer(stack: Stack, token: str) -> dict[str, Any] | None:
    body = await stack.gql(OFFER, token=token)
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["myVillageCreditOffer"]
    return found


async def test_a_pre_approved_farmer_accepts_in_one_step_and_draws(stack: Stack) -> None:
    setup = await village_bank(stack)
    officer = await stack.token(setup.username("o1"))
    row = household(stack, peer_rating="EXCELLENT", annual_income="150000")
    imported = await upload(stack, officer, setup.village_id, roster_csv([row, household(stack)]))
    assert imported["rosterImport"]["preApproved"] == 2
    before = await progress(stack, officer, villageId=setup.village_id)
    assert (before["households"], before["preApproved"], before["registered"]) == (2, 2, 0)

    farmer, _ = await customer_token(
        stack, institution=setup.bank.code, id_number=row["id_number"], segment="FARMER"
    )
    shown = await offer(stack, farmer)
    assert shown is not None
    assert (shown["villageName"], shown["product"]["code"]) == ("前进村", "JNKD")
    limit = Decimal(shown["limitAmount"])
    assert limit > 0

    accepted = await accept(stack, farmer)

    assert accepted["userErrors"] == []
    assert accepted["application"]["state"] == "APPROVED"
    assert Decimal(accepted["application"]["approvedAmount"]) == limit
    line = accepted["creditLine"]
    assert (Decimal(line["limitAmount"]), line["status"]) == (limit, "ACTIVE")
    assert await offer(stack, farmer) is None  # accepted: no longer on offer
    again = await accept(stack, farmer)
    assert [e["code"] for e in again["userErrors"]] == ["OFFER_NOT_AVAILABLE"]

    drawn = await stack.gql(
        DRAW,
        {"input": {"creditLineId": line["id"], "amount": "5000", "days": 90,
                   "idempotencyKey": uuid.uuid4().hex}},
        token=farmer,
    )  # fmt: skip
    assert drawn["data"]["drawCredit"]["userErrors"] == [], drawn
    after = await progress(stack, officer, villageId=setup.village_id)
    assert (after["registered"], after["activated"], after["drawn"]) == (1, 1, 1)
    assert Decimal(after["preApprovedLimit"]) == Decimal(before["preApprovedLimit"])


async def test_no_offer_for_a_declined_or_unlisted_farmer(stack: Stack) -> None:
    setup = await village_bank(stack)
    officer = await stack.token(setup.username("o1"))
    declined = household(stack, peer_rating="POOR")
    await upload(stack, officer, setup.village_id, roster_csv([declined]))
    for id_number in (declined["id_number"], None):
        farmer, _ = await customer_token(
            stack, institution=setup.bank.code, id_number=id_number, segment="FARMER"
        )
        assert await offer(stack, farmer) is None
        refused = await accept(stack, farmer)
        assert [e["code"] for e in refused["userErrors"]] == ["OFFER_NOT_AVAILABLE"]
        assert refused["application"] is None


async def test_the_offer_is_for_customers_only(stack: Stack) -> None:
    officer = await stack.token("alpha-officer")
    for query in (OFFER, ACCEPT):
        body = await stack.gql(query, token=officer)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    body = await stack.gql(OFFER)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_a_signed_in_farmer_not_yet_registered_has_no_offer(stack: Stack) -> None:
    login = await stack.gql(
        "mutation($c: String!) { wechatLogin(input: {code: $c}) { accessToken } }",
        {"c": f"dev:o{uuid.uuid4().hex[:20]}"},
    )
    token = login["data"]["wechatLogin"]["accessToken"]
    assert await offer(stack, token) is None
    refused = await accept(stack, token)
    assert [e["code"] for e in refused["userErrors"]] == ["OFFER_NOT_AVAILABLE"]


async def test_a_new_roster_row_updates_an_accepted_household_but_not_its_offer(
    stack: Stack,
) -> None:
    setup = await village_bank(stack)
    officer = await stack.token(setup.username("o1"))
    row = household(stack)
    await upload(stack, officer, setup.village_id, roster_csv([row]))
    farmer, _ = await customer_token(
        stack, institution=setup.bank.code, id_number=row["id_number"], segment="FARMER"
    )
    line = (await accept(stack, farmer))["creditLine"]

    changed = row | {"family_size": "6", "main_business": "肉牛养殖", "annual_income": "20000"}
    updated = await upload(stack, officer, setup.village_id, roster_csv([changed]))
    again = await upload(stack, officer, setup.village_id, roster_csv([changed]))

    assert counts(updated) == (0, 1, 0, 0)
    assert counts(again) == (0, 0, 1, 0)  # the update landed: the same row is now unchanged
    (listed,) = await households(stack, officer, setup.village_id)
    assert (listed["familySize"], listed["mainBusiness"]) == (6, "肉牛养殖")
    assert listed["acceptedAt"] is not None
    assert Decimal(listed["preApprovedLimit"]) == Decimal(line["limitAmount"])
    after = await progress(stack, officer, villageId=setup.village_id)
    assert after["activated"] == 1

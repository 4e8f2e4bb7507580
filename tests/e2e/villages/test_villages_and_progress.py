"""Villages as the bank keeps them (committee contact, credit village rating) and
`villageCreditProgress` by village, branch, institution and province."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

from tests.support.credit import customer_token
from tests.support.performance import gid
from tests.support.points import business_today
from tests.support.stack import Stack
from tests.support.villages import (
    CREATE_VILLAGE,
    PROGRESS,
    household,
    progress,
    roster_csv,
    unique_village_code,
    upload,
    village_bank,
    village_input,
)

UPDATE_VILLAGE = """
mutation($input: UpdateVillageInput!) {
  updateVillage(input: $input) {
    village { id name creditRating ratedOn raters committeePhone branch { code } }
    userErrors { field code }
  }
}
"""
VILLAGES = """
query($first: Int, $after: String, $branchId: ID, $institutionId: ID) {
  villages(first: $first, after: $after, branchId: $branchId, institutionId: $institutionId) {
    edges { node { id code name creditProgress { households } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def create(stack: Stack, token: str, code: str, village: dict[str, Any]) -> dict[str, Any]:
    body = await stack.gql(
        CREATE_VILLAGE, {"input": {"code": code, "village": village}}, token=token
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createVillage"]
    return payload


async def test_a_village_is_created_rated_and_listed(stack: Stack) -> None:
    setup = await village_bank(stack)
    admin = await stack.token(setup.username("admin"))
    rated_on = (business_today() - timedelta(days=3)).isoformat()

    rated = await stack.gql(
        UPDATE_VILLAGE,
        {"input": {"villageId": setup.village_id, "village": village_input(
            setup.bank, name=" 前进村 ", branchId=gid("Branch", setup.bank.branches[1].id),
            creditRating="AA", ratedOn=rated_on, raters="镇政府;支行;村委会",
        )}},
        token=admin,
    )  # fmt: skip

    village = rated["data"]["updateVillage"]["village"]
    assert (village["name"], village["creditRating"], village["ratedOn"]) == (
        "前进村",
        "AA",
        rated_on,
    )
    assert village["branch"]["code"] == setup.bank.branches[1].code
    listed = await stack.gql(
        VILLAGES, {"branchId": gid("Branch", setup.bank.branches[1].id)}, token=admin
    )
    assert [edge["node"]["id"] for edge in listed["data"]["villages"]["edges"]] == [
        setup.village_id
    ]


async def test_village_details_are_checked(stack: Stack) -> None:
    setup = await village_bank(stack)
    admin = await stack.token(setup.username("admin"))
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    bad = village_input(
        setup.bank, name="", committeePhone="call me", creditRating="A", ratedOn=tomorrow
    )
    payload = await create(stack, admin, "bad code!", bad)
    assert sorted((tuple(e["field"]), e["code"]) for e in payload["userErrors"]) == [
        (("code",), "INVALID_LENGTH"),
        (("committeePhone",), "INVALID_PHONE"),
        (("name",), "INVALID_LENGTH"),
        (("ratedOn",), "INVALID_DATE"),
    ]
    taken = await create(stack, admin, setup.village_code, village_input(setup.bank))
    assert [e["code"] for e in taken["userErrors"]] == ["VILLAGE_EXISTS"]
    other = await village_bank(stack)
    foreign = await create(stack, admin, unique_village_code(), village_input(other.bank))
    assert [(e["field"], e["code"]) for e in foreign["userErrors"]] == [(["branchId"], "NOT_FOUND")]
    officer = await stack.token(setup.username("o1"))
    body = await stack.gql(
        CREATE_VILLAGE,
        {"input": {"code": unique_village_code(), "village": village_input(setup.bank)}},
        token=officer,
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_progress_by_village_branch_institution_and_province(stack: Stack) -> None:
    setup = await village_bank(stack)
    admin = await stack.token(setup.username("admin"))
    second = await create(stack, admin, unique_village_code(), village_input(
        setup.bank, name="太平村", branchId=gid("Branch", setup.bank.branches[1].id)
    ))  # fmt: skip
    second_id = second["village"]["id"]
    officer = await stack.token(setup.username("o1"))
    await asyncio.gather(
        upload(stack, officer, setup.village_id, roster_csv([household(stack) for _ in range(3)])),
        upload(stack, officer, second_id, roster_csv(
            [household(stack), household(stack, peer_rating="POOR")]
        )),
    )  # fmt: skip

    first = await progress(stack, officer, villageId=setup.village_id)
    other = await progress(stack, officer, branchId=gid("Branch", setup.bank.branches[1].id))
    whole = await progress(stack, officer)
    assert (first["households"], first["screened"], first["preApproved"]) == (3, 3, 3)
    assert (other["households"], other["preApproved"]) == (2, 1)
    assert (whole["households"], whole["preApproved"]) == (5, 4)
    assert Decimal(whole["preApprovedLimit"]) == Decimal(first["preApprovedLimit"]) + Decimal(
        other["preApprovedLimit"]
    )
    province = await progress(stack, await stack.token("prov-admin"))
    assert province["households"] >= whole["households"]
    scoped = await progress(
        stack,
        await stack.token("prov-admin"),
        institutionId=gid("Institution", setup.bank.institution.id),
    )
    assert scoped == whole


async def test_progress_is_for_staff_who_may_see_it(stack: Stack) -> None:
    setup = await village_bank(stack)
    other = await village_bank(stack)
    outsider = await stack.token(other.username("admin"))
    assert (await stack.gql(PROGRESS, {"villageId": setup.village_id}, token=outsider))["data"][
        "villageCreditProgress"
    ] is None
    customer, _ = await customer_token(stack)
    body = await stack.gql(PROGRESS, {}, token=customer)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    both = await stack.gql(
        PROGRESS,
        {"villageId": setup.village_id, "branchId": gid("Branch", setup.bank.branches[0].id)},
        token=await stack.token(setup.username("admin")),
    )
    assert [e["extensions"]["code"] for e in both["errors"]] == ["INVALID_SCOPE"]

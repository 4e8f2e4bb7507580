"""Helpers for the whole-village credit tests: a bank offering 吉农快贷, villages, rosters."""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from openpyxl import Workbook

from jikuai.demo_products import demo_products
from jikuai.domain.credit.catalog import DefineProduct, create_product
from jikuai.domain.villages.rosters import Column
from tests.support.credit import publish_lpr
from tests.support.performance import Bank, gid, new_bank
from tests.support.points import business_today, db_session, staff_actor
from tests.support.stack import Stack

HEADER = [column.value for column in Column]
IMPORT = """
mutation($input: ImportVillageRosterInput!) {
  importVillageRoster(input: $input) {
    rosterImport {
      id source name status rows inserted updated unchanged refused preApproved
      errors { line column code }
    }
    rowErrors { line column code message }
    userErrors { field code message }
  }
}
"""
CREATE_VILLAGE = """
mutation($input: CreateVillageInput!) {
  createVillage(input: $input) {
    village { id code name committeeContact committeePhone creditRating ratedOn raters
              branch { code } }
    userErrors { field code }
  }
}
"""
HOUSEHOLDS = """
query($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on Village {
    households(first: $first, after: $after) {
      edges { node {
        id nameMasked idNumberMasked phoneMasked gender age familySize landArea mainBusiness
        annualIncome existingDebts peerRating reviewedOn reviewers outcome score grade
        declineReasons preApprovedLimit screenedOn offerExpiresOn registered acceptedAt
      } }
      pageInfo { hasNextPage endCursor }
    }
  } }
}
"""
PROGRESS = """
query($villageId: ID, $branchId: ID, $institutionId: ID) {
  villageCreditProgress(villageId: $villageId, branchId: $branchId,
                        institutionId: $institutionId) {
    households screened preApproved preApprovedLimit registered activated drawn
  }
}
"""


@dataclass
class VillageBank:
    """A member institution offering 吉农快贷, with a village of its first branch."""

    bank: Bank
    village_id: str  # global ID
    village_code: str

    def username(self, suffix: str) -> str:
        return self.bank.username(suffix)


async def village_bank(stack: Stack) -> VillageBank:
    bank = await new_bank(stack)
    await publish_lpr(stack)
    code, terms = demo_products()[0]
    async with db_session(stack) as session:
        await create_product(
            DefineProduct(code=code, terms=terms),
            actor=staff_actor(stack, bank.username("admin")),
            uow=session.unit_of_work(),
            now=datetime.now(UTC),
        )
    village_code = f"{bank.code}-v1"
    body = await stack.gql(
        CREATE_VILLAGE,
        {"input": {"code": village_code, "village": village_input(bank)}},
        token=await stack.token(bank.username("admin")),
    )
    payload = body["data"]["createVillage"]
    assert payload["userErrors"] == [], payload
    return VillageBank(bank, payload["village"]["id"], village_code)


def village_input(bank: Bank, **fields: Any) -> dict[str, Any]:
    return {
        "name": "前进村",
        "branchId": gid("Branch", bank.branches[0].id),
        "committeeContact": "村委会主任",
        "committeePhone": "0431-83456789",
    } | fields


def household(stack: Stack, **cells: Any) -> dict[str, str]:
    """A roster row of a household the bank's 吉农快贷 pre-approves: a farmer of about 40 with
    a good peer review and a modest income."""
    id_number = _born(stack.new_id_number(), date(business_today().year - 40, 3, 15))
    row = {
        "name": "王建国",
        "id_number": id_number,
        "phone": stack.new_phone(),
        "family_size": "4",
        "land_area": "35.5",
        "main_business": "玉米种植",
        "annual_income": "80000",
        "existing_debts": "0",
        "peer_rating": "GOOD",
        "reviewed_on": (business_today() - timedelta(days=7)).isoformat(),
        "reviewers": "王支书;李主任;张客户经理",
    }
    return row | {key: str(value) for key, value in cells.items()}


def _born(id_number: str, birth: date) -> str:
    """The ID number with its birth date set, and its check character recomputed."""
    from jikuai.domain.customers.identity_numbers import id_check_character

    body = f"{id_number[:6]}{birth:%Y%m%d}{id_number[14:17]}"
    return body + id_check_character(body)


def roster_csv(rows: list[dict[str, str]], *, header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = header or HEADER
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue().encode("utf-8")


def roster_xlsx(rows: list[dict[str, Any]], *, header: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    columns = header or HEADER
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column) for column in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(
    stack: Stack, token: str, village_id: str, content: bytes, filename: str = "roster.csv"
) -> dict[str, Any]:
    """`importVillageRoster` with the file, by the GraphQL multipart request spec."""
    operations = {"query": IMPORT, "variables": {"input": {"villageId": village_id, "file": None}}}
    response = await stack.client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, content, "application/octet-stream")},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["importVillageRoster"]
    return payload


async def import_batch(
    stack: Stack, token: str, village_id: str, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """`importVillageRoster` from the field app: the rows sealed as one JSON batch."""
    sealed = stack.seal("sealedRows", json.dumps(rows, ensure_ascii=False))
    body = await stack.gql(
        IMPORT, {"input": {"villageId": village_id, "sealedRows": sealed}}, token=token
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["importVillageRoster"]
    return payload


def counts(payload: dict[str, Any]) -> tuple[int, int, int, int]:
    record = payload["rosterImport"]
    return record["inserted"], record["updated"], record["unchanged"], record["refused"]


async def households(stack: Stack, token: str, village_id: str) -> list[dict[str, Any]]:
    """Every household of the village's roster, as the console lists them."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        body = await stack.gql(
            HOUSEHOLDS, {"id": village_id, "first": 100, "after": after}, token=token
        )
        assert "errors" not in body, body
        connection = body["data"]["node"]["households"]
        found += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return found
        after = connection["pageInfo"]["endCursor"]


async def progress(stack: Stack, token: str, **scope: str) -> dict[str, Any]:
    body = await stack.gql(PROGRESS, scope, token=token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["villageCreditProgress"]
    return found


def unique_village_code() -> str:
    return f"v{uuid.uuid4().hex[:10]}"

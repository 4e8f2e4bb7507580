"""`importVillageRoster` from the staff console: a CSV or XLSX roster uploaded by the GraphQL
multipart request spec; each row checked, deduplicated, encrypted, screened with 吉农快贷 and
given a pre-approved line and a whitelist entry; the same file again changes nothing."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from jikuai.persistence.tables.credit import credit_list_entries
from jikuai.persistence.tables.villages import roster_imports, village_households
from tests.support.credit import customer_token, local_uuid
from tests.support.stack import Stack
from tests.support.villages import (
    HEADER,
    counts,
    household,
    households,
    roster_csv,
    roster_xlsx,
    upload,
    village_bank,
)


async def whitelist(stack: Stack, institution_id: Any) -> dict[bytes, dict[str, Any]]:
    """The institution's whitelist entries by blind index, straight from the database."""
    async with stack.services.database.primary.connect() as connection:
        rows = await connection.execute(
            select(credit_list_entries).where(
                credit_list_entries.c.institution_id == institution_id
            )
        )
        return {row.id_number_bidx: dict(row._mapping) for row in rows}


async def stored_households(stack: Stack, institution_id: Any) -> list[dict[str, Any]]:
    async with stack.services.database.primary.connect() as connection:
        rows = await connection.execute(
            select(village_households).where(village_households.c.institution_id == institution_id)
        )
        return [dict(row._mapping) for row in rows]


async def test_a_roster_is_screened_and_pre_approved(stack: Stack) -> None:
    setup = await village_bank(stack)
    token = await stack.token(setup.username("o1"))
    good = household(stack, peer_rating="EXCELLENT", annual_income="150000")
    poor = household(stack, peer_rating="POOR")
    content = roster_csv([good, poor])

    payload = await upload(stack, token, setup.village_id, content)

    assert payload["userErrors"] == []
    assert payload["rowErrors"] == []
    record = payload["rosterImport"]
    assert (record["status"], record["source"], record["name"]) == (
        "COMPLETED",
        "FILE",
        "roster.csv",
    )
    assert counts(payload) == (2, 0, 0, 0)
    assert record["preApproved"] == 1
    listed = {
        each["idNumberMasked"]: each for each in await households(stack, token, setup.village_id)
    }
    approved = listed[f"{good['id_number'][0]}{'*' * 16}{good['id_number'][-1]}"]
    assert approved["outcome"] == "PRE_APPROVED"
    assert approved["declineReasons"] == []
    assert approved["nameMasked"] == "*国"
    assert approved["phoneMasked"].startswith(good["phone"][:3])
    assert approved["grade"] is not None
    assert Decimal(approved["preApprovedLimit"]) > 0
    assert approved["offerExpiresOn"] is not None
    assert approved["registered"] is False
    declined = listed[f"{poor['id_number'][0]}{'*' * 16}{poor['id_number'][-1]}"]
    assert declined["outcome"] == "DECLINED"
    assert "PEER_REVIEW_POOR" in declined["declineReasons"]
    assert declined["preApprovedLimit"] is None
    entries = await whitelist(stack, setup.bank.institution.id)
    assert [
        (entry["source"], entry["limit_amount"], entry["revoked_at"]) for entry in entries.values()
    ] == [("整村授信", Decimal(approved["preApprovedLimit"]), None)]


async def test_the_same_file_again_changes_nothing(stack: Stack) -> None:
    setup = await village_bank(stack)
    token = await stack.token(setup.username("o1"))
    content = roster_csv([household(stack) for _ in range(3)])
    await upload(stack, token, setup.village_id, content)
    before = await stored_households(stack, setup.bank.institution.id)
    entries_before = await whitelist(stack, setup.bank.institution.id)

    again = await upload(stack, token, setup.village_id, content)

    assert counts(again) == (0, 0, 3, 0)
    assert again["rosterImport"]["preApproved"] == 0
    assert await stored_households(stack, setup.bank.institution.id) == before
    assert await whitelist(stack, setup.bank.institution.id) == entries_before


async def test_a_changed_row_updates_its_household_and_whitelist_entry(stack: Stack) -> None:
    setup = await village_bank(stack)
    token = await stack.token(setup.username("o1"))
    row = household(stack, annual_income="60000")
    await upload(stack, token, setup.village_id, roster_csv([row]))
    (first,) = await stored_households(stack, setup.bank.institution.id)

    richer = await upload(
        stack, token, setup.village_id, roster_csv([row | {"annual_income": "300000"}])
    )
    (second,) = await stored_households(stack, setup.bank.institution.id)
    assert counts(richer) == (0, 1, 0, 0)
    assert second["id"] == first["id"]
    assert second["annual_income"] == Decimal("300000.00")
    assert second["pre_approved_limit"] > first["pre_approved_limit"]
    (entry,) = (await whitelist(stack, setup.bank.institution.id)).values()
    assert entry["id"] == first["whitelist_entry_id"] == second["whitelist_entry_id"]
    assert entry["limit_amount"] == second["pre_approved_limit"]

    poorer = await upload(
        stack, token, setup.village_id, roster_csv([row | {"peer_rating": "较差"}])
    )
    assert counts(poorer) == (0, 1, 0, 0)
    assert poorer["rosterImport"]["preApproved"] == 0
    (entry,) = (await whitelist(stack, setup.bank.institution.id)).values()
    assert entry["revoked_at"] is not None


async def test_bad_rows_are_reported_one_by_one_while_the_rest_proceed(stack: Stack) -> None:
    setup = await village_bank(stack)
    token = await stack.token(setup.username("m1"))
    good = household(stack)
    bad_id = household(stack)
    bad_id["id_number"] = bad_id["id_number"][:-1] + (
        "0" if bad_id["id_number"][-1] != "0" else "1"
    )
    rows = [
        good,
        bad_id,
        household(stack, phone="12345", family_size="0", annual_income="-5"),
        household(stack, land_area="12.345", peer_rating="A+", reviewed_on="2999-01-01"),
        good | {"name": "王建军"},  # the same head of household again
    ]

    payload = await upload(stack, token, setup.village_id, roster_csv(rows))

    assert counts(payload) == (1, 0, 0, 4)
    assert sorted(
        (each["line"], each["column"], each["code"]) for each in payload["rowErrors"]
    ) == [
        (3, "id_number", "INVALID_ID_NUMBER"),
        (4, "annual_income", "INVALID_AMOUNT"),
        (4, "family_size", "INVALID_QUANTITY"),
        (4, "phone", "INVALID_PHONE"),
        (5, "land_area", "INVALID_QUANTITY"),
        (5, "peer_rating", "INVALID_RATING"),
        (5, "reviewed_on", "INVALID_DATE"),
        (6, "id_number", "DUPLICATE_HOUSEHOLD"),
    ]
    assert all(each["message"] for each in payload["rowErrors"])
    assert len(payload["rosterImport"]["errors"]) == 8


async def test_an_xlsx_roster_with_chinese_headers(stack: Stack) -> None:
    setup = await village_bank(stack)
    token = await stack.token(setup.username("admin"))
    header = ["户主姓名", "身份证号", "手机号", "家庭人口", "耕地面积(亩)", "主营业务", "年收入",
              "现有负债", "评议等级", "评议日期", "评议人", "备注"]  # fmt: skip
    rows = []
    for row in (household(stack), household(stack, peer_rating="优秀")):
        cells: dict[str, Any] = dict(zip(header, (row[c] for c in HEADER), strict=False))
        cells["家庭人口"] = int(row["family_size"])  # numbers as a spreadsheet keeps them
        cells["年收入"] = float(row["annual_income"])
        cells["备注"] = "新户"
        rows.append(cells)

    payload = await upload(
        stack, token, setup.village_id, roster_xlsx(rows, header=header), "花名册.xlsx"
    )

    assert payload["rowErrors"] == []
    assert counts(payload) == (2, 0, 0, 0)
    ratings = sorted(
        each["peerRating"] for each in await households(stack, token, setup.village_id)
    )
    assert ratings == ["EXCELLENT", "GOOD"]


async def test_a_file_that_is_no_roster_is_refused_whole(stack: Stack) -> None:
    setup = await village_bank(stack)
    token = await stack.token(setup.username("o1"))
    no_header = roster_csv([household(stack)], header=["name", "phone"])
    for content in (no_header, b"\xff\xfe\x00garbage", b"PK\x03\x04not really a zip"):
        payload = await upload(stack, token, setup.village_id, content)
        assert payload["rosterImport"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["file"], "INVALID_FILE")
        ]
    assert await stored_households(stack, setup.bank.institution.id) == []


async def test_only_credit_staff_of_the_institution_import(stack: Stack) -> None:
    setup = await village_bank(stack)
    other = await village_bank(stack)
    content = roster_csv([household(stack)])
    customer, _ = await customer_token(stack)

    elsewhere = await upload(
        stack, await stack.token(other.username("admin")), setup.village_id, content
    )
    assert [(e["field"], e["code"]) for e in elsewhere["userErrors"]] == [
        (["villageId"], "NOT_FOUND")
    ]
    for token in (customer, await stack.token("prov-admin")):
        response = await stack.client.post(
            "/graphql",
            data={
                "operations": '{"query": "mutation($f: Upload) { importVillageRoster(input: '
                '{villageId: \\"' + setup.village_id + '\\", file: $f}) { userErrors { code } } }",'
                ' "variables": {"f": null}}',
                "map": '{"0": ["variables.f"]}',
            },
            files={"0": ("r.csv", content)},
            headers={"authorization": f"Bearer {token}"},
        )
        codes = [error["extensions"]["code"] for error in response.json().get("errors", [])]
        data = response.json()["data"]
        assert codes == ["FORBIDDEN"] or data["importVillageRoster"]["userErrors"] == [
            {"code": "NOT_FOUND"}
        ], response.text
    assert await stored_households(stack, setup.bank.institution.id) == []
    assert local_uuid(setup.village_id)


def rewritten(workbook: bytes, part: str, change: Any) -> bytes:
    """The workbook with one of its zipped parts changed by `change(text) -> text`."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == part:
                data = change(data.decode()).encode()
            target.writestr(item, data)
    return out.getvalue()


async def test_a_workbook_is_read_whole_whatever_size_it_claims(stack: Stack) -> None:
    setup = await village_bank(stack)
    token = await stack.token(setup.username("o1"))
    content = roster_xlsx([household(stack) for _ in range(5)])
    lying = rewritten(
        content, "xl/worksheets/sheet1.xml", lambda xml: re.sub(r'<dimension ref="[^"]*"/>',
                                                                '<dimension ref="A1"/>', xml)
    )  # fmt: skip
    payload = await upload(stack, token, setup.village_id, lying, "roster.xlsx")
    assert counts(payload) == (5, 0, 0, 0)


async def test_a_workbook_id_number_kept_as_a_number_is_refused(stack: Stack) -> None:
    setup = await village_bank(stack)
    token = await stack.token(setup.username("o1"))
    row: dict[str, Any] = household(stack)
    row["id_number"] = int(row["id_number"][:17] + "0")  # a number cell loses digits
    payload = await upload(
        stack, token, setup.village_id, roster_xlsx([row, household(stack)]), "r.xlsx"
    )
    assert counts(payload) == (1, 0, 0, 1)
    assert [(e["line"], e["column"], e["code"]) for e in payload["rowErrors"]] == [
        (2, "id_number", "INVALID_ID_NUMBER")
    ]


async def test_a_broken_workbook_is_refused_whole_and_leaves_no_run(stack: Stack) -> None:
    setup = await village_bank(stack)
    token = await stack.token(setup.username("o1"))
    content = roster_xlsx([household(stack)])
    broken = rewritten(content, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])
    for bad in (broken, roster_csv([household(stack)], header=["name", "phone"])):
        payload = await upload(stack, token, setup.village_id, bad, "r.xlsx")
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["file"], "INVALID_FILE")
        ]
    async with stack.services.database.primary.connect() as connection:
        runs = await connection.scalar(
            select(func.count()).where(
                roster_imports.c.village_id == uuid.UUID(local_uuid(setup.village_id))
            )
        )
    assert runs == 0

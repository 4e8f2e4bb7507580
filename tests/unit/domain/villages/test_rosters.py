"""Checking a roster row: every wrong field reported with its code, values normalised."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jikuai.domain.customers.identity_numbers import id_check_character
from jikuai.domain.shared.errors import ErrorCode
from jikuai.domain.villages.model import PeerRating
from jikuai.domain.villages.rosters import (
    Column,
    HouseholdFacts,
    RosterRow,
    RowError,
    check_row,
    column_named,
)

TODAY = date(2026, 12, 5)
ID_BODY = "22018219800315123"
ID_NUMBER = ID_BODY + id_check_character(ID_BODY)


def row(**cells: str) -> RosterRow:
    values = {
        "name": "王建国",
        "id_number": ID_NUMBER,
        "phone": "13804310001",
        "family_size": "4",
        "land_area": "35.5",
        "main_business": "玉米种植",
        "annual_income": "80000",
        "existing_debts": "",
        "peer_rating": "GOOD",
        "reviewed_on": "2026-11-28",
        "reviewers": "王支书;李主任",
    } | cells
    return RosterRow(7, {Column(key): value for key, value in values.items()})


def faults(checked: HouseholdFacts | list[RowError]) -> list[tuple[Column | None, ErrorCode]]:
    assert isinstance(checked, list)
    return [(error.column, error.code) for error in checked]


def test_a_good_row_is_normalised() -> None:
    facts = check_row(
        row(
            name=" 王建国 ",
            id_number=f" {ID_NUMBER} ",
            phone="+86 138-0431-0001",
            annual_income="80,000.5",
            peer_rating="优秀",
        ),
        today=TODAY,
    )
    assert isinstance(facts, HouseholdFacts)
    assert (facts.line, facts.name, facts.id_number.value, facts.phone) == (
        7, "王建国", ID_NUMBER, "13804310001"
    )  # fmt: skip
    assert facts.annual_income == Decimal("80000.50")
    assert facts.existing_debts == Decimal("0.00")
    assert facts.land_area == Decimal("35.50")
    assert facts.peer_rating is PeerRating.EXCELLENT
    assert facts.id_number.birth_date == date(1980, 3, 15)


def test_every_wrong_field_is_reported() -> None:
    checked = check_row(
        row(
            name="",
            id_number=ID_BODY + ("0" if ID_NUMBER[-1] != "0" else "1"),
            phone="12345",
            family_size="0",
            land_area="1e9",
            main_business="x" * 61,
            annual_income="-1",
            existing_debts="lots",
            peer_rating="A",
            reviewed_on="2026-12-06",
            reviewers="y" * 101,
        ),
        today=TODAY,
    )
    assert faults(checked) == [
        (Column.NAME, ErrorCode.REQUIRED),
        (Column.ID_NUMBER, ErrorCode.INVALID_ID_NUMBER),
        (Column.PHONE, ErrorCode.INVALID_PHONE),
        (Column.FAMILY_SIZE, ErrorCode.INVALID_QUANTITY),
        (Column.LAND_AREA, ErrorCode.INVALID_QUANTITY),
        (Column.ANNUAL_INCOME, ErrorCode.INVALID_AMOUNT),
        (Column.EXISTING_DEBTS, ErrorCode.INVALID_AMOUNT),
        (Column.MAIN_BUSINESS, ErrorCode.INVALID_LENGTH),
        (Column.PEER_RATING, ErrorCode.INVALID_RATING),
        (Column.REVIEWED_ON, ErrorCode.INVALID_DATE),
        (Column.REVIEWERS, ErrorCode.INVALID_LENGTH),
    ]


@pytest.mark.parametrize(
    ("cells", "column", "code"),
    [
        ({"annual_income": "100.001"}, Column.ANNUAL_INCOME, ErrorCode.INVALID_AMOUNT),
        ({"annual_income": "NaN"}, Column.ANNUAL_INCOME, ErrorCode.INVALID_AMOUNT),
        ({"annual_income": "100000000"}, Column.ANNUAL_INCOME, ErrorCode.INVALID_AMOUNT),
        ({"family_size": "٣"}, Column.FAMILY_SIZE, ErrorCode.INVALID_QUANTITY),
        ({"family_size": "31"}, Column.FAMILY_SIZE, ErrorCode.INVALID_QUANTITY),
        ({"reviewed_on": "2026-02-30"}, Column.REVIEWED_ON, ErrorCode.INVALID_DATE),
        ({"reviewed_on": ""}, Column.REVIEWED_ON, ErrorCode.REQUIRED),
        ({"phone": ""}, Column.PHONE, ErrorCode.REQUIRED),
    ],
)
def test_one_wrong_field(cells: dict[str, str], column: Column, code: ErrorCode) -> None:
    assert faults(check_row(row(**cells), today=TODAY)) == [(column, code)]


def test_headers_in_english_or_chinese() -> None:
    assert column_named(" ID_Number ") is Column.ID_NUMBER
    assert column_named("耕地面积（亩）") is Column.LAND_AREA
    assert column_named("户主姓名") is Column.NAME
    assert column_named("备注") is None


@given(st.sampled_from(["80000", "80000.0", "80,000", "80000.00"]))
def test_the_same_facts_have_the_same_canonical_form(income: str) -> None:
    first = check_row(row(annual_income="80000"), today=TODAY)
    again = check_row(row(annual_income=income, name=" 王建国"), today=TODAY)
    assert isinstance(first, HouseholdFacts)
    assert isinstance(again, HouseholdFacts)
    assert first.canonical() == again.canonical()

"""A roster row (花名册) as it arrived, and the household facts it states once checked.

A roster comes from the village committee and the loan officer's visits: one row per household,
with the head of household's name, ID number and phone, the family's size, land and business,
an estimate of its income and debts, and the rating the village's peer review gave it. Every row
is checked on its own; each wrong field is reported with the row's number and a stable code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from jikuai.domain.customers.identity_numbers import (
    IdNumber,
    normalize_mobile,
    normalize_name,
    parse_id_number,
)
from jikuai.domain.shared.errors import ErrorCode
from jikuai.domain.shared.money import exact_cents
from jikuai.domain.villages.model import PeerRating

MAX_FAMILY_SIZE = 30
MAX_LAND_AREA = Decimal("100000")  # 亩; the largest family farms are a few thousand
MAX_AMOUNT = Decimal("99999999.99")  # CNY a year or owed; far above any household's
MAX_BUSINESS = 60
MAX_REVIEWERS = 100
_NUMBER_TEXT = 20
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AREA = Decimal("0.01")


class Column(StrEnum):
    """A roster column, named as in a file's header (an alias in Chinese is accepted)."""

    NAME = "name"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    FAMILY_SIZE = "family_size"
    LAND_AREA = "land_area"
    MAIN_BUSINESS = "main_business"
    ANNUAL_INCOME = "annual_income"
    EXISTING_DEBTS = "existing_debts"
    PEER_RATING = "peer_rating"
    REVIEWED_ON = "reviewed_on"
    REVIEWERS = "reviewers"


ALIASES: Mapping[str, Column] = {
    "户主姓名": Column.NAME,
    "姓名": Column.NAME,
    "身份证号": Column.ID_NUMBER,
    "身份证号码": Column.ID_NUMBER,
    "手机号": Column.PHONE,
    "手机号码": Column.PHONE,
    "联系电话": Column.PHONE,
    "家庭人口": Column.FAMILY_SIZE,
    "耕地面积": Column.LAND_AREA,
    "耕地面积(亩)": Column.LAND_AREA,
    "主营业务": Column.MAIN_BUSINESS,
    "年收入": Column.ANNUAL_INCOME,
    "家庭年收入": Column.ANNUAL_INCOME,
    "现有负债": Column.EXISTING_DEBTS,
    "评议等级": Column.PEER_RATING,
    "评议日期": Column.REVIEWED_ON,
    "评议人": Column.REVIEWERS,
}

PEER_RATING_NAMES: Mapping[str, PeerRating] = {
    **{rating.value: rating for rating in PeerRating},
    "优秀": PeerRating.EXCELLENT,
    "良好": PeerRating.GOOD,
    "一般": PeerRating.FAIR,
    "较差": PeerRating.POOR,
}


def column_named(header: str) -> Column | None:
    """The column a header cell names, in English or Chinese, whatever its case and spaces."""
    name = header.strip().replace("（", "(").replace("）", ")")
    alias = ALIASES.get(name)
    if alias is not None:
        return alias
    try:
        return Column(name.lower())
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class RowError:
    """One wrong field of a row (`column` None: the row as a whole, e.g. a repeated household)."""

    line: int
    column: Column | None
    code: ErrorCode


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One row as it arrived, every value as text. `line` is the sender's own count: a line of
    the file, the position in a batch."""

    line: int
    cells: Mapping[Column, str]

    def cell(self, column: Column) -> str:
        return self.cells.get(column, "").strip()


@dataclass(frozen=True, slots=True)
class HouseholdFacts:
    """A row's checked values, normalised as they are stored and indexed."""

    line: int
    name: str
    id_number: IdNumber
    phone: str
    family_size: int
    land_area: Decimal
    main_business: str
    annual_income: Decimal
    existing_debts: Decimal
    peer_rating: PeerRating
    reviewed_on: date
    reviewers: str

    def canonical(self) -> str:
        """The row as one string, the same for the same facts however they were written: what
        the row's digest is computed over."""
        return "\x1f".join(
            (
                self.name,
                self.id_number.value,
                self.phone,
                str(self.family_size),
                str(self.land_area),
                self.main_business,
                str(self.annual_income),
                str(self.existing_debts),
                self.peer_rating.value,
                self.reviewed_on.isoformat(),
                self.reviewers,
            )
        )


def check_row(row: RosterRow, *, today: date) -> HouseholdFacts | list[RowError]:
    """The row's facts, or every wrong field of it."""
    errors: list[RowError] = []

    def fail(column: Column, code: ErrorCode) -> None:
        errors.append(RowError(row.line, column, code))

    name = normalize_name(row.cell(Column.NAME))
    if name is None:
        fail(Column.NAME, _missing_or(row, Column.NAME, ErrorCode.INVALID_NAME))
    id_number = parse_id_number(row.cell(Column.ID_NUMBER), today=today)
    if id_number is None:
        fail(Column.ID_NUMBER, _missing_or(row, Column.ID_NUMBER, ErrorCode.INVALID_ID_NUMBER))
    phone = normalize_mobile(row.cell(Column.PHONE))
    if phone is None:
        fail(Column.PHONE, _missing_or(row, Column.PHONE, ErrorCode.INVALID_PHONE))
    family_size = _count(row.cell(Column.FAMILY_SIZE))
    if family_size is None:
        fail(Column.FAMILY_SIZE, _missing_or(row, Column.FAMILY_SIZE, ErrorCode.INVALID_QUANTITY))
    land_area = _decimal(row.cell(Column.LAND_AREA), MAX_LAND_AREA)
    if land_area is None:
        fail(Column.LAND_AREA, _missing_or(row, Column.LAND_AREA, ErrorCode.INVALID_QUANTITY))
    income = _decimal(row.cell(Column.ANNUAL_INCOME), MAX_AMOUNT)
    if income is None:
        fail(Column.ANNUAL_INCOME, _missing_or(row, Column.ANNUAL_INCOME, ErrorCode.INVALID_AMOUNT))
    debts = _decimal(row.cell(Column.EXISTING_DEBTS) or "0", MAX_AMOUNT)
    if debts is None:
        fail(Column.EXISTING_DEBTS, ErrorCode.INVALID_AMOUNT)
    business = row.cell(Column.MAIN_BUSINESS)
    if len(business) > MAX_BUSINESS:
        fail(Column.MAIN_BUSINESS, ErrorCode.INVALID_LENGTH)
    rating = PEER_RATING_NAMES.get(row.cell(Column.PEER_RATING).upper())
    if rating is None:
        fail(Column.PEER_RATING, _missing_or(row, Column.PEER_RATING, ErrorCode.INVALID_RATING))
    reviewed_on = _day(row.cell(Column.REVIEWED_ON), today)
    if reviewed_on is None:
        fail(Column.REVIEWED_ON, _missing_or(row, Column.REVIEWED_ON, ErrorCode.INVALID_DATE))
    reviewers = row.cell(Column.REVIEWERS)
    if len(reviewers) > MAX_REVIEWERS:
        fail(Column.REVIEWERS, ErrorCode.INVALID_LENGTH)
    if (
        errors
        or name is None
        or id_number is None
        or phone is None
        or family_size is None
        or land_area is None
        or income is None
        or debts is None
        or rating is None
        or reviewed_on is None
    ):
        return errors
    return HouseholdFacts(
        line=row.line,
        name=name,
        id_number=id_number,
        phone=phone,
        family_size=family_size,
        land_area=land_area,
        main_business=business,
        annual_income=income,
        existing_debts=debts,
        peer_rating=rating,
        reviewed_on=reviewed_on,
        reviewers=reviewers,
    )


def _missing_or(row: RosterRow, column: Column, code: ErrorCode) -> ErrorCode:
    return code if row.cell(column) else ErrorCode.REQUIRED


def _count(text: str) -> int | None:
    """A family's size: a whole number of people, at least one."""
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_FAMILY_SIZE else None


def _decimal(text: str, ceiling: Decimal) -> Decimal | None:
    """A non-negative amount to the cent (an area to the hundredth of a mu), at most `ceiling`;
    thousands separators are accepted, as spreadsheets write them."""
    text = text.replace(",", "")
    if not text or len(text) > _NUMBER_TEXT:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or not 0 <= number <= ceiling:
        return None
    return exact_cents(number)


def _day(text: str, today: date) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if day <= today else None

"""Daily facts imported from core banking (核心系统), which holds the deposits: deposit balances,
low-cost deposit balances, social security cards issued and activated, per staff member, per
customer or for the whole institution.

An import is a list of rows as they arrived (the lines of a file, the items of a mutation's
input). Every row is checked on its own and every bad field of it is reported with the row's
number; the good rows are saved. A fact is identified by (institution, date, source, key), so
rows sent again change nothing and a corrected value replaces the one before.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from jikuai.domain.customers.identity_numbers import parse_id_number
from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.performance.access import may_import_facts
from jikuai.domain.performance.freshness import forget_figures
from jikuai.domain.performance.indicators import BEGINNING, IMPORTED_MEASURES, Measure
from jikuai.domain.performance.model import PLATFORM_SOURCE, Fact
from jikuai.domain.performance.ports import ResultCache
from jikuai.domain.ports import Repositories, UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.money import exact_cents
from jikuai.domain.tenancy.actors import Actor

MAX_ROWS = 1000  # rows per call of the API, and per transaction of the command
MAX_KEY = 64
# Under a trillion yuan a fact: far above any real balance, and the sums of many facts still fit
# the column's 64-bit count of fen.
MAX_VALUE = Decimal("999999999999.99")
_MAX_VALUE_TEXT = 32
_SOURCE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COUNTED = frozenset(
    {Measure.SOCIAL_SECURITY_CARDS_ISSUED, Measure.SOCIAL_SECURITY_CARDS_ACTIVATED}
)

IdNumberIndex = Callable[[str], bytes]  # the blind index of a normalized ID number


class RowField(StrEnum):
    """A field of a row, named as in the file's header."""

    DATE = "date"
    SOURCE = "source"
    KEY = "key"
    MEASURE = "measure"
    STAFF = "staff"
    CUSTOMER_ID_NUMBER = "customer_id_number"
    VALUE = "value"


_FIELD_ORDER = {field: position for position, field in enumerate(RowField)}


@dataclass(frozen=True, slots=True)
class FactRow:
    """One row as it arrived, every value as text ("" when absent). `number` is the sender's
    own count: a line of the file, an index in the input."""

    number: int
    date: str
    source: str
    key: str
    measure: str
    value: str
    staff: str = ""
    customer_id_number: str = ""


@dataclass(frozen=True, slots=True)
class RowError:
    number: int
    field: RowField | None
    code: ErrorCode


@dataclass(frozen=True, slots=True)
class ImportReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: tuple[RowError, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A row's own fields, checked: the valid values (None where invalid or absent) and the
    errors. The subject is only named here; it is looked up with the other rows'."""

    number: int
    fact_date: date | None
    source: str | None
    key: str | None
    measure: Measure | None
    value: Decimal | None
    staff_username: str | None
    id_number: str | None  # normalized, and a real one
    errors: tuple[RowError, ...]


# Who may import ---------------------------------------------------------------------------------


def admit(actor: Actor, rows: int) -> uuid.UUID:
    """The institution the actor imports into, for a call of `rows` rows; PermissionDenied for
    anyone but its admins and its systems, INVALID_LENGTH for more than MAX_ROWS."""
    if not may_import_facts(actor) or actor.institution_id is None:
        raise PermissionDenied
    if rows > MAX_ROWS:
        raise DomainError(ErrorCode.INVALID_LENGTH, field=("facts",))
    return actor.institution_id


# Importing --------------------------------------------------------------------------------------


async def import_facts(
    rows: Sequence[FactRow],
    *,
    actor: Actor,
    uow: UnitOfWork,
    cache: ResultCache | None,
    id_number_index: IdNumberIndex,
    now: datetime,
    today: date,
    request_id: str,
    known_errors: Sequence[RowError] = (),
) -> ImportReport:
    """An import by core banking or an institution admin: at most MAX_ROWS rows, one
    transaction, in the audit trail when it changed anything. `known_errors` are failures found
    before the rows came here (a sealed field that did not open); their rows are checked for
    the rest but not saved."""
    institution_id = admit(actor, len(rows))
    return await import_rows(
        uow,
        institution_id,
        rows,
        cache=cache,
        id_number_index=id_number_index,
        now=now,
        today=today,
        known_errors=known_errors,
        audit=(actor, request_id),
    )


async def import_rows(
    uow: UnitOfWork,
    institution_id: uuid.UUID,
    rows: Sequence[FactRow],
    *,
    cache: ResultCache | None,
    id_number_index: IdNumberIndex,
    now: datetime,
    today: date,
    known_errors: Sequence[RowError] = (),
    audit: tuple[Actor, str] | None = None,
) -> ImportReport:
    """Check the rows and save the good ones into the institution's facts, in one transaction;
    cached results are recomputed once anything changed. No permission check: the caller is
    trusted (the operator's command) or has checked. `audit`: who imports and the request's
    id, for the audit trail."""
    async with uow:
        facts, errors = await check_rows(
            uow, institution_id, rows, id_number_index=id_number_index, today=today
        )
        refused = {error.number for error in known_errors}
        saved = await uow.performance.save_facts(
            [fact for number, fact in facts if number not in refused], now=now
        )
        report = ImportReport(
            saved.inserted, saved.updated, saved.unchanged, _in_order([*errors, *known_errors])
        )
        changed = bool(saved.inserted or saved.updated)
        if changed and audit is not None:
            await uow.identity.add_audit_event(_audit_event(report, institution_id, audit, now))
        await uow.commit()
    if changed:
        await forget_figures(cache, institution_id)
    return report


def _audit_event(
    report: ImportReport, institution_id: uuid.UUID, audit: tuple[Actor, str], now: datetime
) -> AuditEvent:
    """An import moves figures that bonuses are paid on: who did it, and how much it changed."""
    actor, request_id = audit
    return AuditEvent.of(
        actor,
        "performance_facts.import",
        institution_id=institution_id,
        subject_type="Institution",
        subject_id=str(institution_id),
        request_id=request_id,
        now=now,
        details={
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "refused": len({error.number for error in report.errors}),
        },
    )


async def check_rows(
    repositories: Repositories,
    institution_id: uuid.UUID,
    rows: Sequence[FactRow],
    *,
    id_number_index: IdNumberIndex,
    today: date,
) -> tuple[list[tuple[int, Fact]], list[RowError]]:
    """Each good row's fact (with its number) and every error of the bad ones. The subjects of
    all rows are looked up together: one query for the staff, one for the customers."""
    parsed = [parse_row(row, today=today) for row in rows]
    staff_ids = await _staff_ids(
        repositories, institution_id, {row.staff_username for row in parsed if row.staff_username}
    )
    indexes = {row.id_number: id_number_index(row.id_number) for row in parsed if row.id_number}
    customer_ids = await _customer_ids(repositories, institution_id, indexes.values())
    facts: list[tuple[int, Fact]] = []
    errors: list[RowError] = []
    for row in parsed:
        staff_id = staff_ids.get(row.staff_username) if row.staff_username else None
        customer_id = customer_ids.get(indexes[row.id_number]) if row.id_number else None
        row_errors = [*row.errors, *_subject_errors(row, staff_id, customer_id)]
        if row_errors:
            errors.extend(_in_order(row_errors))
            continue
        facts.append((row.number, _fact(row, institution_id, staff_id, customer_id)))
    return facts, errors


# One row ----------------------------------------------------------------------------------------


def parse_row(row: FactRow, *, today: date) -> ParsedRow:
    """Check every field of the row that can be checked without the database."""
    errors: list[RowError] = []

    def fail(field: RowField, code: ErrorCode) -> None:
        errors.append(RowError(row.number, field, code))

    fact_date, date_error = _date(row.date.strip(), today)
    if date_error:
        fail(RowField.DATE, date_error)
    source, source_error = _source(row.source.strip())
    if source_error:
        fail(RowField.SOURCE, source_error)
    key, key_error = _key(row.key.strip())
    if key_error:
        fail(RowField.KEY, key_error)
    measure, measure_error = _measure(row.measure.strip())
    if measure_error:
        fail(RowField.MEASURE, measure_error)
    id_number = None
    if raw_id_number := row.customer_id_number.strip():
        parsed_id = parse_id_number(raw_id_number, today=today)
        if parsed_id is None:
            fail(RowField.CUSTOMER_ID_NUMBER, ErrorCode.INVALID_ID_NUMBER)
        id_number = parsed_id.value if parsed_id else None
    staff_username = row.staff.strip() or None
    if staff_username and raw_id_number:
        fail(RowField.CUSTOMER_ID_NUMBER, ErrorCode.INVALID_SUBJECT)
    value, value_error = _value(row.value.strip(), measure)
    if value_error:
        fail(RowField.VALUE, value_error)
    return ParsedRow(
        row.number,
        fact_date,
        source,
        key,
        measure,
        value,
        staff_username,
        id_number,
        tuple(errors),
    )


def _date(text: str, today: date) -> tuple[date | None, ErrorCode | None]:
    """An ISO date (2026-11-30) from 2000 up to today: a fact is about a day that has been."""
    if not text:
        return None, ErrorCode.REQUIRED
    if not _DATE.fullmatch(text):
        return None, ErrorCode.INVALID_DATE
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, ErrorCode.INVALID_DATE
    if not BEGINNING <= day <= today:
        return None, ErrorCode.INVALID_DATE
    return day, None


def _source(text: str) -> tuple[str | None, ErrorCode | None]:
    """The reporting system: 1–32 letters, digits, _ or -; never the platform's own."""
    if not text:
        return None, ErrorCode.REQUIRED
    if not _SOURCE.fullmatch(text) or text.upper() == PLATFORM_SOURCE:
        return None, ErrorCode.INVALID_SOURCE
    return text, None


def _key(text: str) -> tuple[str | None, ErrorCode | None]:
    """The reporting system's own identifier of the fact within its date, 1–64 characters."""
    if not text:
        return None, ErrorCode.REQUIRED
    if len(text) > MAX_KEY:
        return None, ErrorCode.INVALID_LENGTH
    return text, None


def _measure(text: str) -> tuple[Measure | None, ErrorCode | None]:
    if not text:
        return None, ErrorCode.REQUIRED
    try:
        measure = Measure(text.upper())
    except ValueError:
        return None, ErrorCode.INVALID_MEASURE
    if measure not in IMPORTED_MEASURES:
        return None, ErrorCode.INVALID_MEASURE
    return measure, None


def _value(text: str, measure: Measure | None) -> tuple[Decimal | None, ErrorCode | None]:
    """CNY to the fen, or a whole count of cards; from zero up to MAX_VALUE."""
    if not text:
        return None, ErrorCode.REQUIRED
    if len(text) > _MAX_VALUE_TEXT:
        return None, ErrorCode.INVALID_AMOUNT
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, ErrorCode.INVALID_AMOUNT
    if not value.is_finite() or not 0 <= value <= MAX_VALUE:
        return None, ErrorCode.INVALID_AMOUNT
    written = exact_cents(value)
    if written is None or (measure in _COUNTED and written != written.to_integral_value()):
        return None, ErrorCode.INVALID_AMOUNT
    return abs(written), None  # abs: "-0" is zero


# Subjects ---------------------------------------------------------------------------------------


async def _staff_ids(
    repositories: Repositories, institution_id: uuid.UUID, usernames: Collection[str]
) -> dict[str, uuid.UUID]:
    if not usernames:
        return {}
    found = await repositories.tenancy.staff_by_usernames(institution_id, sorted(usernames))
    return {member.username: member.id for member in found}


async def _customer_ids(
    repositories: Repositories, institution_id: uuid.UUID, indexes: Collection[bytes]
) -> dict[bytes, uuid.UUID]:
    if not indexes:
        return {}
    found = await repositories.customers.by_id_number_bidx(institution_id, sorted(set(indexes)))
    return {customer.id_number_bidx: customer.id for customer in found}


def _subject_errors(
    row: ParsedRow, staff_id: uuid.UUID | None, customer_id: uuid.UUID | None
) -> list[RowError]:
    """A named staff member or customer the institution does not have is NOT_FOUND, whether
    they exist elsewhere or not."""
    errors = []
    if row.staff_username and staff_id is None:
        errors.append(RowError(row.number, RowField.STAFF, ErrorCode.NOT_FOUND))
    if row.id_number and customer_id is None:
        errors.append(RowError(row.number, RowField.CUSTOMER_ID_NUMBER, ErrorCode.NOT_FOUND))
    return errors


def _fact(
    row: ParsedRow,
    institution_id: uuid.UUID,
    staff_id: uuid.UUID | None,
    customer_id: uuid.UUID | None,
) -> Fact:
    """The fact of a row without errors, whose fields are therefore all set."""
    if (
        row.fact_date is None
        or row.source is None
        or row.key is None
        or row.measure is None
        or row.value is None
    ):
        raise ValueError(f"row {row.number} has errors")
    return Fact(
        institution_id=institution_id,
        fact_date=row.fact_date,
        source=row.source,
        key=row.key,
        measure=row.measure,
        staff_id=staff_id,
        customer_id=customer_id,
        value=row.value,
    )


def _in_order(errors: Sequence[RowError]) -> tuple[RowError, ...]:
    """By row, and within a row in the order of the fields."""
    return tuple(
        sorted(
            errors,
            key=lambda error: (
                error.number,
                -1 if error.field is None else _FIELD_ORDER[error.field],
            ),
        )
    )

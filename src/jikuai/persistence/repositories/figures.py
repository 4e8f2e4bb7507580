"""The SQL behind performance figures: every measure as rows of contributions, aggregated.

Each measure is one query shape yielding contribution rows (institution, date, the customer or
merchant whose manager it counts for, what it is, and its value in hundredths: fen for money,
100 per item for counts and points). A figure aggregates those rows, grouped by the staff member
who managed the subject on the row's date, or by institution; `myPerformance` lists the same rows.
Everything is computed in the database; Python sees one row per staff member and measure.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Date,
    FromClause,
    Select,
    Subquery,
    Uuid,
    and_,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from jikuai.domain.credit.lines import CreditLineStatus
from jikuai.domain.credit.model import Classification, LoanStatus
from jikuai.domain.merchants.model import MerchantStatus
from jikuai.domain.performance.indicators import Measure, Reading, ReadingKind
from jikuai.domain.performance.model import SubjectKind
from jikuai.domain.performance.ports import ContributionKind
from jikuai.domain.points.model import RedemptionStatus
from jikuai.domain.shared.calendar import BUSINESS_TIMEZONE
from jikuai.persistence.tables.credit import credit_lines, loans
from jikuai.persistence.tables.customers import customers
from jikuai.persistence.tables.merchants import merchants
from jikuai.persistence.tables.performance import performance_facts, portfolio_assignments
from jikuai.persistence.tables.points import redemptions
from jikuai.persistence.tables.tenancy import institutions

HUNDRED = 100


class local_date(FunctionElement[date]):
    """The business date (Asia/Shanghai, which keeps no daylight saving) of a UTC timestamp."""

    type = Date()
    inherit_cache = True
    name = "local_date"


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(timezone('Asia/Shanghai', {compiler.process(element.clauses, **kw)}))::date"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


def _instant(day: date) -> datetime:
    """The first instant of a business date."""
    return datetime.combine(day, time(), BUSINESS_TIMEZONE)


def _day_after(day: date) -> datetime:
    """The first instant after a business date."""
    return _instant(day + timedelta(days=1))


def _units(column: ColumnElement[Any]) -> ColumnElement[int]:
    """A money column as its stored whole fen."""
    return type_coerce(column, BigInteger)


@dataclass(frozen=True, slots=True)
class _Event:
    """How one event measure reads its rows within [start, end]."""

    source: FromClause
    on: ColumnElement[date]
    subject_kind: SubjectKind
    subject_id: ColumnElement[uuid.UUID]
    kind: ContributionKind
    reference_id: ColumnElement[uuid.UUID]
    value: ColumnElement[int]
    institution_id: ColumnElement[uuid.UUID]
    conditions: tuple[ColumnElement[bool], ...]
    window_column: ColumnElement[Any]  # filtered by date or, for timestamps, by instant
    distinct: bool = False  # counts each subject once (customers granted lines, merchants active)

    def rows(self, start: date | None, end: date) -> Select[Any]:
        """The contribution rows dated in [start, end] (from the beginning when start is None)."""
        return select(
            self.institution_id.label("institution_id"),
            self.on.label("on"),
            literal(self.subject_kind.value).label("subject_kind"),
            self.subject_id.label("subject_id"),
            self.reference_id.label("reference_id"),
            self.value.label("value"),
        ).where(*self.conditions, *self._window(start, end))

    def uniform(
        self, reading: Reading, institution_ids: Sequence[uuid.UUID], tag: int
    ) -> Select[Any]:
        """The rows of a reading in the shape `totals` unites."""
        return select(
            self.institution_id.label("institution_id"),
            self.on.label("on"),
            literal(self.subject_kind.value).label("subject_kind"),
            self.subject_id.label("subject_id"),
            cast(null(), Uuid).label("staff_id"),
            self.value.label("value"),
            literal(tag).label("tag"),
        ).where(
            self.institution_id.in_(institution_ids),
            *self.conditions,
            *self._window(reading.start, reading.end),
        )

    def _window(self, start: date | None, end: date) -> list[ColumnElement[bool]]:
        column = self.window_column
        if isinstance(column.type, Date):
            return [column <= end] + ([column >= start] if start else [])
        return [column < _day_after(end)] + ([column >= _instant(start)] if start else [])


_COMPLETED = redemptions.c.status == RedemptionStatus.COMPLETED.value
# A merchant is onboarded the day it is first managed: approval hands it to its officer.
_first_managed = (
    select(
        portfolio_assignments.c.institution_id,
        portfolio_assignments.c.subject_id,
        func.min(portfolio_assignments.c.valid_from).label("on"),
    )
    .where(portfolio_assignments.c.subject_kind == SubjectKind.MERCHANT.value)
    .group_by(portfolio_assignments.c.institution_id, portfolio_assignments.c.subject_id)
    .subquery("first_managed")
)


def _loan_event(value: ColumnElement[int]) -> _Event:
    return _Event(
        loans, loans.c.start_date, SubjectKind.CUSTOMER, loans.c.customer_id,
        ContributionKind.LOAN, loans.c.id, value, loans.c.institution_id, (), loans.c.start_date,
    )  # fmt: skip


def _redemption_event(value: ColumnElement[int], *, distinct: bool) -> _Event:
    return _Event(
        redemptions, redemptions.c.business_date, SubjectKind.MERCHANT, redemptions.c.merchant_id,
        ContributionKind.MERCHANT if distinct else ContributionKind.REDEMPTION,
        redemptions.c.merchant_id if distinct else redemptions.c.id, value,
        redemptions.c.institution_id, (_COMPLETED,), redemptions.c.business_date,
        distinct=distinct,
    )  # fmt: skip


_EVENTS: dict[Measure, _Event] = {
    Measure.LOANS_DISBURSED_AMOUNT: _loan_event(_units(loans.c.principal)),
    Measure.LOANS_DISBURSED_COUNT: _loan_event(literal(HUNDRED, BigInteger)),
    Measure.NEW_CREDIT_LINES: _Event(
        credit_lines, local_date(credit_lines.c.created_at), SubjectKind.CUSTOMER,
        credit_lines.c.customer_id, ContributionKind.CUSTOMER, credit_lines.c.customer_id,
        literal(HUNDRED, BigInteger), credit_lines.c.institution_id, (),
        credit_lines.c.created_at, distinct=True,
    ),
    Measure.NEW_CUSTOMERS: _Event(
        customers, local_date(customers.c.created_at), SubjectKind.CUSTOMER, customers.c.id,
        ContributionKind.CUSTOMER, customers.c.id, literal(HUNDRED, BigInteger),
        customers.c.institution_id, (), customers.c.created_at,
    ),
    Measure.REFERRALS: _Event(
        customers, local_date(customers.c.created_at), SubjectKind.CUSTOMER,
        customers.c.referred_by_id, ContributionKind.CUSTOMER, customers.c.id,
        literal(HUNDRED, BigInteger), customers.c.institution_id,
        (customers.c.referred_by_id.is_not(None),), customers.c.created_at,
    ),
    Measure.MERCHANTS_ONBOARDED: _Event(
        _first_managed, _first_managed.c.on, SubjectKind.MERCHANT, _first_managed.c.subject_id,
        ContributionKind.MERCHANT, _first_managed.c.subject_id, literal(HUNDRED, BigInteger),
        _first_managed.c.institution_id, (), _first_managed.c.on,
    ),
    Measure.ACTIVE_MERCHANTS: _redemption_event(literal(HUNDRED, BigInteger), distinct=True),
    Measure.POINTS_REDEEMED: _redemption_event(
        redemptions.c.points * HUNDRED, distinct=False
    ),
}  # fmt: skip


def _manager_at(rows: FromClause) -> tuple[FromClause, ColumnElement[uuid.UUID]]:
    """`rows` joined to the assignment in force on each row's date, and its staff column."""
    assignment = portfolio_assignments.alias("assignment")
    joined = rows.outerjoin(
        assignment,
        and_(
            assignment.c.institution_id == rows.c.institution_id,
            assignment.c.subject_kind == rows.c.subject_kind,
            assignment.c.subject_id == rows.c.subject_id,
            assignment.c.valid_from <= rows.c.on,
            or_(assignment.c.valid_until.is_(None), assignment.c.valid_until > rows.c.on),
        ),
    )
    return joined, assignment.c.staff_id


# Totals ---------------------------------------------------------------------------------------


def totals(
    wanted: Sequence[Reading], institution_ids: Sequence[uuid.UUID], *, by_staff: bool
) -> CompoundSelect[tuple[int, uuid.UUID, int, int, int]] | Select[Any]:
    """(reading's place in `wanted`, staff member or institution, total in hundredths, distinct
    subjects, days with figures) of every reading, in one statement that joins the assignments
    once for all of them. By staff, a key may come twice (its facts named directly, and what it
    managed): the caller adds them up."""
    rows = union_all(
        *(_uniform_rows(reading, institution_ids, tag) for tag, reading in enumerate(wanted))
    ).cte("contribution")
    figures = (
        func.sum(rows.c.value),
        func.count(rows.c.subject_id.distinct()),
        func.count(rows.c.on.distinct()),
    )
    if not by_staff:
        return select(rows.c.tag, rows.c.institution_id, *figures).group_by(
            rows.c.tag, rows.c.institution_id
        )
    named = (
        select(rows.c.tag, rows.c.staff_id, *figures)
        .where(rows.c.staff_id.is_not(None))
        .group_by(rows.c.tag, rows.c.staff_id)
    )
    joined, manager = _manager_at(rows)
    managed = (
        select(rows.c.tag, manager, *figures)
        .select_from(joined)
        .where(rows.c.staff_id.is_(None), manager.is_not(None))
        .group_by(rows.c.tag, manager)
    )
    return named.union_all(managed)


def counts_subjects(measure: Measure) -> bool:
    """Whether a measure counts distinct customers or merchants rather than summing values."""
    event = _EVENTS.get(measure)
    return event is not None and event.distinct


def _uniform_rows(reading: Reading, institution_ids: Sequence[uuid.UUID], tag: int) -> Select[Any]:
    """A reading's rows in the one shape every reading shares: institution, date, subject, the
    staff member a fact names directly (None for events), value in hundredths, and `tag`."""
    event = _EVENTS.get(reading.measure)
    if event is None:
        facts = performance_facts
        return _covering(
            reading,
            institution_ids,
            select(
                facts.c.institution_id,
                facts.c.fact_date.label("on"),
                literal(SubjectKind.CUSTOMER.value).label("subject_kind"),
                facts.c.customer_id.label("subject_id"),
                facts.c.staff_id,
                _units(facts.c.value).label("value"),
                literal(tag).label("tag"),
            ),
        )
    if reading.kind is not ReadingKind.WINDOW:
        raise ValueError(f"{reading.measure} has no daily position")
    return event.uniform(reading, institution_ids, tag)


# Event readings -------------------------------------------------------------------------------


def event_contributions(
    reading: Reading, institution_id: uuid.UUID, staff_id: uuid.UUID
) -> Select[Any]:
    """(date, reference, value in hundredths) of one staff member's events, by date."""
    event = _EVENTS[reading.measure]
    rows = (
        event.rows(reading.start, reading.end)
        .where(event.institution_id == institution_id)
        .subquery("contribution")
    )
    joined, staff = _manager_at(rows)
    if event.distinct:
        return (
            select(func.min(rows.c.on).label("on"), rows.c.subject_id.label("reference_id"),
                   literal(HUNDRED, BigInteger).label("value"))
            .select_from(joined)
            .where(staff == staff_id)
            .group_by(rows.c.subject_id)
            .order_by(func.min(rows.c.on), rows.c.subject_id)
        )  # fmt: skip
    return (
        select(rows.c.on, rows.c.reference_id, rows.c.value)
        .select_from(joined)
        .where(staff == staff_id)
        .order_by(rows.c.on, rows.c.reference_id)
    )


def event_kind(measure: Measure) -> ContributionKind:
    return _EVENTS[measure].kind


# Fact readings --------------------------------------------------------------------------------


def _fact_rows(reading: Reading, institution_ids: Sequence[uuid.UUID]) -> Select[Any]:
    """The facts a reading covers, as contribution rows."""
    facts = performance_facts
    return _covering(
        reading,
        institution_ids,
        select(
            facts.c.institution_id,
            facts.c.fact_date.label("on"),
            facts.c.source,
            facts.c.key,
            facts.c.staff_id,
            facts.c.customer_id.label("subject_id"),
            literal(SubjectKind.CUSTOMER.value).label("subject_kind"),
            _units(facts.c.value).label("value"),
        ),
    )


def _covering(
    reading: Reading, institution_ids: Sequence[uuid.UUID], query: Select[Any]
) -> Select[Any]:
    """`query` over the facts limited to those a reading covers: its window, or for a position
    the latest day with facts on or before its end, per institution."""
    facts = performance_facts
    query = query.where(
        facts.c.institution_id.in_(institution_ids), facts.c.metric == reading.measure.value
    )
    if reading.kind is ReadingKind.POSITION:
        days = _last_days(reading, institution_ids)
        return query.join(
            days,
            and_(days.c.institution_id == facts.c.institution_id, days.c.day == facts.c.fact_date),
        )
    return query.where(facts.c.fact_date.between(reading.start, reading.end))


def _last_days(reading: Reading, institution_ids: Sequence[uuid.UUID]) -> Subquery:
    """Each institution's latest day with facts of the reading's measure, on or before its end.

    One `max` per institution, each a short backward walk of the (institution, metric, date)
    index; correlating it with every fact row instead would walk the index once per row.
    """
    latest = performance_facts.alias("latest")
    day = (
        select(func.max(latest.c.fact_date))
        .where(
            latest.c.institution_id == institutions.c.id,
            latest.c.metric == reading.measure.value,
            latest.c.fact_date <= reading.end,
        )
        .scalar_subquery()
    )
    return (
        select(institutions.c.id.label("institution_id"), day.label("day"))
        .where(institutions.c.id.in_(institution_ids))
        .subquery("last_day")
    )


def fact_days(reading: Reading, institution_id: uuid.UUID) -> Select[tuple[int]]:
    """The number of days with facts in a reading's window (an average's divisor)."""
    rows = _fact_rows(reading, [institution_id]).subquery("fact")
    return select(func.count(rows.c.on.distinct()))


def fact_contributions(
    reading: Reading, institution_id: uuid.UUID, staff_id: uuid.UUID
) -> Select[Any]:
    """(date, source, key, value in hundredths) of the facts behind one staff member's reading."""
    rows = _fact_rows(reading, [institution_id]).subquery("fact")
    joined, manager = _manager_at(rows)
    return (
        select(rows.c.on, rows.c.source, rows.c.key, rows.c.value)
        .select_from(joined)
        .where(func.coalesce(rows.c.staff_id, manager) == staff_id)
        .order_by(rows.c.on, rows.c.source, rows.c.key)
    )


def latest_fact_dates(
    institution_id: uuid.UUID, measures: Sequence[Measure], on_or_before: date
) -> Select[tuple[str, date]]:
    facts = performance_facts
    return (
        select(facts.c.metric, func.max(facts.c.fact_date))
        .where(
            facts.c.institution_id == institution_id,
            facts.c.metric.in_([measure.value for measure in measures]),
            facts.c.fact_date <= on_or_before,
        )
        .group_by(facts.c.metric)
    )


# End-of-day positions ---------------------------------------------------------------------------

_NON_PERFORMING = [
    Classification.SUBSTANDARD.value,
    Classification.DOUBTFUL.value,
    Classification.LOSS.value,
]


def _customer_rows(
    source: FromClause,
    institution_id: uuid.UUID,
    on: date,
    customer_id: ColumnElement[uuid.UUID],
    value: ColumnElement[int],
    *conditions: ColumnElement[bool],
) -> Select[Any]:
    return (
        select(
            literal(institution_id, Uuid).label("institution_id"),
            literal(on, Date).label("on"),
            literal(SubjectKind.CUSTOMER.value).label("subject_kind"),
            customer_id.label("subject_id"),
            value.label("value"),
        )
        .select_from(source)
        .where(*conditions)
    )


def _served(institution_id: uuid.UUID, on: date) -> CompoundSelect[Any]:
    """Customers with a credit line in force or a loan outstanding on the day."""
    with_line = select(credit_lines.c.customer_id).where(
        credit_lines.c.institution_id == institution_id,
        credit_lines.c.status == CreditLineStatus.ACTIVE.value,
        credit_lines.c.valid_until >= on,
        credit_lines.c.created_at < _day_after(on),
    )
    with_loan = select(loans.c.customer_id).where(
        loans.c.institution_id == institution_id,
        loans.c.status == LoanStatus.ACTIVE.value,
        loans.c.start_date <= on,
    )
    return with_line.union(with_loan)


def position_rows(institution_id: uuid.UUID, on: date) -> dict[Measure, tuple[Select[Any], bool]]:
    """Each platform position of the day as contribution rows, and whether it counts distinct
    subjects rather than summing values."""
    open_loans = (
        loans.c.institution_id == institution_id,
        loans.c.status == LoanStatus.ACTIVE.value,
        loans.c.start_date <= on,
    )
    outstanding = _units(loans.c.outstanding_principal)
    classification = func.coalesce(loans.c.classification_override, loans.c.classification)
    served = _served(institution_id, on).subquery("served")
    registered = (
        customers.c.institution_id == institution_id,
        customers.c.village_id.is_not(None),
        customers.c.created_at < _day_after(on),
    )
    one = literal(HUNDRED, BigInteger)
    maintained = select(
        merchants.c.institution_id,
        literal(on, Date).label("on"),
        literal(SubjectKind.MERCHANT.value).label("subject_kind"),
        merchants.c.id.label("subject_id"),
        one.label("value"),
    ).where(
        merchants.c.institution_id == institution_id,
        merchants.c.status == MerchantStatus.APPROVED.value,
        merchants.c.reviewed_at < _day_after(on),
    )
    return {
        Measure.OUTSTANDING_BALANCE: (
            _customer_rows(
                loans, institution_id, on, loans.c.customer_id, outstanding, *open_loans
            ),
            False,
        ),
        Measure.OVERDUE_BALANCE: (
            _customer_rows(
                loans, institution_id, on, loans.c.customer_id, outstanding, *open_loans,
                loans.c.days_past_due > 0,
            ),
            False,
        ),
        Measure.NON_PERFORMING_BALANCE: (
            _customer_rows(
                loans, institution_id, on, loans.c.customer_id, outstanding, *open_loans,
                classification.in_(_NON_PERFORMING),
            ),
            False,
        ),
        Measure.CREDIT_LIMIT: (
            _customer_rows(
                credit_lines, institution_id, on, credit_lines.c.customer_id,
                _units(credit_lines.c.limit_amount),
                credit_lines.c.institution_id == institution_id,
                credit_lines.c.status == CreditLineStatus.ACTIVE.value,
                credit_lines.c.valid_until >= on,
                credit_lines.c.created_at < _day_after(on),
            ),
            False,
        ),
        Measure.HOUSEHOLDS_SERVED: (
            _customer_rows(served, institution_id, on, served.c.customer_id, one),
            True,
        ),
        Measure.VILLAGE_HOUSEHOLDS: (
            _customer_rows(customers, institution_id, on, customers.c.id, one, *registered),
            True,
        ),
        Measure.VILLAGE_HOUSEHOLDS_WITH_CREDIT: (
            _customer_rows(
                customers, institution_id, on, customers.c.id, one, *registered,
                customers.c.id.in_(select(served.c.customer_id)),
            ),
            True,
        ),
        Measure.MERCHANTS_MAINTAINED: (maintained, True),
    }  # fmt: skip


def position_totals(rows: Select[Any], *, distinct: bool) -> Select[tuple[uuid.UUID | None, int]]:
    """(manager or None for what nobody manages, total in hundredths) of a day's position."""
    subquery = rows.subquery("position")
    joined, staff = _manager_at(subquery)
    value = (
        func.count(subquery.c.subject_id.distinct()) * HUNDRED
        if distinct
        else func.sum(subquery.c.value)
    )
    return select(staff, value).select_from(joined).group_by(staff)


def position_key(measure: Measure, staff_id: uuid.UUID | None) -> str:
    """A platform position fact's key: one per measure and manager."""
    return f"{measure.value}:{staff_id.hex if staff_id else '-'}"

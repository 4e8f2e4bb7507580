"""The performance repository: portfolios, facts, schemes, closures and figures."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.performance.indicators import (
    EVENT_MEASURES,
    Measure,
    Reading,
    ReadingKind,
)
from jikuai.domain.performance.model import (
    PLATFORM_SOURCE,
    Assignment,
    Closure,
    Fact,
    IndicatorScore,
    Member,
    Scheme,
    SchemeIndicator,
    StaffResult,
    SubjectKind,
    Target,
)
from jikuai.domain.performance.periods import PeriodKind
from jikuai.domain.performance.ports import Contribution, ContributionKind, SavedFacts
from jikuai.domain.tenancy.model import Role
from jikuai.persistence.repositories import figures
from jikuai.persistence.repositories.identity import insert_unless_exists
from jikuai.persistence.tables.performance import (
    assessment_schemes,
    performance_closures,
    performance_facts,
    performance_snapshots,
    portfolio_assignments,
)
from jikuai.persistence.tables.tenancy import staff

_FACT_BATCH = 500  # rows per statement, well under SQLite's bound-parameter limit
_FACT_KEY = ["institution_id", "fact_date", "source", "key"]


def _hundredths(units: int | None) -> Decimal:
    return Decimal(int(units or 0)).scaleb(-2)


class SqlPerformanceRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # Portfolios ---------------------------------------------------------------------------------

    async def current_assignments(
        self, institution_id: uuid.UUID, kind: SubjectKind, subject_ids: Sequence[uuid.UUID]
    ) -> Sequence[Assignment]:
        if not subject_ids:
            return []
        result = await self._connection.execute(
            select(portfolio_assignments).where(
                portfolio_assignments.c.institution_id == institution_id,
                portfolio_assignments.c.subject_kind == kind.value,
                portfolio_assignments.c.subject_id.in_(subject_ids),
                portfolio_assignments.c.valid_until.is_(None),
            )
        )
        return [_assignment(row) for row in result]

    async def assignment_history(
        self, institution_id: uuid.UUID, kind: SubjectKind, subject_id: uuid.UUID
    ) -> Sequence[Assignment]:
        result = await self._connection.execute(
            select(portfolio_assignments)
            .where(
                portfolio_assignments.c.institution_id == institution_id,
                portfolio_assignments.c.subject_kind == kind.value,
                portfolio_assignments.c.subject_id == subject_id,
            )
            .order_by(portfolio_assignments.c.valid_from, portfolio_assignments.c.created_at)
        )
        return [_assignment(row) for row in result]

    async def add_assignment(self, assignment: Assignment) -> None:
        values = vars_of(assignment) | {"subject_kind": assignment.subject_kind.value}
        await self._connection.execute(insert(portfolio_assignments).values(**values))

    async def end_assignment(self, assignment_id: uuid.UUID, valid_until: date) -> bool:
        result = await self._connection.execute(
            update(portfolio_assignments)
            .where(
                portfolio_assignments.c.id == assignment_id,
                portfolio_assignments.c.valid_until.is_(None),
            )
            .values(valid_until=valid_until)
        )
        return bool(result.rowcount)

    # Facts ------------------------------------------------------------------------------------

    async def save_facts(self, facts: Sequence[Fact], *, now: datetime) -> SavedFacts:
        inserted = updated = unchanged = 0
        for start in range(0, len(facts), _FACT_BATCH):
            batch = _last_of_each_key(facts[start : start + _FACT_BATCH])
            known = await self._known_facts(batch)
            added = await self._insert_new([f for f in batch if _fact_id(f) not in known], now)
            late = [f for f in batch if _fact_id(f) not in known and _fact_id(f) not in added]
            if late:  # inserted by a concurrent import since they were looked for
                known |= await self._known_facts(late)
            changed = [
                fact
                for fact in batch
                if _fact_id(fact) not in added and known.get(_fact_id(fact)) != _fact_content(fact)
            ]
            if changed:
                await self._connection.execute(
                    _REPLACE_FACT, [_replacement(fact, now) for fact in changed]
                )
            inserted += len(added)
            updated += len(changed)
            unchanged += len(batch) - len(added) - len(changed)
        return SavedFacts(inserted, updated, unchanged)

    async def _known_facts(self, batch: Sequence[Fact]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """The stored content of those of the facts that exist, by identity. Each key column is
        matched with its own IN, which both databases answer from the primary key (SQLite would
        scan the whole table for a row-value IN); the few other rows that also match are
        dropped here."""
        facts = performance_facts
        wanted = {_fact_id(fact) for fact in batch}
        result = await self._connection.execute(
            select(
                facts.c.institution_id, facts.c.fact_date, facts.c.source, facts.c.key,
                facts.c.metric, facts.c.staff_id, facts.c.customer_id, facts.c.value,
            ).where(
                *(
                    facts.c[name].in_(sorted({identity[column] for identity in wanted}))
                    for column, name in enumerate(_FACT_KEY)
                )
            )
        )  # fmt: skip
        found = ((tuple(row[:4]), tuple(row[4:])) for row in result)
        return {identity: content for identity, content in found if identity in wanted}

    async def _insert_new(self, batch: Sequence[Fact], now: datetime) -> set[tuple[Any, ...]]:
        """Insert in one statement, skipping any fact a concurrent import inserted first (it
        waits for that import's transaction); the identities of the facts inserted."""
        if not batch:
            return set()
        postgres = self._connection.dialect.name == "postgresql"
        statement = (
            (postgresql.insert if postgres else sqlite.insert)(performance_facts)
            .values([_fact_row(fact, now) for fact in batch])
            .on_conflict_do_nothing(index_elements=_FACT_KEY)
            .returning(*(performance_facts.c[name] for name in _FACT_KEY))
        )
        return {tuple(row) for row in await self._connection.execute(statement)}

    async def record_positions(self, institution_id: uuid.UUID, on: date, *, now: datetime) -> int:
        await self._connection.execute(
            delete(performance_facts).where(
                performance_facts.c.institution_id == institution_id,
                performance_facts.c.fact_date == on,
                performance_facts.c.source == PLATFORM_SOURCE,
            )
        )
        rows: list[dict[str, Any]] = []
        for measure, (source, distinct) in figures.position_rows(institution_id, on).items():
            result = await self._connection.execute(
                figures.position_totals(source, distinct=distinct)
            )
            rows.extend(
                _fact_row(
                    Fact(
                        institution_id, on, PLATFORM_SOURCE,
                        figures.position_key(measure, staff_id), measure, staff_id, None,
                        _hundredths(units),
                    ),
                    now,
                )
                for staff_id, units in result
            )  # fmt: skip
        if rows:
            await self._connection.execute(insert(performance_facts), rows)
        return len(rows)

    # Figures --------------------------------------------------------------------------------

    async def read(
        self,
        institution_ids: Sequence[uuid.UUID],
        wanted: Sequence[Reading],
        *,
        by_staff: bool,
    ) -> Mapping[Reading, Mapping[uuid.UUID, Decimal]]:
        readings = list(dict.fromkeys(wanted))
        values: dict[Reading, dict[uuid.UUID, Decimal]] = {reading: {} for reading in readings}
        if not readings or not institution_ids:
            return values
        result = await self._connection.execute(
            figures.totals(readings, institution_ids, by_staff=by_staff)
        )
        for tag, key, total, subjects, days in result:
            reading = readings[tag]
            counted = (
                subjects * figures.HUNDRED if figures.counts_subjects(reading.measure) else total
            )
            values[reading][key] = _hundredths(counted)
            if reading.kind is ReadingKind.AVERAGE and not by_staff:
                values[reading][key] /= days
        if by_staff:
            await self._average_over_reporting_days(institution_ids, values)
        return values

    async def _average_over_reporting_days(
        self,
        institution_ids: Sequence[uuid.UUID],
        values: dict[Reading, dict[uuid.UUID, Decimal]],
    ) -> None:
        """A staff member's daily average is over the institution's reporting days, not the
        days their own figures happen to cover."""
        (institution_id,) = institution_ids
        for reading, per_staff in values.items():
            if reading.kind is not ReadingKind.AVERAGE or not per_staff:
                continue
            days = await self._connection.scalar(figures.fact_days(reading, institution_id))
            for staff_id in per_staff:
                per_staff[staff_id] /= days or 1

    async def contributions(
        self,
        institution_id: uuid.UUID,
        staff_id: uuid.UUID,
        reading: Reading,
        *,
        offset: int,
        limit: int,
    ) -> Sequence[Contribution]:
        if reading.measure in EVENT_MEASURES:
            kind = figures.event_kind(reading.measure)
            result = await self._connection.execute(
                figures.event_contributions(reading, institution_id, staff_id)
                .offset(offset)
                .limit(limit)
            )
            return [
                Contribution(on, kind, reference_id, None, None, _hundredths(units))
                for on, reference_id, units in result
            ]
        result = await self._connection.execute(
            figures.fact_contributions(reading, institution_id, staff_id)
            .offset(offset)
            .limit(limit)
        )
        return [
            Contribution(on, ContributionKind.FACT, None, source, key, _hundredths(units))
            for on, source, key, units in result
        ]

    async def fact_dates(
        self, institution_id: uuid.UUID, measures: Sequence[Measure], on_or_before: date
    ) -> Mapping[Measure, date]:
        if not measures:
            return {}
        result = await self._connection.execute(
            figures.latest_fact_dates(institution_id, measures, on_or_before)
        )
        return {Measure(metric): day for metric, day in result if day is not None}

    # Staff and schemes ----------------------------------------------------------------------

    async def members(self, institution_id: uuid.UUID, role: Role) -> Sequence[Member]:
        result = await self._connection.execute(
            select(staff.c.id, staff.c.branch_id, staff.c.display_name)
            .where(
                staff.c.institution_id == institution_id,
                staff.c.role == role.value,
                staff.c.active.is_(True),
            )
            .order_by(staff.c.id)
        )
        return [Member(*row) for row in result]

    async def current_schemes(
        self, institution_ids: Sequence[uuid.UUID], *, role: Role | None, kind: PeriodKind | None
    ) -> Sequence[Scheme]:
        schemes = assessment_schemes
        newest = (
            select(schemes.c.series_id, func.max(schemes.c.version).label("version"))
            .where(schemes.c.institution_id.in_(institution_ids))
            .group_by(schemes.c.series_id)
            .subquery("newest")
        )
        query = (
            select(schemes)
            .join(
                newest,
                and_(
                    newest.c.series_id == schemes.c.series_id,
                    newest.c.version == schemes.c.version,
                ),
            )
            .where(schemes.c.active.is_(True))
            .order_by(schemes.c.created_at, schemes.c.id)
        )
        if role is not None:
            query = query.where(schemes.c.role == role.value)
        if kind is not None:
            query = query.where(schemes.c.period_kind == kind.value)
        result = await self._connection.execute(query)
        return [_scheme(row) for row in result]

    async def schemes_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Scheme]:
        if not ids:
            return []
        result = await self._connection.execute(
            select(assessment_schemes).where(assessment_schemes.c.id.in_(ids))
        )
        return [_scheme(row) for row in result]

    async def scheme_versions(self, series_id: uuid.UUID) -> Sequence[Scheme]:
        result = await self._connection.execute(
            select(assessment_schemes)
            .where(assessment_schemes.c.series_id == series_id)
            .order_by(assessment_schemes.c.version.desc())
        )
        return [_scheme(row) for row in result]

    async def add_scheme(self, scheme: Scheme) -> bool:
        result = await self._connection.execute(
            insert_unless_exists(
                self._connection, assessment_schemes, _scheme_row(scheme), ["series_id", "version"]
            )
        )
        return bool(result.rowcount)

    # Closing --------------------------------------------------------------------------------

    async def closure(self, institution_id: uuid.UUID, period: str) -> Closure | None:
        row = (
            await self._connection.execute(
                select(performance_closures).where(
                    performance_closures.c.institution_id == institution_id,
                    performance_closures.c.period == period,
                )
            )
        ).first()
        return None if row is None else Closure(**row._mapping)

    async def closures(self, institution_id: uuid.UUID) -> Sequence[Closure]:
        result = await self._connection.execute(
            select(performance_closures)
            .where(performance_closures.c.institution_id == institution_id)
            .order_by(performance_closures.c.closed_at)
        )
        return [Closure(**row._mapping) for row in result]

    async def close(
        self, closure: Closure, results: Sequence[tuple[StaffResult, Role, int]]
    ) -> bool:
        claimed = await self._connection.execute(
            insert_unless_exists(
                self._connection,
                performance_closures,
                vars_of(closure),
                ["institution_id", "period"],
            )
        )
        if not claimed.rowcount:
            return False
        if results:
            await self._connection.execute(
                insert(performance_snapshots),
                [_snapshot_row(closure, result, role, rank) for result, role, rank in results],
            )
        return True

    async def snapshot(
        self, institution_id: uuid.UUID, period: str, role: Role
    ) -> Sequence[tuple[StaffResult, int]]:
        result = await self._connection.execute(
            select(performance_snapshots)
            .where(
                performance_snapshots.c.institution_id == institution_id,
                performance_snapshots.c.period == period,
                performance_snapshots.c.role == role.value,
            )
            .order_by(performance_snapshots.c.rank, performance_snapshots.c.staff_id)
        )
        return [(_snapshot_result(row), row.rank) for row in result]

    async def snapshot_scores(
        self, institution_id: uuid.UUID, period: str, role: Role
    ) -> Sequence[tuple[uuid.UUID, Decimal]]:
        snapshots = performance_snapshots
        result = await self._connection.execute(
            select(snapshots.c.staff_id, snapshots.c.total_score).where(
                snapshots.c.institution_id == institution_id,
                snapshots.c.period == period,
                snapshots.c.role == role.value,
            )
        )
        return [(staff_id, score) for staff_id, score in result]


# Rows -------------------------------------------------------------------------------------------


def vars_of(record: Any) -> dict[str, Any]:
    """A slotted dataclass's fields as a dict, values as they are."""
    return {name: getattr(record, name) for name in record.__slots__}


def _assignment(row: Row[Any]) -> Assignment:
    values = dict(row._mapping)
    return Assignment(**values | {"subject_kind": SubjectKind(values["subject_kind"])})


def _fact_id(fact: Fact) -> tuple[Any, ...]:
    return (fact.institution_id, fact.fact_date, fact.source, fact.key)


def _fact_content(fact: Fact) -> tuple[Any, ...]:
    return (fact.measure.value, fact.staff_id, fact.customer_id, fact.value)


# A changed fact replaces the old one's content, many facts in one executemany.
_REPLACE_FACT = (
    update(performance_facts)
    .where(
        performance_facts.c.institution_id == bindparam("at_institution_id"),
        performance_facts.c.fact_date == bindparam("at_fact_date"),
        performance_facts.c.source == bindparam("at_source"),
        performance_facts.c.key == bindparam("at_key"),
    )
    .values(
        metric=bindparam("new_metric"),
        staff_id=bindparam("new_staff_id"),
        customer_id=bindparam("new_customer_id"),
        value=bindparam("new_value"),
        recorded_at=bindparam("new_recorded_at"),
    )
)


def _replacement(fact: Fact, now: datetime) -> dict[str, Any]:
    """The parameters of `_REPLACE_FACT` for one fact."""
    row = _fact_row(fact, now)
    return {f"at_{name}": row[name] for name in _FACT_KEY} | {
        f"new_{name}": row[name]
        for name in ("metric", "staff_id", "customer_id", "value", "recorded_at")
    }


def _last_of_each_key(facts: Sequence[Fact]) -> list[Fact]:
    """A key sent twice in one batch counts once, as its last row."""
    return list({_fact_id(fact): fact for fact in facts}.values())


def _fact_row(fact: Fact, now: datetime) -> dict[str, Any]:
    return {
        "institution_id": fact.institution_id,
        "fact_date": fact.fact_date,
        "source": fact.source,
        "key": fact.key,
        "metric": fact.measure.value,
        "staff_id": fact.staff_id,
        "customer_id": fact.customer_id,
        "value": fact.value,
        "recorded_at": now,
    }


def _scheme_row(scheme: Scheme) -> dict[str, Any]:
    return vars_of(scheme) | {
        "role": scheme.role.value,
        "period_kind": scheme.period_kind.value,
        "indicators": [
            {
                "code": item.code,
                "weight": str(item.weight),
                "target": str(item.target),
                "ceiling": str(item.ceiling),
                "floor": str(item.floor),
            }
            for item in scheme.indicators
        ],
        "targets": [
            {
                "code": target.code,
                "value": str(target.value),
                "branch_id": target.branch_id and str(target.branch_id),
                "staff_id": target.staff_id and str(target.staff_id),
            }
            for target in scheme.targets
        ],
    }


def _optional_id(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _scheme(row: Row[Any]) -> Scheme:
    values = dict(row._mapping)
    return Scheme(
        **values
        | {
            "role": Role(values["role"]),
            "period_kind": PeriodKind(values["period_kind"]),
            "indicators": tuple(
                SchemeIndicator(
                    item["code"],
                    Decimal(item["weight"]),
                    Decimal(item["target"]),
                    Decimal(item["ceiling"]),
                    Decimal(item["floor"]),
                )
                for item in values["indicators"]
            ),
            "targets": tuple(
                Target(
                    item["code"],
                    Decimal(item["value"]),
                    _optional_id(item["branch_id"]),
                    _optional_id(item["staff_id"]),
                )
                for item in values["targets"]
            ),
        }
    )


def _snapshot_row(closure: Closure, result: StaffResult, role: Role, rank: int) -> dict[str, Any]:
    return {
        "institution_id": closure.institution_id,
        "period": closure.period,
        "staff_id": result.staff_id,
        "role": role.value,
        "branch_id": result.branch_id,
        "scheme_id": result.scheme_id,
        "rank": rank,
        "total_score": result.total_score,
        "bonus_share": result.bonus_share,
        "indicators": [
            {
                "code": item.code,
                "weight": str(item.weight),
                "actual": None if item.actual is None else str(item.actual),
                "target": str(item.target),
                "attainment": str(item.attainment),
                "score": str(item.score),
                "parts": [str(part) for part in item.parts],
            }
            for item in result.indicators
        ],
    }


def _snapshot_result(row: Row[Any]) -> StaffResult:
    return StaffResult(
        staff_id=row.staff_id,
        branch_id=row.branch_id,
        scheme_id=row.scheme_id,
        total_score=row.total_score,
        bonus_share=row.bonus_share,
        indicators=tuple(
            IndicatorScore(
                item["code"],
                Decimal(item["weight"]),
                None if item["actual"] is None else Decimal(item["actual"]),
                Decimal(item["target"]),
                Decimal(item["attainment"]),
                Decimal(item["score"]),
                tuple(Decimal(part) for part in item["parts"]),
            )
            for item in row.indicators
        ),
    )

"""What staff performance needs from persistence and from the cache."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from jikuai.domain.performance.indicators import Measure, Reading
from jikuai.domain.performance.model import (
    Assignment,
    Closure,
    Fact,
    Member,
    Scheme,
    StaffResult,
    SubjectKind,
)
from jikuai.domain.performance.periods import PeriodKind
from jikuai.domain.tenancy.model import Role


class ContributionKind(StrEnum):
    """What a contribution to a figure is."""

    LOAN = "LOAN"
    CREDIT_LINE = "CREDIT_LINE"
    CUSTOMER = "CUSTOMER"
    MERCHANT = "MERCHANT"
    REDEMPTION = "REDEMPTION"
    FACT = "FACT"


@dataclass(frozen=True, slots=True)
class Contribution:
    """One row behind a figure: a loan, a customer, a redemption… or a daily fact (then
    `source` and `key` name it)."""

    on: date
    kind: ContributionKind
    reference_id: uuid.UUID | None
    source: str | None
    key: str | None
    value: Decimal


@dataclass(frozen=True, slots=True)
class SavedFacts:
    inserted: int
    updated: int
    unchanged: int


class PerformanceRepository(Protocol):
    # Portfolios ---------------------------------------------------------------------------------
    async def current_assignments(
        self, institution_id: uuid.UUID, kind: SubjectKind, subject_ids: Sequence[uuid.UUID]
    ) -> Sequence[Assignment]:
        """The open assignment of each subject that has one."""

    async def assignment_history(
        self, institution_id: uuid.UUID, kind: SubjectKind, subject_id: uuid.UUID
    ) -> Sequence[Assignment]:
        """Every assignment of the subject, oldest first."""

    async def add_assignment(self, assignment: Assignment) -> None: ...
    async def end_assignment(self, assignment_id: uuid.UUID, valid_until: date) -> bool:
        """Close an open assignment; False when another transaction closed it first."""

    # Facts ----------------------------------------------------------------------------------
    async def save_facts(self, facts: Sequence[Fact], *, now: datetime) -> SavedFacts:
        """Insert new facts and replace changed ones, by (institution, date, source, key)."""

    async def record_positions(self, institution_id: uuid.UUID, on: date, *, now: datetime) -> int:
        """Record the platform's end-of-day positions of `on` (replacing any recorded before),
        one fact per measure and manager, and one for what nobody manages; the number written."""

    # Figures --------------------------------------------------------------------------------
    async def read(
        self,
        institution_ids: Sequence[uuid.UUID],
        wanted: Sequence[Reading],
        *,
        by_staff: bool,
    ) -> Mapping[Reading, Mapping[uuid.UUID, Decimal]]:
        """Each reading's values per staff member (attributed on each value's date) or, when
        not `by_staff`, per institution (everything counts)."""

    async def contributions(
        self,
        institution_id: uuid.UUID,
        staff_id: uuid.UUID,
        reading: Reading,
        *,
        offset: int,
        limit: int,
    ) -> Sequence[Contribution]:
        """The rows behind one staff member's reading, by date."""

    async def fact_dates(
        self, institution_id: uuid.UUID, measures: Sequence[Measure], on_or_before: date
    ) -> Mapping[Measure, date]:
        """The latest day with figures of each measure, on or before a day."""

    # Staff and schemes ----------------------------------------------------------------------
    async def members(self, institution_id: uuid.UUID, role: Role) -> Sequence[Member]:
        """Active staff of a role."""

    async def current_schemes(
        self, institution_ids: Sequence[uuid.UUID], *, role: Role | None, kind: PeriodKind | None
    ) -> Sequence[Scheme]:
        """The latest version of each active scheme series."""

    async def schemes_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Scheme]: ...
    async def scheme_versions(self, series_id: uuid.UUID) -> Sequence[Scheme]:
        """Every version, newest first."""

    async def add_scheme(self, scheme: Scheme) -> bool:
        """Insert; False when the series already has that version."""

    # Closing --------------------------------------------------------------------------------
    async def closure(self, institution_id: uuid.UUID, period: str) -> Closure | None: ...
    async def closures(self, institution_id: uuid.UUID) -> Sequence[Closure]: ...
    async def close(
        self, closure: Closure, results: Sequence[tuple[StaffResult, Role, int]]
    ) -> bool:
        """Record the closure and its frozen (result, role, rank) rows; False if already closed."""

    async def snapshot(
        self, institution_id: uuid.UUID, period: str, role: Role
    ) -> Sequence[tuple[StaffResult, int]]:
        """A closed period's results for a role, with their ranks."""

    async def snapshot_scores(
        self, institution_id: uuid.UUID, period: str, role: Role
    ) -> Sequence[tuple[uuid.UUID, Decimal]]:
        """A closed period's total score of each staff member of a role."""


class ResultCache(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None: ...
    async def increment(self, key: str, *, ttl_seconds: int) -> int: ...

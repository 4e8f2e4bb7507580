"""Performance records: managed portfolios, daily facts, assessment schemes and results."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from jikuai.domain.performance.indicators import Measure
from jikuai.domain.performance.periods import PeriodKind
from jikuai.domain.tenancy.model import Role


class SubjectKind(StrEnum):
    CUSTOMER = "CUSTOMER"  # and the customer's loans and credit lines
    MERCHANT = "MERCHANT"


@dataclass(frozen=True, slots=True)
class Assignment:
    """`staff_id` manages the subject from `valid_from` up to the day before `valid_until`."""

    id: uuid.UUID
    institution_id: uuid.UUID
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    staff_id: uuid.UUID
    valid_from: date
    valid_until: date | None
    assigned_by: uuid.UUID | None
    created_at: datetime


PLATFORM_SOURCE = "PLATFORM"  # the platform's own end-of-day positions; never imported


@dataclass(frozen=True, slots=True)
class Fact:
    """One day's value of a measure, for a staff member, a customer, or the institution only
    (neither). (institution, date, source, key) identifies it: a fact sent again replaces it."""

    institution_id: uuid.UUID
    fact_date: date
    source: str
    key: str
    measure: Measure
    staff_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    value: Decimal


@dataclass(frozen=True, slots=True)
class SchemeIndicator:
    """An indicator's place in a scheme: its weight (of 100), the default target, and how
    attainment is bounded: above `ceiling` it counts as `ceiling`, below `floor` as zero."""

    code: str
    weight: Decimal
    target: Decimal
    ceiling: Decimal
    floor: Decimal


@dataclass(frozen=True, slots=True)
class Target:
    """A target for one branch or one person, in place of the scheme's default."""

    code: str
    value: Decimal
    branch_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Scheme:
    """One version of an assessment scheme (考核方案). A revision is a new version of the same
    series; a closed period keeps the version it was scored with."""

    id: uuid.UUID
    series_id: uuid.UUID
    version: int
    institution_id: uuid.UUID
    name: str
    role: Role
    branch_id: uuid.UUID | None
    staff_id: uuid.UUID | None
    period_kind: PeriodKind
    indicators: tuple[SchemeIndicator, ...]
    targets: tuple[Target, ...]
    bonus_pool: Decimal
    active: bool
    created_by: uuid.UUID | None
    created_at: datetime

    def specificity(self, staff_id: uuid.UUID, branch_id: uuid.UUID | None) -> int | None:
        """How closely the scheme fits a staff member of its role: 2 for their own scheme, 1
        for their branch's, 0 for the institution's; None when it is someone else's."""
        if self.staff_id is not None:
            return 2 if self.staff_id == staff_id else None
        if self.branch_id is not None:
            return 1 if self.branch_id == branch_id else None
        return 0

    def target_for(
        self, indicator: SchemeIndicator, staff_id: uuid.UUID, branch_id: uuid.UUID | None
    ) -> Decimal:
        """The person's own target, else their branch's, else the scheme's default."""
        branch_target = None
        for target in self.targets:
            if target.code != indicator.code:
                continue
            if target.staff_id == staff_id:
                return target.value
            if target.branch_id is not None and target.branch_id == branch_id:
                branch_target = target.value
        return indicator.target if branch_target is None else branch_target


@dataclass(frozen=True, slots=True)
class Member:
    """A staff member as a scoreboard sees them."""

    staff_id: uuid.UUID
    branch_id: uuid.UUID | None
    display_name: str


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    code: str
    weight: Decimal
    actual: Decimal | None  # None: no basis (a ratio over nothing)
    target: Decimal
    attainment: Decimal
    score: Decimal
    # The values of the indicator's readings (`indicators.readings` order) the actual came from,
    # kept with the result so a closed period still explains its frozen figures.
    parts: tuple[Decimal, ...] = ()


@dataclass(frozen=True, slots=True)
class StaffResult:
    staff_id: uuid.UUID
    branch_id: uuid.UUID | None
    scheme_id: uuid.UUID
    total_score: Decimal
    bonus_share: Decimal
    indicators: tuple[IndicatorScore, ...]


@dataclass(frozen=True, slots=True)
class Closure:
    institution_id: uuid.UUID
    period: str
    closed_by: uuid.UUID | None
    closed_at: datetime

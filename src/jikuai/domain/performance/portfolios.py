"""Managed portfolios: which staff member a customer or merchant counts for, and since when.

A customer registered by a staff member, and a merchant approved, start out managed by the one
who brought them in. A reassignment is dated: figures dated before it stay with the previous
manager. It may take effect from the first day of the earliest open period (a closed period's
results do not move), never before the current assignment began.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.merchants.model import MerchantStatus
from jikuai.domain.performance.access import administers, assigns_in, sees_branch
from jikuai.domain.performance.freshness import forget_figures
from jikuai.domain.performance.model import Assignment, SubjectKind
from jikuai.domain.performance.periods import Period
from jikuai.domain.performance.ports import PerformanceRepository, ResultCache
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Staff

MAX_SUBJECTS = 500  # per reassignment
MAX_DAYS_AHEAD = 366
# A merchant is managed once approved; one still applying (or rejected) has nobody to hand on.
_ONBOARDED = frozenset({MerchantStatus.APPROVED, MerchantStatus.SUSPENDED})


@dataclass(frozen=True, slots=True)
class Reassign:
    kind: SubjectKind
    subject_ids: Sequence[uuid.UUID]
    staff_id: uuid.UUID
    effective_on: date | None  # today when None


async def start_managing(
    performance: PerformanceRepository,
    *,
    institution_id: uuid.UUID,
    kind: SubjectKind,
    subject_id: uuid.UUID,
    staff_id: uuid.UUID,
    on: date,
    now: datetime,
) -> None:
    """Give a new customer or merchant its first manager, unless it already has one."""
    if await performance.current_assignments(institution_id, kind, [subject_id]):
        return
    await performance.add_assignment(
        Assignment(new_id(), institution_id, kind, subject_id, staff_id, on, None, None, now)
    )


async def reassign(
    uow: UnitOfWork,
    cache: ResultCache | None,
    actor: Actor,
    command: Reassign,
    *,
    request_id: str,
    today: date,
    now: datetime,
) -> list[Assignment]:
    """Hand the subjects to a staff member from a date; the new assignments."""
    async with uow:
        staff = next(iter(await uow.tenancy.staff_by_id([command.staff_id])), None)
        me = next(iter(await uow.tenancy.staff_by_id([actor.id])), None)
        if staff is None or not actor.may_see_staff_of(staff.institution_id):
            raise DomainError(ErrorCode.NOT_FOUND, field=("staffId",))
        if not assigns_in(actor, me, staff):
            raise PermissionDenied
        institution_id = staff.institution_id
        subject_ids = list(dict.fromkeys(command.subject_ids))
        if not 1 <= len(subject_ids) <= MAX_SUBJECTS:
            raise DomainError(ErrorCode.INVALID_QUANTITY, field=("subjectIds",))
        await _require_subjects(uow, institution_id, command.kind, subject_ids)
        current = {
            a.subject_id: a
            for a in await uow.performance.current_assignments(
                institution_id, command.kind, subject_ids
            )
        }
        await _require_hand_over(uow, actor, me, institution_id, current.values())
        effective_on = command.effective_on or today
        await _require_effective(uow, institution_id, effective_on, current.values(), today)
        added = []
        for subject_id in subject_ids:
            before = current.get(subject_id)
            if before is not None and before.staff_id == staff.id:
                continue
            if before is not None and not await uow.performance.end_assignment(
                before.id, effective_on
            ):
                raise DomainError(ErrorCode.CONCURRENT_UPDATE, field=("subjectIds",))
            assignment = Assignment(
                new_id(), institution_id, command.kind, subject_id, staff.id, effective_on,
                None, actor.id if actor.is_staff else None, now,
            )  # fmt: skip
            await uow.performance.add_assignment(assignment)
            added.append(assignment)
        if added:
            await uow.identity.add_audit_event(
                AuditEvent.of(
                    actor,
                    "portfolio.reassign",
                    institution_id=institution_id,
                    subject_type="Staff",
                    subject_id=str(staff.id),
                    request_id=request_id,
                    now=now,
                    details={
                        "kind": command.kind.value,
                        "subjects": [str(a.subject_id) for a in added],
                        "effective_on": effective_on.isoformat(),
                    },
                )
            )
        await uow.commit()
    await forget_figures(cache, institution_id)
    return added


async def _require_hand_over(
    uow: UnitOfWork,
    actor: Actor,
    me: Staff | None,
    institution_id: uuid.UUID,
    current: Iterable[Assignment],
) -> None:
    """An admin hands over anything of the institution; a branch manager only what their own
    branch manages (or nobody does)."""
    if administers(actor, institution_id):
        return
    managers = await uow.tenancy.staff_by_id(list({a.staff_id for a in current}))
    if not all(
        m.branch_id is not None and sees_branch(actor, me, institution_id, m.branch_id)
        for m in managers
    ):
        raise PermissionDenied


async def _require_effective(
    uow: UnitOfWork,
    institution_id: uuid.UUID,
    effective_on: date,
    current: Iterable[Assignment],
    today: date,
) -> None:
    """Not more than a year ahead, not inside a closed period, not before a current
    assignment began."""
    if effective_on > today + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(ErrorCode.INVALID_DATE, field=("effectiveOn",))
    if effective_on < await open_since(uow.performance, institution_id):
        raise DomainError(ErrorCode.PERIOD_CLOSED, field=("effectiveOn",))
    if any(effective_on < a.valid_from for a in current):
        raise DomainError(ErrorCode.INVALID_DATE, field=("effectiveOn",))


async def open_since(performance: PerformanceRepository, institution_id: uuid.UUID) -> date:
    """The first day no closed period covers."""
    closed_ends = [
        Period.parse(closure.period).end for closure in await performance.closures(institution_id)
    ]
    return max(closed_ends) + timedelta(days=1) if closed_ends else date.min


async def _require_subjects(
    uow: UnitOfWork, institution_id: uuid.UUID, kind: SubjectKind, subject_ids: list[uuid.UUID]
) -> None:
    if kind is SubjectKind.CUSTOMER:
        found = len(await uow.customers.by_id(subject_ids, institution_id=institution_id))
    else:
        merchants = await uow.merchants.by_id(subject_ids)
        found = sum(
            merchant.institution_id == institution_id and merchant.status in _ONBOARDED
            for merchant in merchants
        )
    if found != len(subject_ids):
        raise DomainError(ErrorCode.NOT_FOUND, field=("subjectIds",))

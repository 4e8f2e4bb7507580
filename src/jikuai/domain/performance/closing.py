"""Closing a period (关账): its results are frozen as they stand, with the schemes they were
scored with, and read back from then on instead of being computed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.performance import scoring
from jikuai.domain.performance.access import ASSESSED_ROLES, administers
from jikuai.domain.performance.freshness import forget_figures
from jikuai.domain.performance.model import Closure, StaffResult
from jikuai.domain.performance.periods import Period
from jikuai.domain.performance.ports import ResultCache
from jikuai.domain.performance.results import compute
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role


@dataclass(frozen=True, slots=True)
class Closed:
    closure: Closure
    results: int  # staff results frozen


async def close_period(
    uow: UnitOfWork,
    cache: ResultCache | None,
    actor: Actor | None,
    *,
    institution_id: uuid.UUID,
    period: Period,
    today: date,
    now: datetime,
    request_id: str,
) -> Closed:
    """Freeze every assessed role's results for the period; `actor` None is the scheduler,
    whose runs are recorded as job runs rather than in the audit trail."""
    if actor is not None and not administers(actor, institution_id):
        raise PermissionDenied
    if period.end >= today:
        raise DomainError(ErrorCode.PERIOD_NOT_OVER, field=("period",))
    async with uow:
        closure = Closure(
            institution_id, period.name, actor.id if actor and actor.is_staff else None, now
        )
        if await uow.performance.closure(institution_id, period.name) is not None:
            raise DomainError(ErrorCode.PERIOD_CLOSED, field=("period",))
        frozen: list[tuple[StaffResult, Role, int]] = []
        for role in sorted(ASSESSED_ROLES):
            board = await compute(uow.performance, institution_id, period, role, today)
            ranks = scoring.ranks({r.staff_id: r.total_score for r in board.results})
            frozen.extend((result, role, ranks[result.staff_id]) for result in board.results)
        if not await uow.performance.close(closure, frozen):
            raise DomainError(ErrorCode.PERIOD_CLOSED, field=("period",))
        if actor is not None:
            await uow.identity.add_audit_event(
                AuditEvent.of(
                    actor,
                    "performance_period.close",
                    institution_id=institution_id,
                    subject_type="Institution",
                    subject_id=str(institution_id),
                    request_id=request_id,
                    now=now,
                    details={"period": period.name, "results": len(frozen)},
                )
            )
        await uow.commit()
    await forget_figures(cache, institution_id)
    return Closed(closure, len(frozen))

"""An institution's points programme: the value of a point, redemption limits, earning rules."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from jikuai.domain.points.access import POINTS_ADMINS
from jikuai.domain.points.model import EarningRule, PointsProgram
from jikuai.domain.points.rules import MAX_POINTS, validate_rule
from jikuai.domain.ports import Repositories, UnitOfWork
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode, PermissionDenied
from jikuai.domain.shared.money import BASIS_POINT
from jikuai.domain.tenancy.actors import Actor

MAX_CONFIRM_WINDOW_SECONDS = 600
# A point is worth at most this many CNY: far above any programme, and a day's settlement of
# the most points a merchant may take stays within what an amount column holds.
MAX_CNY_PER_POINT = Decimal(100)


def default_program(institution_id: uuid.UUID) -> PointsProgram:
    """What an institution that has not configured its programme gets: 100 points to the
    yuan, confirmation above 5,000 points within two minutes."""
    return PointsProgram(
        institution_id=institution_id,
        cny_per_point=Decimal("0.01"),
        confirm_above_points=5000,
        confirm_window_seconds=120,
        customer_daily_points=20000,
        merchant_daily_points=1000000,
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def program_of(repositories: Repositories, institution_id: uuid.UUID) -> PointsProgram:
    return await repositories.ledger.program(institution_id) or default_program(institution_id)


async def set_program(
    program: PointsProgram, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> PointsProgram:
    if not (actor.is_staff and actor.role in POINTS_ADMINS):
        raise PermissionDenied
    program = replace(program, institution_id=_own(actor), updated_at=now)
    errors = []
    rate = program.cny_per_point
    if not (
        rate.is_finite() and 0 < rate <= MAX_CNY_PER_POINT and rate == rate.quantize(BASIS_POINT)
    ):
        errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=("cnyPerPoint",)))
    for name, value in (
        ("confirmAbovePoints", program.confirm_above_points),
        ("customerDailyPoints", program.customer_daily_points),
        ("merchantDailyPoints", program.merchant_daily_points),
    ):
        if not 1 <= value <= MAX_POINTS:
            errors.append(DomainError(ErrorCode.INVALID_POINTS, field=(name,)))
    if not 30 <= program.confirm_window_seconds <= MAX_CONFIRM_WINDOW_SECONDS:
        errors.append(DomainError(ErrorCode.INVALID_TERM, field=("confirmWindowSeconds",)))
    if errors:
        raise DomainErrors(errors)
    async with uow:
        await uow.ledger.save_program(program)
        await uow.commit()
    return program


async def set_rule(
    rule: EarningRule, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> EarningRule:
    """Create or replace the institution's rule for an event type; events already recorded
    keep the points they earned."""
    if not (actor.is_staff and actor.role in POINTS_ADMINS):
        raise PermissionDenied
    rule = replace(rule, institution_id=_own(actor), updated_at=now)
    validate_rule(rule)
    async with uow:
        await uow.ledger.save_rule(rule)
        await uow.commit()
    return rule


def _own(actor: Actor) -> uuid.UUID:
    if actor.institution_id is None:
        raise PermissionDenied
    return actor.institution_id

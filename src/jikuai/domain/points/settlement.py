"""Merchant settlement (商户结算): each business day closes into one batch per merchant, valued
at the institution's CNY per point; staff mark a batch paid once the money has gone out.

A batch holds what the day's journals moved into and out of the merchant's payable account:
redemptions and confirmations in, voids and reversals out. So a batch reconciles with the
ledger by construction, and paying it moves its points from the payable to the institution's
settled account.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.points.access import POINTS_ADMINS
from jikuai.domain.points.ledger import journal
from jikuai.domain.points.model import AccountKind, JournalKind, Settlement, SettlementStatus
from jikuai.domain.points.program import program_of
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.shared.money import cents
from jikuai.domain.tenancy.actors import Actor

MAX_REFERENCE = 64


@dataclass(frozen=True, slots=True)
class SettlementRun:
    batches: int
    points: int
    amount: Decimal


def value_of(points: int, cny_per_point: Decimal) -> Decimal:
    """CNY for `points`, rounded half up to the fen."""
    return cents(points * cny_per_point)


async def settle_day(
    on: date, *, unit_of_work: Callable[[], UnitOfWork], now: datetime, today: date
) -> SettlementRun:
    """One batch per merchant with redemptions on `on`; a merchant's day is settled once, so
    running the day again adds nothing. Only a day that is over can be closed: a batch of
    today would miss the rest of today's redemptions."""
    if on >= today:
        raise DomainError(ErrorCode.INVALID_DATE, field=("date",))
    batches = points = 0
    amount = Decimal("0.00")
    async with unit_of_work() as uow:
        for totals in await uow.redemptions.day_totals(on):
            program = await program_of(uow, totals.institution_id)
            batch = Settlement(
                id=new_id(),
                institution_id=totals.institution_id,
                merchant_id=totals.merchant_id,
                business_date=on,
                redemptions=totals.redemptions,
                points=totals.points,
                cny_per_point=program.cny_per_point,
                amount=value_of(totals.points, program.cny_per_point),
                status=SettlementStatus.UNPAID,
                created_at=now,
            )
            if await uow.redemptions.add_settlement(batch):
                batches += 1
                points += batch.points
                amount += batch.amount
        await uow.commit()
    return SettlementRun(batches=batches, points=points, amount=amount)


async def mark_paid(
    settlement_id: uuid.UUID,
    *,
    reference: str,
    actor: Actor,
    uow: UnitOfWork,
    request_id: str,
    now: datetime,
    today: date,
) -> Settlement:
    """Record that a batch was paid (with the bank's payment reference), audited."""
    if not (actor.is_staff and actor.role in POINTS_ADMINS):
        raise PermissionDenied
    reference = reference.strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise DomainError(ErrorCode.REQUIRED, field=("paymentReference",))
    async with uow:
        found = await uow.redemptions.settlements_by_id([settlement_id])
        if not found or found[0].institution_id != actor.institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("settlementId",))
        settlement = found[0]
        if not await uow.redemptions.mark_paid(
            settlement.id, by=actor.id, at=now, reference=reference
        ):
            raise DomainError(ErrorCode.INVALID_STATE, field=("settlementId",))
        posted = await uow.ledger.post(
            journal(
                JournalKind.SETTLE,
                institution_id=settlement.institution_id,
                points=settlement.points,
                on=today,
                now=now,
                merchant_id=settlement.merchant_id,
                entries=[
                    (settlement.merchant_id, AccountKind.MERCHANT_PAYABLE, -settlement.points),
                    (settlement.institution_id, AccountKind.MERCHANT_SETTLED, settlement.points),
                ],
            )
        )
        if not posted:
            raise RuntimeError(f"settling {settlement.id} overdrew a guarded account")
        await uow.identity.add_audit_event(
            AuditEvent.of(
                actor,
                "settlement.paid",
                institution_id=settlement.institution_id,
                subject_type="settlement",
                subject_id=str(settlement.id),
                request_id=request_id,
                now=now,
                details={"reference": reference, "amount": str(settlement.amount)},
            )
        )
        await uow.commit()
    return replace(
        settlement,
        status=SettlementStatus.PAID,
        paid_at=now,
        paid_by=actor.id,
        payment_reference=reference,
    )

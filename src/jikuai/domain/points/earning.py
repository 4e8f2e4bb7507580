"""Earning (积分发放): events from the bank's systems become lots of points, and can be
cancelled while pending or reversed later.

Each event is recorded once per (institution, type, source ref): the same report twice earns
once. Earned points first settle any debt a reversal left; the rest become a lot, spendable at
once or, for pending rules, after the rule's waiting days.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from jikuai.domain.points import rules
from jikuai.domain.points.access import may_record
from jikuai.domain.points.ledger import journal
from jikuai.domain.points.model import (
    AccountKind,
    EarningRule,
    EventStatus,
    EventType,
    JournalKind,
    Lot,
    LotState,
    PointsEvent,
)
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.shared.money import exact_cents
from jikuai.domain.tenancy.actors import Actor

MAX_SOURCE_REF = 64


@dataclass(frozen=True, slots=True)
class RecordEvent:
    customer_id: uuid.UUID
    event_type: EventType
    source_ref: str
    amount: Decimal | None = None
    points: int | None = None


@dataclass(frozen=True, slots=True)
class EventRef:
    """An event as its source system knows it."""

    event_type: EventType
    source_ref: str


@dataclass(frozen=True, slots=True)
class Recorded:
    event: PointsEvent
    replayed: bool


async def record_event(
    command: RecordEvent, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> Recorded:
    """Earn the points of one event reported by the bank's systems (their own institution's
    customers only)."""
    if not may_record(actor, command.event_type):
        raise PermissionDenied
    async with uow:
        found = await uow.customers.by_id(
            [command.customer_id], institution_id=actor.institution_id
        )
        if not found:
            raise DomainError(ErrorCode.NOT_FOUND, field=("customerId",))
        recorded = await earn(
            uow, command, found[0].institution_id, recorded_by=actor.id, now=now, today=today
        )
        await uow.commit()
    return recorded


async def earn(
    uow: UnitOfWork,
    command: RecordEvent,
    institution_id: uuid.UUID,
    *,
    recorded_by: uuid.UUID,
    now: datetime,
    today: date,
) -> Recorded:
    """Earn the points of one event inside an open unit of work, which the caller commits; or
    answer with the event already recorded under its source ref. A different report under a
    used ref is IDEMPOTENCY_KEY_REUSED."""
    source_ref = _source_ref(command.source_ref)
    command = replace(command, amount=_amount(command.amount))
    await uow.ledger.lock_customer(command.customer_id, institution_id)
    # A report made before answers as it did, whatever the rule has become since.
    earlier = await uow.ledger.event_by_source(institution_id, command.event_type, source_ref)
    if earlier is not None:
        return Recorded(_same_report(earlier, command), replayed=True)
    rule = await uow.ledger.rule(institution_id, command.event_type)
    if rule is None or not rule.active:
        raise DomainError(ErrorCode.EARNING_RULE_MISSING, field=("eventType",))
    points = rules.base_points(rule, command.event_type, command.amount, command.points)
    award = rules.capped(
        rule, points, await uow.ledger.earned(command.customer_id, command.event_type, today)
    )
    event = PointsEvent(
        id=new_id(),
        institution_id=institution_id,
        customer_id=command.customer_id,
        event_type=command.event_type,
        source_ref=source_ref,
        amount=command.amount,
        requested_points=command.points,
        points=award.points,
        debt_settled=0,
        capped=award.capped,
        status=EventStatus.PENDING if rule.pending_days else EventStatus.POSTED,
        business_date=today,
        recorded_by=recorded_by,
        created_at=now,
    )
    if not await uow.ledger.add_event(event):
        raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, field=("sourceRef",))
    await _credit(uow, event, rule, now=now, today=today)
    return Recorded(event, replayed=False)


async def earns(uow: UnitOfWork, institution_id: uuid.UUID, event_type: EventType) -> bool:
    """Whether the institution rewards this event type (for events the platform itself sees)."""
    rule = await uow.ledger.rule(institution_id, event_type)
    return rule is not None and rule.active


async def _credit(
    uow: UnitOfWork, event: PointsEvent, rule: EarningRule, *, now: datetime, today: date
) -> None:
    """Post an added event's points: first against the customer's debt, the rest as a lot.
    A pending event always gets its lot, even an empty one, so that the release of its day
    posts it and ends its cancellation window. The customer is locked; the caller commits."""
    pending = event.status is EventStatus.PENDING
    if event.points == 0 and not pending:
        return
    debt = (await uow.ledger.balances([event.customer_id]))[event.customer_id].debt
    settled = min(debt, event.points)
    lot_points = event.points - settled
    posted = await uow.ledger.post(
        journal(
            JournalKind.EARN,
            institution_id=event.institution_id,
            points=event.points,
            on=today,
            now=now,
            customer_id=event.customer_id,
            event_id=event.id,
            entries=[
                (
                    event.customer_id,
                    AccountKind.PENDING if pending else AccountKind.AVAILABLE,
                    lot_points,
                ),
                (event.customer_id, AccountKind.DEBT, settled),
                (event.institution_id, AccountKind.ISSUANCE, -event.points),
            ],
        )
    )
    if not posted:
        raise RuntimeError(f"an earning of event {event.id} debited a guarded account")
    if settled:
        event.debt_settled = settled
        await uow.ledger.save_event(event)
    if lot_points or pending:
        await uow.ledger.add_lot(
            Lot(
                id=new_id(),
                institution_id=event.institution_id,
                customer_id=event.customer_id,
                event_id=event.id,
                points=lot_points,
                remaining=lot_points,
                expired=0,
                state=LotState.PENDING if pending else LotState.ACTIVE,
                available_on=rules.available_on(rule, today),
                expires_on=rules.expires_on(rule, today),
            )
        )


async def cancel_event(
    ref: EventRef, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> PointsEvent:
    """Take back a pending earning within its waiting days, to the point."""
    if not may_record(actor, ref.event_type):
        raise PermissionDenied
    async with uow:
        event = await _locked_event(uow, actor, ref)
        if event.status is not EventStatus.PENDING:
            raise DomainError(ErrorCode.INVALID_STATE, field=("sourceRef",))
        await _undo_earning(uow, event, JournalKind.CANCEL, now=now, today=today)
        event.status = EventStatus.CANCELLED
        await uow.ledger.save_event(event)
        await uow.commit()
    return event


async def reverse_event(
    ref: EventRef, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> PointsEvent:
    """Claw back exactly an earning's points: what is left of its lot goes back, what was spent
    becomes a debt later earnings settle first, what expired leaves expiry income. A pending
    earning is cancelled instead."""
    if not may_record(actor, ref.event_type):
        raise PermissionDenied
    async with uow:
        event = await _locked_event(uow, actor, ref)
        if event.status not in (EventStatus.PENDING, EventStatus.POSTED):
            raise DomainError(ErrorCode.INVALID_STATE, field=("sourceRef",))
        pending = event.status is EventStatus.PENDING
        kind = JournalKind.CANCEL if pending else JournalKind.REVERSE_EARNING
        await _undo_earning(uow, event, kind, now=now, today=today)
        event.status = EventStatus.CANCELLED if pending else EventStatus.REVERSED
        await uow.ledger.save_event(event)
        await uow.commit()
    return event


async def _locked_event(uow: UnitOfWork, actor: Actor, ref: EventRef) -> PointsEvent:
    """The actor's institution's event, read again once its customer is locked."""
    if actor.institution_id is None:
        raise DomainError(ErrorCode.NOT_FOUND, field=("sourceRef",))
    found = await uow.ledger.event_by_source(actor.institution_id, ref.event_type, ref.source_ref)
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, field=("sourceRef",))
    await uow.ledger.lock_customer(found.customer_id, found.institution_id)
    return (await uow.ledger.events_by_id([found.id]))[0]


async def _undo_earning(
    uow: UnitOfWork, event: PointsEvent, kind: JournalKind, *, now: datetime, today: date
) -> None:
    lots = await uow.ledger.lots_of_event(event.id)
    left = sum(lot.remaining for lot in lots)
    expired = sum(lot.expired for lot in lots)
    spent = sum(lot.points for lot in lots) - left - expired
    holding = AccountKind.PENDING if kind is JournalKind.CANCEL else AccountKind.AVAILABLE
    posted = await uow.ledger.post(
        journal(
            kind,
            institution_id=event.institution_id,
            points=event.points,
            on=today,
            now=now,
            customer_id=event.customer_id,
            event_id=event.id,
            entries=[
                (event.customer_id, holding, -left),
                (event.customer_id, AccountKind.DEBT, -(spent + event.debt_settled)),
                (event.institution_id, AccountKind.EXPIRY_INCOME, -expired),
                (event.institution_id, AccountKind.ISSUANCE, event.points),
            ],
        )
    )
    if not posted:
        raise RuntimeError(f"the lots of event {event.id} hold more than the customer's account")
    for lot in lots:
        lot.remaining = 0
        lot.state = LotState.CANCELLED if kind is JournalKind.CANCEL else LotState.REVERSED
    await uow.ledger.save_lots(lots)


def _source_ref(raw: str) -> str:
    ref = raw.strip()
    if not ref or len(ref) > MAX_SOURCE_REF:
        raise DomainError(ErrorCode.REQUIRED, field=("sourceRef",))
    return ref


def _amount(raw: Decimal | None) -> Decimal | None:
    """The amount written to the fen, as it is stored; an amount finer than a fen is none."""
    if raw is None:
        return None
    amount = exact_cents(raw) if raw.is_finite() else None
    if amount is None:
        raise DomainError(ErrorCode.INVALID_AMOUNT, field=("amount",))
    return amount


def _same_report(earlier: PointsEvent, command: RecordEvent) -> PointsEvent:
    """The event recorded under the ref, if this is the same report again."""
    if (earlier.customer_id, earlier.amount, earlier.requested_points) != (
        command.customer_id,
        command.amount,
        command.points,
    ):
        raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, field=("sourceRef",))
    return earlier

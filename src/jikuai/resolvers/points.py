"""Points: who may read whose points, and the mutations as calls into `domain/points`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from jikuai.domain.points import earning, program, redemption, settlement
from jikuai.domain.points.access import (
    reads_points,
    sees_event,
    sees_redemption,
    sees_settlement,
)
from jikuai.domain.points.model import (
    Balances,
    EarningRule,
    Expiring,
    Movement,
    PointsEvent,
    PointsProgram,
    Redemption,
    RedemptionStatus,
    Settlement,
)
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.tenancy.actors import Actor
from jikuai.resolvers.context import Context
from jikuai.resolvers.errors import Forbidden
from jikuai.resolvers.outcomes import Attempt, attempt
from jikuai.resolvers.pages import Page, paged

MAX_EXPIRING_DAYS = 3660  # `expiringSoon` looks at most ten years ahead


@dataclass(frozen=True, slots=True)
class PointsAccountView:
    customer_id: uuid.UUID
    balances: Balances


# Reads ----------------------------------------------------------------------------------------


async def points_account(
    context: Context, customer_id: uuid.UUID | None
) -> PointsAccountView | None:
    """A customer's own points, or (staff) a customer's of their institution; None when the
    customer is not one the actor may see."""
    target = await _customer_in_view(context, customer_id)
    if target is None:
        return None
    reads = await context.db.reads()
    balances = await reads.ledger.balances([target])
    return PointsAccountView(target, balances[target])


async def expiring_soon(
    context: Context, customer_id: uuid.UUID, within_days: int
) -> Sequence[Expiring]:
    reads = await context.db.reads()
    until = context.today + timedelta(days=min(max(within_days, 0), MAX_EXPIRING_DAYS))
    return await reads.ledger.expiring(customer_id, since=context.today, until=until)


async def history(
    context: Context, customer_id: uuid.UUID | None, *, first: int, after: uuid.UUID | None
) -> Page[Movement]:
    target = await _customer_in_view(context, customer_id)
    if target is None:
        return Page([], has_next_page=False)
    reads = await context.db.reads()
    return await paged(first, lambda limit: reads.ledger.history(target, after=after, limit=limit))


async def redemption_page(
    context: Context,
    status: RedemptionStatus | None,
    *,
    first: int,
    after: uuid.UUID | None,
) -> Page[Redemption]:
    """A cashier sees their merchant's, a customer their own, staff their institution's."""
    actor = await context.require_actor()
    merchant_id = customer_id = institution_id = None
    if actor.is_merchant:
        merchant_id = actor.merchant_id
    elif actor.is_customer:
        if actor.customer_id is None:
            return Page([], has_next_page=False)
        customer_id = actor.customer_id
    else:
        institution_id = _staff(actor).staff_scope()
    reads = await context.db.reads()
    return await paged(
        first,
        lambda limit: reads.redemptions.page(
            merchant_id=merchant_id,
            customer_id=customer_id,
            institution_id=institution_id,
            status=status,
            after=after,
            limit=limit,
        ),
    )


async def redemption_by_id(context: Context, redemption_id: uuid.UUID) -> Redemption | None:
    actor = await context.require_actor()
    found = await context.loaders.redemption_by_id.load(redemption_id)
    return found if found and sees_redemption(actor, found) else None


async def settlement_page(
    context: Context, merchant_id: uuid.UUID | None, *, first: int, after: uuid.UUID | None
) -> Page[Settlement]:
    """A cashier sees their merchant's batches; staff their institution's."""
    actor = await context.require_actor()
    institution_id = None
    if actor.is_merchant:
        merchant_id = actor.merchant_id
    else:
        institution_id = _staff(actor).staff_scope()
    reads = await context.db.reads()
    return await paged(
        first,
        lambda limit: reads.redemptions.settlements_page(
            institution_id=institution_id, merchant_id=merchant_id, after=after, limit=limit
        ),
    )


async def settlement_by_id(context: Context, settlement_id: uuid.UUID) -> Settlement | None:
    actor = await context.require_actor()
    found = await (await context.db.reads()).redemptions.settlements_by_id([settlement_id])
    return found[0] if found and sees_settlement(actor, found[0]) else None


async def event_by_id(context: Context, event_id: uuid.UUID) -> PointsEvent | None:
    actor = await context.require_actor()
    found = await (await context.db.reads()).ledger.events_by_id([event_id])
    return found[0] if found and sees_event(actor, found[0]) else None


async def points_program(context: Context) -> PointsProgram | None:
    """The programme of the viewer's institution."""
    actor = await context.require_actor()
    if actor.institution_id is None:
        return None
    return await program.program_of(await context.db.reads(), actor.institution_id)


async def earning_rules(context: Context) -> Sequence[EarningRule]:
    """How points are earned at the viewer's institution."""
    actor = await context.require_actor()
    if actor.institution_id is None:
        return []
    return await (await context.db.reads()).ledger.rules([actor.institution_id])


def _staff(actor: Actor) -> Actor:
    if not reads_points(actor):
        raise Forbidden
    return actor


async def _customer_in_view(context: Context, customer_id: uuid.UUID | None) -> uuid.UUID | None:
    actor = await context.require_actor()
    if actor.is_customer:
        return actor.customer_id if customer_id in (None, actor.customer_id) else None
    _staff(actor)
    if customer_id is None:
        return None
    customer = await context.visible_customer(customer_id)
    return customer.id if customer else None


# Mutations ------------------------------------------------------------------------------------


async def record_event(context: Context, command: earning.RecordEvent) -> Attempt[earning.Recorded]:
    actor = await context.require_actor()
    return await attempt(
        earning.record_event(
            command,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            today=context.today,
        )
    )


async def cancel_event(context: Context, ref: earning.EventRef) -> Attempt[PointsEvent]:
    actor = await context.require_actor()
    return await attempt(
        earning.cancel_event(
            ref, actor=actor, uow=context.db.unit_of_work(), now=context.now, today=context.today
        )
    )


async def reverse_event(context: Context, ref: earning.EventRef) -> Attempt[PointsEvent]:
    actor = await context.require_actor()
    return await attempt(
        earning.reverse_event(
            ref, actor=actor, uow=context.db.unit_of_work(), now=context.now, today=context.today
        )
    )


async def create_code(context: Context) -> Attempt[redemption.IssuedCode]:
    actor = await context.require_actor()
    return await attempt(
        redemption.create_code(actor=actor, codes_store=context.services.cache, now=context.now)
    )


async def redeem(
    context: Context, command: redemption.RedeemPoints
) -> Attempt[redemption.Redeemed]:
    actor = await context.require_actor()
    return await attempt(
        redemption.redeem_points(
            command,
            actor=actor,
            unit_of_work=context.db.unit_of_work,
            codes_store=context.services.cache,
            now=context.now,
            today=context.today,
        )
    )


class RedemptionStep(Protocol):
    """A step of a redemption's life taken by its customer or its cashier."""

    async def __call__(
        self,
        redemption_id: uuid.UUID,
        *,
        actor: Actor,
        uow: UnitOfWork,
        now: datetime,
        today: date,
    ) -> Redemption: ...


# confirmRedemption, declineRedemption, voidRedemption
CONFIRM: RedemptionStep = redemption.confirm_redemption
DECLINE: RedemptionStep = redemption.decline_redemption
VOID: RedemptionStep = redemption.void_redemption


async def redemption_step(
    context: Context, step: RedemptionStep, redemption_id: uuid.UUID
) -> Attempt[Redemption]:
    actor = await context.require_actor()
    return await attempt(
        step(
            redemption_id,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            today=context.today,
        )
    )


async def reverse_redemption(
    context: Context, redemption_id: uuid.UUID, reason: str
) -> Attempt[Redemption]:
    actor = await context.require_actor()
    return await attempt(
        redemption.reverse_redemption(
            redemption_id,
            reason=reason,
            actor=actor,
            uow=context.db.unit_of_work(),
            request_id=context.request_id,
            now=context.now,
            today=context.today,
        )
    )


async def mark_paid(
    context: Context, settlement_id: uuid.UUID, reference: str
) -> Attempt[Settlement]:
    actor = await context.require_actor()
    return await attempt(
        settlement.mark_paid(
            settlement_id,
            reference=reference,
            actor=actor,
            uow=context.db.unit_of_work(),
            request_id=context.request_id,
            now=context.now,
            today=context.today,
        )
    )


async def set_program(context: Context, given: PointsProgram) -> Attempt[PointsProgram]:
    actor = await context.require_actor()
    return await attempt(
        program.set_program(given, actor=actor, uow=context.db.unit_of_work(), now=context.now)
    )


async def set_rule(context: Context, given: EarningRule) -> Attempt[EarningRule]:
    actor = await context.require_actor()
    return await attempt(
        program.set_rule(given, actor=actor, uow=context.db.unit_of_work(), now=context.now)
    )

"""The points jobs of a business date: pending points become spendable, lots past their last
day expire, and redemptions left unconfirmed lapse. Each is idempotent: a second run of the
same date finds nothing left to do."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jikuai.domain.points.ledger import journal
from jikuai.domain.points.model import AccountKind, EventStatus, JournalKind, Lot, LotState
from jikuai.domain.points.ports import CustomerRef
from jikuai.domain.points.redemption import lapse_overdue
from jikuai.domain.ports import UnitOfWork

BATCH_SIZE = 200


@dataclass(frozen=True, slots=True)
class JobResult:
    customers: int
    lots: int
    points: int


async def expire_points(
    on: date, *, unit_of_work: Callable[[], UnitOfWork], now: datetime, batch_size: int = BATCH_SIZE
) -> JobResult:
    """Expire what is left of every lot whose last day came before `on`, into expiry income."""

    async def expire(uow: UnitOfWork, customer_id: uuid.UUID, lots: Sequence[Lot]) -> int:
        points = sum(lot.remaining for lot in lots)
        if points:
            await _post(
                uow,
                JournalKind.EXPIRE,
                lots[0],
                points,
                on,
                now,
                (customer_id, AccountKind.AVAILABLE, -points),
                (lots[0].institution_id, AccountKind.EXPIRY_INCOME, points),
            )
            for lot in lots:
                lot.expired += lot.remaining
                lot.remaining = 0
            await uow.ledger.save_lots(lots)
        return points

    return await _per_customer(
        unit_of_work,
        lambda uow, after: uow.ledger.customers_expiring(on, after=after, limit=batch_size),
        lambda uow, customer_ids: uow.ledger.lots_expiring(on, customer_ids=customer_ids),
        expire,
    )


async def release_points(
    on: date, *, unit_of_work: Callable[[], UnitOfWork], now: datetime, batch_size: int = BATCH_SIZE
) -> JobResult:
    """Make spendable the pending lots whose waiting days are over by `on`, and lapse the
    redemptions whose confirmation window has closed."""

    async def release(uow: UnitOfWork, customer_id: uuid.UUID, lots: Sequence[Lot]) -> int:
        points = sum(lot.remaining for lot in lots)
        if lots:
            await _post(
                uow,
                JournalKind.RELEASE,
                lots[0],
                points,
                on,
                now,
                (customer_id, AccountKind.PENDING, -points),
                (customer_id, AccountKind.AVAILABLE, points),
            )
            for lot in lots:
                lot.state = LotState.ACTIVE
            await uow.ledger.save_lots(lots)
            for event in await uow.ledger.events_by_id(sorted({lot.event_id for lot in lots})):
                if event.status is EventStatus.PENDING:
                    event.status = EventStatus.POSTED
                    await uow.ledger.save_event(event)
        return points

    result = await _per_customer(
        unit_of_work,
        lambda uow, after: uow.ledger.customers_due(on, after=after, limit=batch_size),
        lambda uow, customer_ids: uow.ledger.lots_due(on, customer_ids=customer_ids),
        release,
    )
    await lapse_overdue(unit_of_work=unit_of_work, now=now, today=on)
    return result


async def _per_customer(
    unit_of_work: Callable[[], UnitOfWork],
    customers: Callable[[UnitOfWork, uuid.UUID | None], Awaitable[Sequence[CustomerRef]]],
    lots_of: Callable[[UnitOfWork, Sequence[uuid.UUID]], Awaitable[Sequence[Lot]]],
    work: Callable[[UnitOfWork, uuid.UUID, Sequence[Lot]], Awaitable[int]],
) -> JobResult:
    """Run `work` on the lots of each customer `customers` pages through, a page per
    transaction. The customers are locked, in id order, before their lots are read, so a
    redemption running at the same time is wholly before or wholly after."""
    done = JobResult(customers=0, lots=0, points=0)
    after: uuid.UUID | None = None
    while True:
        async with unit_of_work() as uow:
            page = await customers(uow, after)
            for customer_id, institution_id in page:
                await uow.ledger.lock_customer(customer_id, institution_id)
            lots = await lots_of(uow, [customer_id for customer_id, _ in page])
            groups = [
                list(group) for _, group in itertools.groupby(lots, key=lambda lot: lot.customer_id)
            ]
            # Institution by institution: two runs at once take the institutions' house accounts
            # in the same order.
            for held in sorted(
                groups, key=lambda group: (group[0].institution_id, group[0].customer_id)
            ):
                customer_id = held[0].customer_id
                moved = await work(uow, customer_id, held)
                done = JobResult(done.customers + 1, done.lots + len(held), done.points + moved)
            await uow.commit()
        if not page:
            return done
        after = page[-1][0]


async def _post(
    uow: UnitOfWork,
    kind: JournalKind,
    lot: Lot,
    points: int,
    on: date,
    now: datetime,
    *entries: tuple[uuid.UUID, AccountKind, int],
) -> None:
    posted = await uow.ledger.post(
        journal(
            kind,
            institution_id=lot.institution_id,
            points=points,
            on=on,
            now=now,
            customer_id=lot.customer_id,
            entries=list(entries),
        )
    )
    if not posted:
        raise RuntimeError(f"{kind} for customer {lot.customer_id} overdrew a guarded account")

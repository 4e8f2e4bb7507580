"""The credit daily pass (日终) and what staff do with the alerts it raises.

For a business date, `run_credit_daily` accrues penalty interest, recomputes days past due,
bucket and five-category classification of every active loan, raises early warnings, lets lapsed
applications expire and closes credit lines past their last day. Running it again for the same
date changes nothing more: accrual stops at the date it reached, and an alert is raised once per
episode. (A drawdown's daily interest is settled at its next repayment, see `servicing`.)
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from jikuai.domain.credit.access import CREDIT_STAFF
from jikuai.domain.credit.alerts import AlertStatus, RiskAlert, Signal, signals
from jikuai.domain.credit.applications import ApplicationState, LoanApplication
from jikuai.domain.credit.model import Loan
from jikuai.domain.credit.products import LoanProduct
from jikuai.domain.credit.servicing import refresh_status
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor

BATCH_SIZE = 200
CONFLICT_RETRIES = 3
EXPIRING_STATES = (
    ApplicationState.DRAFT,
    ApplicationState.MANUAL_REVIEW,
    ApplicationState.APPROVED,
    ApplicationState.CONTRACT_SIGNED,
)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DailyResult:
    business_date: date
    loans: int
    overdue: int
    alerts_raised: int
    applications_expired: int
    credit_lines_expired: int


async def run_credit_daily(
    day: date, *, unit_of_work: Callable[[], UnitOfWork], now: datetime
) -> DailyResult:
    """The pass for business date `day`. A loan already brought to a later date keeps that
    date's status: passes for missed days may run late, in any order, without undoing it."""
    loans = overdue = raised = 0
    after: uuid.UUID | None = None
    while ids := await _next_batch(unit_of_work, after):
        counts = await _with_retries(lambda: _pass_batch(unit_of_work, ids, day, now))
        loans += len(ids)
        overdue += counts[0]
        raised += counts[1]
        after = ids[-1]
    expired = await _expire_applications(unit_of_work, day, now)
    async with unit_of_work() as uow:
        lines_expired = await uow.credit_lines.expire(before=day, at=now)
        await uow.commit()
    return DailyResult(day, loans, overdue, raised, expired, lines_expired)


async def _next_batch(
    unit_of_work: Callable[[], UnitOfWork], after: uuid.UUID | None
) -> Sequence[uuid.UUID]:
    async with unit_of_work() as uow:
        return await uow.loans.active_ids(after=after, limit=BATCH_SIZE)


async def _with_retries(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a batch again when a repayment changed one of its loans under it (SQLite, which
    has no row locks; PostgreSQL queues on the batch's locks instead)."""
    for _ in range(CONFLICT_RETRIES):
        try:
            return await attempt()
        except DomainError as error:
            if error.code is not ErrorCode.CONCURRENT_UPDATE:
                raise
    return await attempt()


async def _pass_batch(
    unit_of_work: Callable[[], UnitOfWork], ids: Sequence[uuid.UUID], on: date, now: datetime
) -> tuple[int, int]:
    async with unit_of_work() as uow:
        counts = await _pass_over(uow, ids, on, now)
        await uow.commit()
    return counts


async def _pass_over(
    uow: UnitOfWork, ids: Sequence[uuid.UUID], on: date, now: datetime
) -> tuple[int, int]:
    """One batch, locked in id order for the whole pass so no repayment interleaves."""
    loans = await uow.loans.lock(ids)
    installments = await uow.loans.installments_of(ids)
    product_ids = list({loan.product_id for loan in loans})
    products = {each.id: each for each in await uow.products.by_id(product_ids)}
    blacklisted = await uow.credit_lists.blacklisted_customers(
        list({loan.customer_id for loan in loans})
    )
    overdue = raised = 0
    for loan in loans:
        if loan.status_date is not None and loan.status_date > on:
            continue
        terms = products[loan.product_id].terms
        rows = installments[loan.id]
        before = copy.deepcopy(rows)
        refresh_status(loan, rows, on, terms.classification)
        loan.status_date = on
        loan.updated_at = now
        changed = [row for row, old in zip(rows, before, strict=True) if row != old]
        await uow.loans.save(loan, changed)
        overdue += loan.days_past_due > 0
        entry = next(
            (each.id for each in blacklisted.get(loan.customer_id, ()) if each.in_force(on)),
            None,
        )
        for signal in signals(loan, rows, on, terms.classification, blacklist_entry=entry):
            raised += await uow.alerts.raise_once(_alert(loan, signal, on, now))
    return overdue, raised


def _alert(loan: Loan, signal: Signal, on: date, now: datetime) -> RiskAlert:
    """A new alert, assigned to the loan's officer."""
    return RiskAlert(
        id=new_id(),
        institution_id=loan.institution_id,
        loan_id=loan.id,
        customer_id=loan.customer_id,
        kind=signal.kind,
        dedupe_key=signal.dedupe_key,
        business_date=on,
        details=signal.details,
        status=AlertStatus.OPEN,
        assignee_id=loan.officer_id,
        note=None,
        created_at=now,
        updated_at=now,
    )


async def _expire_applications(
    unit_of_work: Callable[[], UnitOfWork], on: date, now: datetime
) -> int:
    """Drafts, reviews not done, approvals not signed and contracts not paid out lapse after
    the product's window: each holds room under the customer's total exposure meanwhile."""
    expired = 0
    products: dict[uuid.UUID, LoanProduct] = {}
    for state in EXPIRING_STATES:
        after: uuid.UUID | None = None
        while True:
            async with unit_of_work() as uow:
                batch = await uow.applications.lapsing(state, after=after, limit=BATCH_SIZE)
                if not batch:
                    break
                for application in batch:
                    if application.product_id not in products:
                        found = await uow.products.by_id([application.product_id])
                        products[application.product_id] = found[0]
                    if _lapsed(application, products[application.product_id], on):
                        expired += await _expire(uow, application, now)
                await uow.commit()
            after = batch[-1].id
    return expired


def _lapsed(application: LoanApplication, product: LoanProduct, on: date) -> bool:
    """Whether the application waited past the product's window. An approved revolving
    application waits on nobody: its credit line opened with the approval."""
    terms = product.terms
    if application.state is ApplicationState.APPROVED and terms.revolving:
        return False
    waited_since = business_date(application.updated_at)
    return waited_since + timedelta(days=terms.offer_valid_days) <= on


async def _expire(uow: UnitOfWork, application: LoanApplication, now: datetime) -> int:
    """1 if the application expired; 0 if someone acted on it meanwhile, so it did not lapse."""
    lapsed = application.move(ApplicationState.EXPIRED, actor=None, reason="lapsed", now=now)
    try:
        await uow.applications.save(application, [lapsed])
    except DomainError as error:
        if error.code is not ErrorCode.INVALID_STATE:
            raise
        return 0
    return 1


@dataclass(frozen=True, slots=True)
class AlertAction:
    alert_id: uuid.UUID
    note: str | None = None


async def acknowledge_alert(
    command: AlertAction, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> RiskAlert:
    async with uow:
        alert = await _alert_to_handle(uow, actor, command.alert_id, (AlertStatus.OPEN,))
        alert.status = AlertStatus.ACKNOWLEDGED
        return await _saved(uow, alert, command.note, now)


async def close_alert(
    command: AlertAction, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> RiskAlert:
    async with uow:
        alert = await _alert_to_handle(uow, actor, command.alert_id, _NOT_CLOSED)
        alert.status = AlertStatus.CLOSED
        return await _saved(uow, alert, command.note, now)


async def assign_alert(
    command: AlertAction,
    assignee_id: uuid.UUID,
    *,
    actor: Actor,
    uow: UnitOfWork,
    now: datetime,
) -> RiskAlert:
    """Hand an alert to a staff member of the same institution."""
    async with uow:
        alert = await _alert_to_handle(uow, actor, command.alert_id, _NOT_CLOSED)
        assignee = await uow.tenancy.staff_by_id([assignee_id])
        if not assignee or assignee[0].institution_id != alert.institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("assigneeId",))
        alert.assignee_id = assignee_id
        return await _saved(uow, alert, command.note, now)


_NOT_CLOSED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


async def _alert_to_handle(
    uow: UnitOfWork, actor: Actor, alert_id: uuid.UUID, allowed: tuple[AlertStatus, ...]
) -> RiskAlert:
    """The alert, locked, if the actor works in credit at its institution and its state
    allows what they are about to do."""
    if not actor.is_staff or actor.role not in CREDIT_STAFF:
        raise PermissionDenied
    alert = await uow.alerts.for_update(alert_id)
    if alert is None or alert.institution_id != actor.institution_id:
        raise DomainError(ErrorCode.NOT_FOUND, field=("alertId",))
    if alert.status not in allowed:
        raise DomainError(ErrorCode.INVALID_STATE)
    return alert


async def _saved(uow: UnitOfWork, alert: RiskAlert, note: str | None, now: datetime) -> RiskAlert:
    if note:
        alert.note = note.strip()[:200]
    alert.updated_at = now
    await uow.alerts.save(alert)
    await uow.commit()
    return alert

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jikuai.domain.credit.access import CREDIT_STAFF
from jikuai.domain.credit.alerts import AlertStatus, RiskAlert, Signal, signals
from jikuai.domain.credit.applications import ApplicationState
from jikuai.domain.credit.model import Loan
from jikuai.domain.credit.servicing import refresh_status
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor

BATCH_SIZE = 200
EXPIRING_STATES = (ApplicationState.APPROVED, ApplicationState.MANUAL_REVIEW)


@dataclass(frozen=True, slots=True)
class DailyResult:
    business_date: date
    loans: int
    overdue: int
    alerts_raised: int
    applications_expired: int
    credit_lines_expired: int


async def run_credit_daily(
    business_date: date, *, unit_of_work: Callable[[], UnitOfWork], now: datetime
) -> DailyResult:
    loans = overdue = raised = 0
    after: uuid.UUID | None = None
    while True:
        async with unit_of_work() as uow:
            ids = await uow.loans.active_ids(after=after, limit=BATCH_SIZE)
            if not ids:
                break
            counts = await _pass_over(uow, ids, business_date, now)
            await uow.commit()
        loans += len(ids)
        overdue += counts[0]
        raised += counts[1]
        after = ids[-1]
    expired = await _expire_applications(unit_of_work, business_date, now)
    async with unit_of_work() as uow:
        lines_expired = await uow.credit_lines.expire(before=business_date, at=now)
        await uow.commit()
    return DailyResult(business_date, loans, overdue, raised, expired, lines_expired)


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
        terms = products[loan.product_id].terms
        rows = installments[loan.id]
        before = (loan.days_past_due, loan.classification, copy.deepcopy(rows))
        refresh_status(loan, rows, on, terms.classification)
        changed = [row for row, old in zip(rows, before[2], strict=True) if row != old]
        if changed or before[:2] != (loan.days_past_due, loan.classification):
            loan.updated_at = now
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
    """Approved offers not signed, and reviews not done, lapse after the product's window. An
    approved revolving application is not an offer: its credit line is already open."""
    expired = 0
    for state in EXPIRING_STATES:
        after: uuid.UUID | None = None
        while True:
            async with unit_of_work() as uow:
                batch = await uow.applications.lapsing(state, after=after, limit=BATCH_SIZE)
                if not batch:
                    break
                for application in batch:
                    product = (await uow.products.by_id([application.product_id]))[0]
                    window = timedelta(days=product.terms.offer_valid_days)
                    if product.terms.revolving or application.updated_at.date() + window > on:
                        continue
                    lapsed = application.move(
                        ApplicationState.EXPIRED, actor=None, reason="lapsed", now=now
                    )
                    await uow.applications.save(application, [lapsed])
                    expired += 1
                await uow.commit()
            after = batch[-1].id
    return expired


@dataclass(frozen=True, slots=True)
class AlertAction:
    alert_id: uuid.UUID
    note: str | None = None
    assignee_id: uuid.UUID | None = None


async def acknowledge_alert(
    command: AlertAction, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> RiskAlert:
    return await _act(
        command, actor, uow, now, allowed=(AlertStatus.OPEN,), to=AlertStatus.ACKNOWLEDGED
    )


async def close_alert(
    command: AlertAction, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> RiskAlert:
    return await _act(
        command,
        actor,
        uow,
        now,
        allowed=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
        to=AlertStatus.CLOSED,
    )


async def assign_alert(
    command: AlertAction, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> RiskAlert:
    """Hand an alert to a staff member of the same institution."""
    if command.assignee_id is None:
        raise DomainError(ErrorCode.REQUIRED, field=("assigneeId",))
    async with uow:
        assignee = await uow.tenancy.staff_by_id([command.assignee_id])
        if not assignee or assignee[0].institution_id != actor.institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("assigneeId",))
    return await _act(
        command, actor, uow, now, allowed=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED), to=None
    )


async def _act(
    command: AlertAction,
    actor: Actor,
    uow: UnitOfWork,
    now: datetime,
    *,
    allowed: tuple[AlertStatus, ...],
    to: AlertStatus | None,
) -> RiskAlert:
    if not actor.is_staff or actor.role not in CREDIT_STAFF:
        raise PermissionDenied
    async with uow:
        alert = await uow.alerts.by_id(command.alert_id)
        if alert is None or alert.institution_id != actor.institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("alertId",))
        if alert.status not in allowed:
            raise DomainError(ErrorCode.INVALID_STATE)
        if to is not None:
            alert.status = to
        if command.assignee_id is not None:
            alert.assignee_id = command.assignee_id
        if command.note:
            alert.note = command.note.strip()[:200]
        alert.updated_at = now
        await uow.alerts.save(alert)
        await uow.commit()
    return alert

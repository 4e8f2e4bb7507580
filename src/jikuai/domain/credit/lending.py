"""Money out and back: drawdowns (用信), repayments (还款), classification overrides.

A drawdown first takes its amount from the line in one conditional update, then books the loan
under the drawdown's key; a repayment locks the loan, settles it, and records its key. Either key
used again returns what the first call did, and never moves money twice.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from jikuai.domain.credit.access import CLASSIFYING_STAFF, REPAYMENT_STAFF, acts_on_credit_of
from jikuai.domain.credit.model import (
    Classification,
    Loan,
    LoanInstallment,
    PrepaymentMode,
    RepaymentMethod,
)
from jikuai.domain.credit.origination import installments_of, new_loan
from jikuai.domain.credit.ports import RepaymentRecord
from jikuai.domain.credit.schedules import build_schedule
from jikuai.domain.credit.servicing import apply_repayment
from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.points import earning
from jikuai.domain.points.model import EventType
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.idempotency import check_idempotency_key
from jikuai.domain.shared.ids import new_id
from jikuai.domain.shared.money import exact_cents
from jikuai.domain.tenancy.actors import Actor

CONFLICT_RETRIES = 3


@dataclass(frozen=True, slots=True)
class DrawCredit:
    credit_line_id: uuid.UUID
    amount: Decimal
    days: int
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RepayLoan:
    loan_id: uuid.UUID
    amount: Decimal
    idempotency_key: str
    mode: PrepaymentMode = PrepaymentMode.REDUCE_INSTALLMENT


@dataclass(frozen=True, slots=True)
class Repaid:
    loan: Loan
    repayment: RepaymentRecord
    replayed: bool


async def draw_credit(
    command: DrawCredit,
    *,
    actor: Actor,
    unit_of_work: Callable[[], UnitOfWork],
    now: datetime,
    today: date,
) -> Loan:
    """A drawdown loan within what the line has available; the customer's own line only. It
    matures after `days`, or on the line's last day if that comes first."""
    if not actor.is_customer:
        raise PermissionDenied
    check_idempotency_key(command.idempotency_key)
    command = replace(command, amount=_cash(command.amount))
    try:
        return await _draw(command, actor, unit_of_work(), now, today)
    except DomainError as error:
        if error.code is not ErrorCode.IDEMPOTENCY_KEY_REUSED:
            raise
    # A concurrent call with the same key booked first; ours was rolled back. Answer with its.
    async with unit_of_work() as uow:
        loan = await uow.loans.by_draw_key(command.credit_line_id, command.idempotency_key)
    return _replayed(loan, command)


def _replayed(loan: Loan | None, command: DrawCredit) -> Loan:
    """The drawdown an earlier call with the same key made; the key names one drawdown only."""
    if loan is None or loan.principal != command.amount:
        raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, field=("idempotencyKey",))
    return loan


async def _draw(
    command: DrawCredit, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> Loan:
    async with uow:
        found = await uow.credit_lines.by_id([command.credit_line_id])
        if not found or found[0].customer_id != actor.customer_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("creditLineId",))
        line = found[0]
        earlier = await uow.loans.by_draw_key(line.id, command.idempotency_key)
        if earlier is not None:
            return _replayed(earlier, command)
        product = (await uow.products.by_id([line.product_id]))[0]
        if not 1 <= command.days <= product.terms.max_draw_days:
            raise DomainError(ErrorCode.INVALID_TERM, field=("days",))
        if not line.usable_on(today):
            raise DomainError(ErrorCode.CREDIT_LINE_INACTIVE, field=("creditLineId",))
        days = min(command.days, (line.valid_until - today).days)
        if not await uow.credit_lines.draw(line.id, command.amount, at=now):
            raise DomainError(ErrorCode.LIMIT_EXCEEDED, field=("amount",))
        schedule = build_schedule(
            command.amount,
            annual_rate=line.annual_rate,
            method=RepaymentMethod.REVOLVING,
            start=today,
            days=days,
            days_in_year=product.terms.days_in_year,
        )
        loan = new_loan(
            product,
            customer_id=line.customer_id,
            principal=command.amount,
            annual_rate=line.annual_rate,
            method=RepaymentMethod.REVOLVING,
            schedule=schedule,
            contract_no=f"{line.contract_no}-{new_id().hex[-8:].upper()}",
            start=today,
            now=now,
            credit_line_id=line.id,
            term_days=days,
        )
        await uow.loans.add(loan, installments_of(loan, schedule), draw_key=command.idempotency_key)
        await uow.commit()
    return loan


async def repay_loan(
    command: RepayLoan, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> Repaid:
    """Settle penalty, interest and principal in the product's order; what is left prepays.

    PostgreSQL queues concurrent repayments on the loan's row lock. SQLite has no row locks:
    there the later of two concurrent repayments finds the loan changed, and is tried again
    from the start, so a repeated key is answered as a replay rather than a conflict.
    """
    if actor.is_staff and actor.role not in REPAYMENT_STAFF:
        raise PermissionDenied
    check_idempotency_key(command.idempotency_key)
    command = replace(command, amount=_cash(command.amount))
    for _ in range(CONFLICT_RETRIES):
        try:
            return await _repay(command, actor, uow, now, today)
        except DomainError as error:
            if error.code is not ErrorCode.CONCURRENT_UPDATE:
                raise
    return await _repay(command, actor, uow, now, today)


async def _repay(
    command: RepayLoan, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> Repaid:
    async with uow:
        loan = await uow.loans.for_update(command.loan_id)
        if loan is None or not acts_on_credit_of(
            actor, loan.institution_id, loan.customer_id, REPAYMENT_STAFF
        ):
            raise DomainError(ErrorCode.NOT_FOUND, field=("loanId",))
        earlier = await uow.loans.repayment_by_key(loan.id, command.idempotency_key)
        if earlier is not None:
            if earlier.amount != command.amount:
                raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, field=("idempotencyKey",))
            return Repaid(loan, earlier, replayed=True)
        installments = (await uow.loans.installments_of([loan.id]))[loan.id]
        before = {each.number: copy.copy(each) for each in installments}
        due = next((each for each in installments if not each.is_paid), None)
        settled = apply_repayment(loan, installments, command.amount, today, mode=command.mode)
        loan.updated_at = now
        changed = [each for each in installments if each != before.get(each.number)]
        await uow.loans.save(loan, changed, removed_numbers=settled.removed_numbers)
        record = RepaymentRecord(
            id=new_id(),
            institution_id=loan.institution_id,
            loan_id=loan.id,
            idempotency_key=command.idempotency_key,
            amount=command.amount,
            paid_on=today,
            principal_paid=settled.principal_paid,
            interest_paid=settled.interest_paid,
            penalty_paid=settled.penalty_paid,
            prepaid_principal=settled.prepaid_principal,
            allocations=[
                {
                    "installment": each.installment_number,
                    "component": each.component.value,
                    "amount": str(each.amount),
                }
                for each in settled.allocations
            ],
            actor_kind=actor.kind,
            actor_id=actor.id,
            created_at=now,
        )
        await uow.loans.add_repayment(record)
        if loan.credit_line_id is not None and settled.principal_paid > 0:
            await uow.credit_lines.restore(loan.credit_line_id, settled.principal_paid, at=now)
        if due is not None and due.due_date >= today:
            paid = next(each for each in installments if each.number == due.number)
            if paid.is_paid:
                await _reward_on_time(uow, loan, paid, actor, now, today)
        await uow.commit()
    return Repaid(loan, record, replayed=False)


async def _reward_on_time(
    uow: UnitOfWork,
    loan: Loan,
    installment: LoanInstallment,
    actor: Actor,
    now: datetime,
    today: date,
) -> None:
    """Points for the installment due, paid in full by its due date (按时还款积分), once per
    installment, where the institution rewards it."""
    if not await earning.earns(uow, loan.institution_id, EventType.ON_TIME_REPAYMENT):
        return
    await earning.earn(
        uow,
        earning.RecordEvent(
            customer_id=loan.customer_id,
            event_type=EventType.ON_TIME_REPAYMENT,
            source_ref=f"{loan.contract_no}#{installment.number}",
            amount=installment.principal + installment.interest,
        ),
        loan.institution_id,
        recorded_by=actor.id,
        now=now,
        today=today,
    )


async def override_classification(
    loan_id: uuid.UUID,
    classification: Classification | None,
    reason: str,
    *,
    actor: Actor,
    uow: UnitOfWork,
    now: datetime,
    request_id: str,
) -> Loan:
    """A risk officer's judgement over the derived category (None clears it), audited."""
    if not actor.is_staff or actor.role not in CLASSIFYING_STAFF:
        raise PermissionDenied
    if not reason.strip():
        raise DomainError(ErrorCode.REQUIRED, field=("reason",))
    async with uow:
        loan = await uow.loans.for_update(loan_id)
        if loan is None or loan.institution_id != actor.institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("loanId",))
        before = loan.classification_override
        loan.classification_override = classification
        loan.updated_at = now
        await uow.loans.save(loan, [])
        await uow.identity.add_audit_event(
            AuditEvent.of(
                actor,
                "loan.classification_override",
                institution_id=loan.institution_id,
                subject_type="Loan",
                subject_id=str(loan.id),
                request_id=request_id,
                now=now,
                details={
                    "from": before.value if before else None,
                    "to": classification.value if classification else None,
                    "derived": loan.classification.value,
                    "reason": reason.strip()[:200],
                },
            )
        )
        await uow.commit()
    return loan


def _cash(amount: Decimal) -> Decimal:
    """An amount of money moved: positive, in whole cents, written with two decimals."""
    written = exact_cents(amount)
    if written is None or written <= 0:
        raise DomainError(ErrorCode.INVALID_AMOUNT, field=("amount",))
    return written

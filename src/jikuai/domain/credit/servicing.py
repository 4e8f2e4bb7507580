"""Servicing a booked loan (贷后): accruing, taking repayments, prepayment and delinquency.

The functions here work on a `Loan` and its full list of `LoanInstallment`s, ordered by number,
and change them in place; the repository then persists what changed. Conventions:

- Amounts are `Decimal` CNY, settled in cents rounded half-up. The monthly rate is the annual
  rate / 12, the daily rate the annual rate / `loan.days_in_year`, the penalty daily rate
  `loan.penalty_rate` / `loan.days_in_year`.
- Penalty interest (罚息) accrues on overdue principal only, to six decimals, and is settled in
  cents. A borrower who pays within the grace days owes none; once the grace is exceeded the
  penalty counts from the due date itself, because the grace is a courtesy for paying late by a
  day or two, not a longer term. Accruing is idempotent: it remembers how far it has counted.
- A revolving drawdown (随借随还) has one installment that falls due at maturity. Its interest is
  added day by day on the outstanding principal up to maturity and may be paid at any time;
  after maturity the overdue principal earns penalty instead.
- A repayment settles what is due, oldest installment first and, within one installment, in
  the loan's allocation order (by default penalty, interest, principal). Anything left repays
  future principal early (提前还款). The prepaid principal has been lent only for the days of
  the current period that have passed, so it carries interest for those days alone: cash X
  splits into principal P = X / (1 + daily rate × days) and interest X − P, which add up to X
  exactly. The rest of the loan is then re-amortized on its original due dates, and its current
  installment still charges a full period's interest on the principal that remains.
- Both parts of a prepayment are booked on the current installment, as charged and paid at
  once, so the installments' principal always adds up to the amount lent and their interest to
  the interest actually charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from jikuai.domain.credit.model import (
    ClassificationThresholds,
    Component,
    Loan,
    LoanInstallment,
    LoanStatus,
    PrepaymentMode,
    RepaymentMethod,
)
from jikuai.domain.credit.schedules import (
    Schedule,
    build_schedule,
    day_interest,
    term_for_payment,
    term_for_principal_part,
)
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.shared.money import CENT, ZERO, cents

_ACCRUAL_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Dues:
    """What is owed now, by component."""

    penalty: Decimal
    interest: Decimal
    principal: Decimal

    @property
    def total(self) -> Decimal:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True, slots=True)
class Allocation:
    """Part of a repayment applied to one component of one installment."""

    installment_number: int
    component: Component
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Repayment:
    """How a repayment was applied.

    After `apply_repayment` the installments list holds the loan's whole schedule as it now
    stands: installments that were paid against or re-amortized were changed in place, and those
    a shorter term made unnecessary were removed from the list and are named in
    `removed_numbers`. Persisting every installment in the list by number and deleting the
    removed numbers brings the store up to date.
    """

    allocations: tuple[Allocation, ...]
    principal_paid: Decimal
    interest_paid: Decimal
    penalty_paid: Decimal
    prepaid_principal: Decimal
    rescheduled: bool
    removed_numbers: tuple[int, ...]
    closed: bool


@dataclass(frozen=True, slots=True)
class _Prepayment:
    allocations: tuple[Allocation, ...]
    principal: Decimal
    rescheduled: bool
    removed_numbers: tuple[int, ...]


_NO_PREPAYMENT = _Prepayment((), ZERO, rescheduled=False, removed_numbers=())


def accrue(loan: Loan, installments: list[LoanInstallment], on: date) -> None:
    """Bring penalty interest, and a revolving drawdown's daily interest, up to `on`."""
    for installment in installments:
        _accrue_penalty(loan, installment, on)
    if loan.method is RepaymentMethod.REVOLVING:
        (drawdown,) = installments
        _accrue_revolving_interest(loan, drawdown, on)


def dues(loan: Loan, installments: list[LoanInstallment], on: date) -> Dues:
    """What the borrower owes on `on`, after accruing to that day."""
    accrue(loan, installments, on)
    payable = [_payable(loan, installment, on) for installment in installments]
    return Dues(
        penalty=sum((each[Component.PENALTY] for each in payable), ZERO),
        interest=sum((each[Component.INTEREST] for each in payable), ZERO),
        principal=sum((each[Component.PRINCIPAL] for each in payable), ZERO),
    )


def payoff_amount(loan: Loan, installments: list[LoanInstallment], on: date) -> Decimal:
    """Everything it takes to close the loan on `on`: what is due, the principal not yet due,
    and that principal's interest for the days of the current period that have passed."""
    owed = dues(loan, installments, on).total
    future = _not_yet_due(installments, on)
    principal = _principal_due(future)
    if loan.method is RepaymentMethod.REVOLVING or not future:
        return owed + principal
    return owed + principal + _elapsed_interest(loan, installments, future[0], principal, on)


def apply_repayment(
    loan: Loan,
    installments: list[LoanInstallment],
    amount: Decimal,
    on: date,
    *,
    mode: PrepaymentMode = PrepaymentMode.REDUCE_INSTALLMENT,
) -> Repayment:
    """Apply `amount` paid on `on`: dues first, the rest as a prepayment re-amortized by `mode`.

    A repayment may not be dated before the loan's start, when no interest period has begun.
    Changes `loan` and `installments` in place (see `Repayment` for what to persist).
    """
    cash = _checked_amount(amount)
    if loan.status is not LoanStatus.ACTIVE:
        raise DomainError(ErrorCode.LOAN_CLOSED)
    if on < loan.start_date:
        raise DomainError(ErrorCode.INVALID_DATE, field=("on",))
    if cash > payoff_amount(loan, installments, on):
        raise DomainError(ErrorCode.INVALID_AMOUNT, field=("amount",))
    settled = _settle_dues(loan, installments, cash, on)
    remainder = cash - _total(settled)
    prepayment = (
        _prepay(loan, installments, remainder, on, mode) if remainder > 0 else _NO_PREPAYMENT
    )
    allocations = settled + prepayment.allocations
    _mark_paid(installments, on)
    loan.outstanding_principal = _principal_due(installments)
    closed = all(installment.is_paid for installment in installments)
    if closed:
        _close(loan, on)
    return Repayment(
        allocations=allocations,
        principal_paid=_total(allocations, Component.PRINCIPAL),
        interest_paid=_total(allocations, Component.INTEREST),
        penalty_paid=_total(allocations, Component.PENALTY),
        prepaid_principal=prepayment.principal,
        rescheduled=prepayment.rescheduled,
        removed_numbers=prepayment.removed_numbers,
        closed=closed,
    )


def days_past_due(installments: list[LoanInstallment], on: date) -> int:
    """Days since the oldest installment whose principal or interest is still unpaid fell due."""
    overdue = [
        installment.due_date
        for installment in installments
        if installment.due_date < on and (installment.principal_due or installment.interest_due)
    ]
    return (on - min(overdue)).days if overdue else 0


def refresh_status(
    loan: Loan,
    installments: list[LoanInstallment],
    on: date,
    thresholds: ClassificationThresholds,
) -> None:
    """Accrue penalty to `on` and derive days past due and the five-category classification.

    A revolving drawdown's interest is left to the next repayment: it is rounded to the cent
    once per stretch of unchanged principal, so accruing it every business day would round it
    every day. A risk officer's override is kept apart on the loan and is left as it is.
    """
    for installment in installments:
        _accrue_penalty(loan, installment, on)
    loan.days_past_due = days_past_due(installments, on)
    loan.classification = thresholds.classify(loan.days_past_due)


def _accrue_penalty(loan: Loan, installment: LoanInstallment, on: date) -> None:
    if installment.principal_due <= 0:
        return
    if installment.due_date + timedelta(days=loan.grace_days) >= on:
        return
    since = max(installment.penalty_accrued_to or installment.due_date, installment.due_date)
    days = (on - since).days
    if days <= 0:
        return
    penalty = installment.principal_due * loan.penalty_rate * days / loan.days_in_year
    installment.penalty_accrued += penalty.quantize(_ACCRUAL_PLACES, rounding=ROUND_HALF_UP)
    installment.penalty_accrued_to = on


def _accrue_revolving_interest(loan: Loan, installment: LoanInstallment, on: date) -> None:
    until = min(on, loan.maturity_date)
    days = (until - loan.interest_accrued_to).days
    if days <= 0:
        return
    installment.interest += day_interest(
        loan.outstanding_principal, loan.annual_rate, days, days_in_year=loan.days_in_year
    )
    loan.interest_accrued_to = until


def _payable(loan: Loan, installment: LoanInstallment, on: date) -> dict[Component, Decimal]:
    """What of `installment` may be collected on `on`: all of it once due; before that only a
    revolving drawdown's accrued interest."""
    due = installment.due_date <= on
    interest_payable = due or loan.method is RepaymentMethod.REVOLVING
    return {
        Component.PENALTY: installment.penalty_due,
        Component.INTEREST: installment.interest_due if interest_payable else ZERO,
        Component.PRINCIPAL: installment.principal_due if due else ZERO,
    }


def _not_yet_due(installments: list[LoanInstallment], on: date) -> list[LoanInstallment]:
    return [installment for installment in installments if installment.due_date > on]


def _principal_due(installments: list[LoanInstallment]) -> Decimal:
    return sum((installment.principal_due for installment in installments), ZERO)


def _elapsed_days(
    loan: Loan, installments: list[LoanInstallment], current: LoanInstallment, on: date
) -> int:
    """Days of `current`'s period that have passed: since the previous due date, or the start."""
    earlier = [each.due_date for each in installments if each.number < current.number]
    return (on - (earlier[-1] if earlier else loan.start_date)).days


def _elapsed_interest(
    loan: Loan,
    installments: list[LoanInstallment],
    current: LoanInstallment,
    principal: Decimal,
    on: date,
) -> Decimal:
    days = _elapsed_days(loan, installments, current, on)
    return day_interest(principal, loan.annual_rate, days, days_in_year=loan.days_in_year)


def _checked_amount(amount: Decimal) -> Decimal:
    if not amount.is_finite() or amount <= 0 or amount != cents(amount):
        raise DomainError(ErrorCode.INVALID_AMOUNT, field=("amount",))
    return cents(amount)


def _settle_dues(
    loan: Loan, installments: list[LoanInstallment], cash: Decimal, on: date
) -> tuple[Allocation, ...]:
    allocations = []
    for installment in installments:
        payable = _payable(loan, installment, on)
        for component in loan.allocation_order:
            paid = min(cash, payable[component])
            if paid > 0:
                _pay(installment, component, paid)
                allocations.append(Allocation(installment.number, component, paid))
                cash -= paid
    return tuple(allocations)


def _pay(installment: LoanInstallment, component: Component, amount: Decimal) -> None:
    if component is Component.PENALTY:
        installment.penalty_paid += amount
    elif component is Component.INTEREST:
        installment.interest_paid += amount
    else:
        installment.principal_paid += amount


def _prepay(
    loan: Loan,
    installments: list[LoanInstallment],
    cash: Decimal,
    on: date,
    mode: PrepaymentMode,
) -> _Prepayment:
    if loan.method is RepaymentMethod.REVOLVING:
        (drawdown,) = installments
        _pay(drawdown, Component.PRINCIPAL, cash)
        allocation = Allocation(drawdown.number, Component.PRINCIPAL, cash)
        return _Prepayment((allocation,), cash, rescheduled=False, removed_numbers=())
    return _prepay_term_loan(loan, installments, cash, on, mode)


def _prepay_term_loan(
    loan: Loan,
    installments: list[LoanInstallment],
    cash: Decimal,
    on: date,
    mode: PrepaymentMode,
) -> _Prepayment:
    future = _not_yet_due(installments, on)
    current = future[0]
    outstanding = _principal_due(future)
    days = _elapsed_days(loan, installments, current, on)
    principal, interest = _split_prepayment(loan, cash, outstanding, days)
    remaining = outstanding - principal
    removed = _reamortize(loan, installments, future, remaining, mode)
    current.principal += principal
    current.interest += interest
    allocations = []
    for component, amount in ((Component.INTEREST, interest), (Component.PRINCIPAL, principal)):
        if amount > 0:
            _pay(current, component, amount)
            allocations.append(Allocation(current.number, component, amount))
    return _Prepayment(tuple(allocations), principal, remaining > 0, removed)


def _split_prepayment(
    loan: Loan, cash: Decimal, outstanding: Decimal, days: int
) -> tuple[Decimal, Decimal]:
    """Split `cash` into prepaid principal and its interest for the `days` elapsed.

    Only cash that covers the payoff repays all of `outstanding`; a payment short of it, even
    by the half cent the rounding of P could hide, leaves at least a cent of principal owed.
    """
    payoff_interest = day_interest(
        outstanding, loan.annual_rate, days, days_in_year=loan.days_in_year
    )
    if cash >= outstanding + payoff_interest:
        return outstanding, cash - outstanding
    growth = 1 + loan.annual_rate * days / loan.days_in_year
    principal = min(cents(cash / growth), outstanding - CENT)
    return principal, cash - principal


def _reamortize(
    loan: Loan,
    installments: list[LoanInstallment],
    future: list[LoanInstallment],
    remaining: Decimal,
    mode: PrepaymentMode,
) -> tuple[int, ...]:
    """Put the not-yet-due installments on a schedule for `remaining`; removes those the new
    schedule no longer needs and returns their numbers. Amounts already paid against an
    installment stay part of it."""
    if remaining > 0:
        schedule = _new_schedule(loan, future, remaining, mode)
        for installment, planned in zip(future, schedule.installments, strict=False):
            _set_scheduled(installment, planned.principal, planned.interest)
        kept = len(schedule.installments)
    else:
        _set_scheduled(future[0], ZERO, ZERO)
        kept = 1
    removed = future[kept:]
    for installment in removed:
        installments.remove(installment)
    return tuple(installment.number for installment in removed)


def _set_scheduled(installment: LoanInstallment, principal: Decimal, interest: Decimal) -> None:
    installment.principal = installment.principal_paid + principal
    installment.interest = installment.interest_paid + interest


def _new_schedule(
    loan: Loan, future: list[LoanInstallment], remaining: Decimal, mode: PrepaymentMode
) -> Schedule:
    """The schedule for `remaining` on the loan's original due dates. A bullet loan keeps its
    one due date, so its term is the loan's own."""
    bullet = loan.method is RepaymentMethod.BULLET
    return build_schedule(
        remaining,
        annual_rate=loan.annual_rate,
        method=loan.method,
        start=loan.start_date,
        term_months=loan.term_months if bullet else _remaining_term(loan, future, remaining, mode),
        days_in_year=loan.days_in_year,
        first_number=future[0].number,
    )


def _remaining_term(
    loan: Loan, future: list[LoanInstallment], remaining: Decimal, mode: PrepaymentMode
) -> int:
    """How many installments repay `remaining`: as many as before, or, to reduce the term,
    the fewest that keep the current installment's payment (等额本息) or principal part
    (等额本金)."""
    count = len(future)
    current = future[0]
    payment = current.principal_due + current.interest_due
    part = current.principal_due
    if mode is PrepaymentMode.REDUCE_INSTALLMENT or payment <= 0 or part <= 0:
        return count  # nothing left to keep level: the schedule keeps its length
    if loan.method is RepaymentMethod.EQUAL_INSTALLMENT:
        return min(
            count, term_for_payment(remaining, annual_rate=loan.annual_rate, payment=payment)
        )
    if loan.method is RepaymentMethod.EQUAL_PRINCIPAL:
        return min(count, term_for_principal_part(remaining, principal_part=part))
    return count


def _mark_paid(installments: list[LoanInstallment], on: date) -> None:
    """Date every installment settled by now, those a re-amortization left at nothing too:
    an undated one would read as unpaid once its due date passes."""
    for installment in installments:
        if installment.is_paid and installment.paid_on is None:
            installment.paid_on = on


def _close(loan: Loan, on: date) -> None:
    loan.status = LoanStatus.CLOSED
    loan.closed_on = on
    loan.outstanding_principal = ZERO


def _total(allocations: tuple[Allocation, ...], component: Component | None = None) -> Decimal:
    return sum(
        (each.amount for each in allocations if component is None or each.component is component),
        ZERO,
    )

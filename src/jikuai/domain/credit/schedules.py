"""Repayment schedules (还款计划) for retail loans, in `Decimal` CNY.

Conventions, as Chinese banks print them on a contract:

- The monthly rate is the annual rate / 12; the daily rate is the annual rate / `days_in_year`
  (360 by default, 365 where a product says so).
- Every installment's principal and interest are rounded half-up to the cent on their own, so
  each figure the borrower sees is one they can check with a calculator.
- Because each installment is rounded, the rounded parts do not add up to exactly the amount
  borrowed. The last installment takes the whole remaining balance instead of its formula
  amount, so the principal parts always sum to the principal to the cent and the difference
  lands where it surprises no one: at the end. It is a few cents on short loans; a rounded
  equal installment repays slightly too much or too little principal every month, so the
  difference grows with term and rate (a few yuan on a 30-year mortgage).
- Installment k falls due k calendar months after the loan's start, on the same day of the
  month or the month's last day. Dates are always counted from the start, never from the
  previous due date, so a loan started on the 31st keeps coming back to the 31st.
- An installment never repays more principal than is still owed. Where rounding would clear the
  loan early (tiny loans, or high rates over decades), the installments after that are empty
  rather than negative, and the schedule keeps its number of installments.
"""

from __future__ import annotations

from bisect import bisect_left
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from math import ceil

from jikuai.domain.credit.model import RepaymentMethod
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.shared.money import ZERO, cents

MAX_TERM_MONTHS = 360
MAX_TERM_DAYS = 3660
EARLIEST_START = date(1970, 1, 1)
LATEST_START = date(2200, 12, 31)
_DAY_COUNT_BASES = (360, 365)

_MONTHS_IN_YEAR = 12
_PRECISION = 34


@dataclass(frozen=True, slots=True)
class ScheduledInstallment:
    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    remaining_principal: Decimal  # principal still owed after this installment

    @property
    def payment(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class Schedule:
    installments: tuple[ScheduledInstallment, ...]

    @property
    def total_principal(self) -> Decimal:
        return sum((each.principal for each in self.installments), ZERO)

    @property
    def total_interest(self) -> Decimal:
        return sum((each.interest for each in self.installments), ZERO)

    @property
    def total_payment(self) -> Decimal:
        return sum((each.payment for each in self.installments), ZERO)


def due_date(start: date, months: int) -> date:
    """`months` calendar months after `start`, on the same day or the month's last day."""
    year, month_index = divmod(
        start.year * _MONTHS_IN_YEAR + start.month - 1 + months, _MONTHS_IN_YEAR
    )
    month = month_index + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def day_interest(
    principal: Decimal, annual_rate: Decimal, days: int, *, days_in_year: int = 360
) -> Decimal:
    """Simple interest for `days` days, in cents."""
    _check_days_in_year(days_in_year)
    return cents(principal * annual_rate * days / days_in_year)


def build_schedule(
    principal: Decimal,
    *,
    annual_rate: Decimal,
    method: RepaymentMethod,
    start: date,
    term_months: int | None = None,
    days: int | None = None,
    days_in_year: int = 360,
    first_number: int = 1,
) -> Schedule:
    """The installments that repay `principal` lent on `start`.

    REVOLVING takes `days`, every other method `term_months`; BULLET and REVOLVING have a single
    installment, numbered `first_number`. To re-amortize the rest of a loan
    after a prepayment, pass what is still owed as `principal`, the number of installments left
    as `term_months`, the number of the next installment as `first_number`, and the loan's
    original `start`: due dates stay where the contract put them.
    """
    _check_days_in_year(days_in_year)
    if first_number < 1:
        raise ValueError("installments are numbered from 1")
    amount = _checked_principal(principal)
    _check_rate(annual_rate)
    _check_start(start)
    if method is RepaymentMethod.REVOLVING:
        days_lent = _checked_days(days, term_months)
        interest = day_interest(amount, annual_rate, days_lent, days_in_year=days_in_year)
        return _single(first_number, start + timedelta(days=days_lent), amount, interest)
    months = _checked_term_months(term_months, days)
    if method is RepaymentMethod.BULLET:
        due = due_date(start, months)
        interest = day_interest(amount, annual_rate, (due - start).days, days_in_year=days_in_year)
        return _single(first_number, due, amount, interest)
    principal_part = _principal_part_rule(method, amount, annual_rate, months)
    return _amortize(amount, annual_rate, start, months, first_number, principal_part)


def term_for_payment(principal: Decimal, *, annual_rate: Decimal, payment: Decimal) -> int:
    """The fewest months over which `principal` is repaid by equal installments of at most
    `payment` (等额本息, prepayment that reduces the term).

    The equal installment only falls as the term grows, so the terms can be bisected.
    """
    if principal <= 0:
        raise ValueError("principal must be positive")
    terms = range(1, MAX_TERM_MONTHS + 1)
    index = bisect_left(
        terms, True, key=lambda months: _level_payment(principal, annual_rate, months) <= payment
    )
    if index == len(terms):
        raise ValueError(f"no term up to {MAX_TERM_MONTHS} months brings the payment to {payment}")
    return terms[index]


def term_for_principal_part(principal: Decimal, *, principal_part: Decimal) -> int:
    """The months needed to repay `principal` at `principal_part` a month (等额本金, prepayment
    that reduces the term)."""
    if principal <= 0 or principal_part <= 0:
        raise ValueError("principal and principal part must be positive")
    return max(1, ceil(principal / principal_part))


def _check_days_in_year(days_in_year: int) -> None:
    if days_in_year not in _DAY_COUNT_BASES:
        raise ValueError(f"days_in_year must be one of {_DAY_COUNT_BASES}")


def _checked_principal(principal: Decimal) -> Decimal:
    if not principal.is_finite() or principal <= 0 or principal != cents(principal):
        raise DomainError(ErrorCode.INVALID_AMOUNT, field=("amount",))
    return cents(principal)


def _check_rate(annual_rate: Decimal) -> None:
    if not annual_rate.is_finite() or not 0 <= annual_rate < 1:
        raise DomainError(ErrorCode.INVALID_RATE, field=("annualRate",))


def _check_start(start: date) -> None:
    """A date a loan may start on; the longest term from it still ends on a calendar date."""
    if not EARLIEST_START <= start <= LATEST_START:
        raise DomainError(ErrorCode.INVALID_DATE, field=("startDate",))


def _checked_days(days: int | None, term_months: int | None) -> int:
    if term_months is not None:
        raise DomainError(ErrorCode.INVALID_TERM, field=("termMonths",))
    if days is None or not 1 <= days <= MAX_TERM_DAYS:
        raise DomainError(ErrorCode.INVALID_TERM, field=("days",))
    return days


def _checked_term_months(term_months: int | None, days: int | None) -> int:
    if days is not None:
        raise DomainError(ErrorCode.INVALID_TERM, field=("days",))
    if term_months is None or not 1 <= term_months <= MAX_TERM_MONTHS:
        raise DomainError(ErrorCode.INVALID_TERM, field=("termMonths",))
    return term_months


def _single(number: int, due: date, principal: Decimal, interest: Decimal) -> Schedule:
    return Schedule((ScheduledInstallment(number, due, principal, interest, ZERO),))


def _monthly_interest(balance: Decimal, annual_rate: Decimal) -> Decimal:
    """A month's interest on `balance`; dividing last keeps the product exact, so a true
    half cent rounds up."""
    return cents(balance * annual_rate / _MONTHS_IN_YEAR)


def _level_payment(principal: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    """The equal installment A = P·r·(1+r)^n / ((1+r)^n − 1), or P/n without interest."""
    with localcontext(prec=_PRECISION):
        if annual_rate == 0:
            return cents(principal / months)
        rate = annual_rate / _MONTHS_IN_YEAR
        growth = (1 + rate) ** months
        return cents(principal * rate * growth / (growth - 1))


def _principal_part_rule(
    method: RepaymentMethod, principal: Decimal, annual_rate: Decimal, months: int
) -> Callable[[Decimal], Decimal]:
    """How much principal an installment repays, given its interest."""
    if method is RepaymentMethod.EQUAL_INSTALLMENT:
        payment = _level_payment(principal, annual_rate, months)
        return lambda interest: payment - interest
    if method is RepaymentMethod.EQUAL_PRINCIPAL:
        part = cents(principal / months)
        return lambda _interest: part
    if method is RepaymentMethod.INTEREST_FIRST:
        return lambda _interest: ZERO
    raise DomainError(ErrorCode.INVALID_METHOD, field=("method",))


def _amortize(
    principal: Decimal,
    annual_rate: Decimal,
    start: date,
    months: int,
    first_number: int,
    principal_part: Callable[[Decimal], Decimal],
) -> Schedule:
    last_number = first_number + months - 1
    balance = principal
    installments = []
    for number in range(first_number, last_number + 1):
        interest = _monthly_interest(balance, annual_rate)
        repaid = balance if number == last_number else min(principal_part(interest), balance)
        balance -= repaid
        installments.append(
            ScheduledInstallment(number, due_date(start, number), repaid, interest, balance)
        )
    return Schedule(tuple(installments))

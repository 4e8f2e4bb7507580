"""Servicing a loan: accrual, repayment allocation, penalty, prepayment and delinquency."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jikuai.domain.credit.model import (
    DEFAULT_ALLOCATION,
    Classification,
    ClassificationThresholds,
    Component,
    Loan,
    LoanInstallment,
    LoanStatus,
    PrepaymentMode,
    RepaymentMethod,
)
from jikuai.domain.credit.schedules import build_schedule, day_interest
from jikuai.domain.credit.servicing import (
    Allocation,
    Dues,
    accrue,
    apply_repayment,
    days_past_due,
    dues,
    payoff_amount,
    refresh_status,
)
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.shared.money import ZERO, cents

START = date(2025, 1, 15)
RATE = Decimal("0.0435")
PENALTY_RATE = RATE * Decimal("1.5")


def book(
    principal: Decimal = Decimal("100000.00"),
    *,
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT,
    term_months: int | None = 12,
    term_days: int | None = None,
    rate: Decimal = RATE,
    grace_days: int = 0,
    allocation_order: tuple[Component, ...] = DEFAULT_ALLOCATION,
) -> tuple[Loan, list[LoanInstallment]]:
    """A loan disbursed on START with its installments. A revolving drawdown's installment
    starts without interest: interest is added as the days pass."""
    revolving = method is RepaymentMethod.REVOLVING
    schedule = build_schedule(
        principal,
        annual_rate=rate,
        method=method,
        start=START,
        term_months=None if revolving else term_months,
        days=term_days if revolving else None,
    )
    loan_id = uuid.uuid4()
    installments = [
        LoanInstallment(
            loan_id, row.number, row.due_date, row.principal, ZERO if revolving else row.interest
        )
        for row in schedule.installments
    ]
    now = datetime(2025, 1, 15, 9, tzinfo=UTC)
    loan = Loan(
        id=loan_id,
        institution_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        product_id=uuid.uuid4(),
        application_id=None,
        credit_line_id=None,
        officer_id=None,
        contract_no="JK-2025-0001",
        method=method,
        principal=principal,
        annual_rate=rate,
        penalty_rate=rate * Decimal("1.5"),
        days_in_year=360,
        grace_days=grace_days,
        allocation_order=allocation_order,
        term_months=None if revolving else term_months,
        term_days=term_days if revolving else None,
        start_date=START,
        maturity_date=installments[-1].due_date,
        status=LoanStatus.ACTIVE,
        outstanding_principal=principal,
        interest_accrued_to=START,
        days_past_due=0,
        classification=Classification.NORMAL,
        classification_override=None,
        closed_on=None,
        created_at=now,
        updated_at=now,
    )
    return loan, installments


def scheduled_payment(installment: LoanInstallment) -> Decimal:
    return installment.principal_due + installment.interest_due


def pay_on_due_dates(loan: Loan, installments: list[LoanInstallment], numbers: range) -> None:
    for installment in list(installments):
        if installment.number in numbers:
            payment = scheduled_payment(installment)
            apply_repayment(loan, installments, payment, installment.due_date)


def penalty(principal: Decimal, days: int) -> Decimal:
    return cents(principal * PENALTY_RATE * days / 360)


# Paying on schedule


def test_paying_every_installment_on_its_due_date_closes_the_loan() -> None:
    loan, installments = book()

    repayments = [
        apply_repayment(loan, installments, scheduled_payment(each), each.due_date)
        for each in list(installments)
    ]

    assert sum(each.interest_paid for each in repayments) == Decimal("2371.90")
    assert sum(each.principal_paid for each in repayments) == Decimal("100000.00")
    assert all(each.penalty_paid == 0 for each in repayments)
    assert [each.closed for each in repayments] == [False] * 11 + [True]
    assert loan.status is LoanStatus.CLOSED
    assert loan.closed_on == installments[-1].due_date
    assert loan.outstanding_principal == 0
    assert all(each.paid_on == each.due_date for each in installments)


def test_nothing_is_due_before_the_first_due_date() -> None:
    loan, installments = book()

    assert dues(loan, installments, installments[0].due_date - timedelta(days=1)) == Dues(
        ZERO, ZERO, ZERO
    )


# Allocation


def test_a_partial_payment_on_an_overdue_installment_pays_penalty_interest_principal() -> None:
    loan, installments = book()
    first = installments[0]
    expected_penalty = penalty(first.principal, 10)

    repayment = apply_repayment(
        loan,
        installments,
        expected_penalty + first.interest + Decimal("100.00"),
        first.due_date + timedelta(days=10),
    )

    assert repayment.allocations == (
        Allocation(1, Component.PENALTY, expected_penalty),
        Allocation(1, Component.INTEREST, Decimal("362.50")),
        Allocation(1, Component.PRINCIPAL, Decimal("100.00")),
    )
    assert first.principal_due == Decimal("8068.49")
    assert loan.outstanding_principal == Decimal("99900.00")


def test_a_products_allocation_order_decides_what_is_paid_first() -> None:
    order = (Component.PRINCIPAL, Component.INTEREST, Component.PENALTY)
    loan, installments = book(allocation_order=order)
    first = installments[0]

    repayment = apply_repayment(
        loan, installments, first.principal + Decimal("10.00"), first.due_date + timedelta(days=10)
    )

    assert repayment.allocations == (
        Allocation(1, Component.PRINCIPAL, first.principal),
        Allocation(1, Component.INTEREST, Decimal("10.00")),
    )
    assert first.penalty_due == penalty(first.principal, 10)


def test_the_oldest_installment_is_settled_first() -> None:
    loan, installments = book()
    on = installments[1].due_date + timedelta(days=1)
    first_dues = dues(loan, installments[:1], on).total

    repayment = apply_repayment(loan, installments, first_dues + Decimal("50.00"), on)

    assert installments[0].is_paid
    assert installments[0].paid_on == on
    assert [each.installment_number for each in repayment.allocations][-1] == 2
    assert sum(each.amount for each in repayment.allocations if each.installment_number == 2) == (
        Decimal("50.00")
    )


# Penalty interest and grace


@pytest.mark.parametrize(("days_late", "penalty_days"), [(0, 0), (2, 0), (3, 0), (4, 4), (5, 5)])
def test_penalty_counts_from_the_due_date_once_the_grace_days_are_exceeded(
    days_late: int, penalty_days: int
) -> None:
    loan, installments = book(grace_days=3)
    first = installments[0]
    on = first.due_date + timedelta(days=days_late)

    owed = dues(loan, installments, on)
    repayment = apply_repayment(loan, installments, owed.total, on)

    assert owed.penalty == penalty(first.principal, penalty_days)
    assert repayment.penalty_paid == owed.penalty
    assert first.is_paid


def test_accruing_twice_to_the_same_day_adds_nothing() -> None:
    loan, installments = book()
    on = installments[0].due_date + timedelta(days=7)

    accrue(loan, installments, on)
    accrued = installments[0].penalty_accrued
    accrue(loan, installments, on)

    assert installments[0].penalty_accrued == accrued
    assert installments[0].penalty_accrued_to == on


def test_accruing_day_by_day_matches_accruing_once_to_the_cent() -> None:
    daily_loan, daily = book()
    once_loan, once = book()
    due = daily[0].due_date

    for day in range(1, 61):
        accrue(daily_loan, daily, due + timedelta(days=day))
    accrue(once_loan, once, due + timedelta(days=60))

    assert abs(daily[0].penalty_accrued - once[0].penalty_accrued) < Decimal("0.01")


# Revolving drawdowns


def test_a_revolving_drawdown_repaid_after_45_days_pays_45_days_of_interest() -> None:
    loan, installments = book(
        Decimal("50000.00"), method=RepaymentMethod.REVOLVING, term_months=None, term_days=90
    )
    on = START + timedelta(days=45)

    assert dues(loan, installments, on) == Dues(ZERO, Decimal("271.88"), ZERO)
    assert payoff_amount(loan, installments, on) == Decimal("50271.88")
    repayment = apply_repayment(loan, installments, Decimal("50271.88"), on)

    assert repayment.interest_paid == Decimal("271.88")
    assert repayment.principal_paid == Decimal("50000.00")
    assert repayment.closed
    assert loan.status is LoanStatus.CLOSED


def test_repaying_revolving_principal_early_lowers_later_interest() -> None:
    loan, installments = book(
        Decimal("50000.00"), method=RepaymentMethod.REVOLVING, term_months=None, term_days=90
    )

    early = apply_repayment(loan, installments, Decimal("20090.63"), START + timedelta(days=15))

    assert early.interest_paid == Decimal("90.63")
    assert early.prepaid_principal == Decimal("20000.00")
    assert loan.outstanding_principal == Decimal("30000.00")
    assert payoff_amount(loan, installments, START + timedelta(days=45)) == Decimal("30108.75")


def test_an_overdue_revolving_drawdown_earns_penalty_instead_of_interest() -> None:
    loan, installments = book(
        Decimal("50000.00"), method=RepaymentMethod.REVOLVING, term_months=None, term_days=30
    )
    on = START + timedelta(days=40)

    assert dues(loan, installments, on) == Dues(
        penalty(Decimal("50000.00"), 10), Decimal("181.25"), Decimal("50000.00")
    )
    assert loan.interest_accrued_to == loan.maturity_date
    assert days_past_due(installments, on) == 10


# Prepayment


def test_paying_off_mid_period_charges_the_elapsed_days_and_closes_the_loan() -> None:
    loan, installments = book()
    pay_on_due_dates(loan, installments, range(1, 4))
    on = installments[2].due_date + timedelta(days=10)
    remaining = loan.outstanding_principal
    elapsed_interest = day_interest(remaining, RATE, 10)

    payoff = payoff_amount(loan, installments, on)
    repayment = apply_repayment(loan, installments, payoff, on)

    assert payoff == remaining + elapsed_interest
    assert repayment.closed
    assert repayment.prepaid_principal == remaining
    assert repayment.interest_paid == elapsed_interest
    assert repayment.removed_numbers == tuple(range(5, 13))
    assert [each.number for each in installments] == [1, 2, 3, 4]
    assert installments[3].interest == elapsed_interest
    assert installments[3].paid_on == on
    assert sum(each.principal for each in installments) == loan.principal
    assert loan.status is LoanStatus.CLOSED


def test_a_partial_prepayment_reducing_the_installment_keeps_the_term() -> None:
    loan, installments = book()
    pay_on_due_dates(loan, installments, range(1, 4))
    on = installments[2].due_date + timedelta(days=10)
    before = loan.outstanding_principal
    old_payment = scheduled_payment(installments[4])

    repayment = apply_repayment(loan, installments, Decimal("30000.00"), on)

    prepaid = cents(Decimal("30000.00") / (1 + RATE * 10 / 360))
    assert repayment.prepaid_principal == prepaid
    assert repayment.interest_paid == Decimal("30000.00") - prepaid
    assert repayment.rescheduled
    assert repayment.removed_numbers == ()
    assert len(installments) == 12
    assert scheduled_payment(installments[4]) < old_payment
    assert loan.outstanding_principal == before - prepaid
    assert sum(each.principal for each in installments) == loan.principal
    pay_on_due_dates(loan, installments, range(4, 13))
    assert loan.status is LoanStatus.CLOSED
    assert sum(each.principal_paid for each in installments) == loan.principal


@pytest.mark.parametrize(
    "method", [RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL]
)
def test_a_partial_prepayment_reducing_the_term_keeps_the_payment(
    method: RepaymentMethod,
) -> None:
    loan, installments = book(method=method)
    pay_on_due_dates(loan, installments, range(1, 4))
    on = installments[2].due_date + timedelta(days=10)
    old_payment = scheduled_payment(installments[4])
    old_principal_part = installments[4].principal

    repayment = apply_repayment(
        loan, installments, Decimal("30000.00"), on, mode=PrepaymentMode.REDUCE_TERM
    )

    assert repayment.removed_numbers
    assert [each.number for each in installments] == list(
        range(1, 13 - len(repayment.removed_numbers))
    )
    assert scheduled_payment(installments[4]) <= old_payment
    assert installments[4].principal <= old_principal_part
    assert sum(each.principal for each in installments) == loan.principal
    pay_on_due_dates(loan, installments, range(4, 13))
    assert loan.status is LoanStatus.CLOSED


@pytest.mark.parametrize("method", [RepaymentMethod.INTEREST_FIRST, RepaymentMethod.BULLET])
def test_prepaying_interest_first_and_bullet_loans_keeps_the_due_dates(
    method: RepaymentMethod,
) -> None:
    loan, installments = book(method=method)
    on = START + timedelta(days=20)
    dates = [(each.number, each.due_date) for each in installments]

    repayment = apply_repayment(loan, installments, Decimal("20000.00"), on)

    assert [(each.number, each.due_date) for each in installments] == dates
    assert loan.outstanding_principal == Decimal("100000.00") - repayment.prepaid_principal
    assert installments[-1].principal_due == loan.outstanding_principal
    assert sum(each.principal for each in installments) == loan.principal


def test_a_bullet_loans_interest_is_recomputed_on_the_smaller_principal() -> None:
    loan, installments = book(method=RepaymentMethod.BULLET)
    only = installments[0]

    repayment = apply_repayment(loan, installments, Decimal("20000.00"), START + timedelta(days=20))

    days = (only.due_date - START).days
    assert only.interest_due == day_interest(loan.outstanding_principal, RATE, days)
    assert only.interest_paid == repayment.interest_paid


# Refusals


@pytest.mark.parametrize("amount", ["0", "-1.00", "0.001", "NaN", "Infinity"])
def test_an_amount_that_is_not_positive_cents_is_refused(amount: str) -> None:
    loan, installments = book()

    with pytest.raises(DomainError) as raised:
        apply_repayment(loan, installments, Decimal(amount), START)

    assert raised.value.code is ErrorCode.INVALID_AMOUNT
    assert raised.value.field == ("amount",)


def test_paying_more_than_the_payoff_is_refused() -> None:
    loan, installments = book()
    on = START + timedelta(days=10)

    with pytest.raises(DomainError) as raised:
        apply_repayment(
            loan, installments, payoff_amount(loan, installments, on) + Decimal("0.01"), on
        )

    assert raised.value.code is ErrorCode.INVALID_AMOUNT


def test_a_repayment_dated_before_the_loan_started_is_refused() -> None:
    loan, installments = book()

    with pytest.raises(DomainError) as raised:
        apply_repayment(loan, installments, Decimal("1.00"), START - timedelta(days=1))

    assert raised.value.code is ErrorCode.INVALID_DATE


def test_a_closed_loan_takes_no_repayment() -> None:
    loan, installments = book()
    apply_repayment(loan, installments, payoff_amount(loan, installments, START), START)

    with pytest.raises(DomainError) as raised:
        apply_repayment(loan, installments, Decimal("1.00"), START)

    assert raised.value.code is ErrorCode.LOAN_CLOSED


# Delinquency


@pytest.mark.parametrize(
    ("days_late", "classification"),
    [
        (0, Classification.NORMAL),
        (1, Classification.SPECIAL_MENTION),
        (90, Classification.SPECIAL_MENTION),
        (91, Classification.SUBSTANDARD),
        (270, Classification.SUBSTANDARD),
        (271, Classification.DOUBTFUL),
        (361, Classification.LOSS),
    ],
)
def test_classification_follows_days_past_due(
    days_late: int, classification: Classification
) -> None:
    loan, installments = book()
    loan.classification_override = Classification.DOUBTFUL

    refresh_status(
        loan,
        installments,
        installments[0].due_date + timedelta(days=days_late),
        ClassificationThresholds(),
    )

    assert loan.days_past_due == days_late
    assert loan.classification is classification
    assert loan.classification_override is Classification.DOUBTFUL


def test_unpaid_penalty_alone_does_not_make_a_loan_past_due() -> None:
    order = (Component.PRINCIPAL, Component.INTEREST, Component.PENALTY)
    loan, installments = book(allocation_order=order)
    first = installments[0]
    paid_on = first.due_date + timedelta(days=10)
    apply_repayment(loan, installments, scheduled_payment(first), paid_on)

    assert first.penalty_due > 0
    assert days_past_due(installments, paid_on + timedelta(days=5)) == 0


# Invariants


@settings(max_examples=60, deadline=None)
@given(
    method=st.sampled_from([RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL]),
    principal_cents=st.integers(100_000, 50_000_000),
    term_months=st.integers(1, 24),
    rate=st.sampled_from([Decimal("0"), Decimal("0.0435"), Decimal("0.18")]),
    grace_days=st.integers(0, 5),
    mode=st.sampled_from(list(PrepaymentMode)),
    payments=st.lists(
        st.tuples(st.integers(0, 60), st.integers(1, 30_000_000)), min_size=1, max_size=12
    ),
)
def test_repayments_keep_the_books_consistent(
    method: RepaymentMethod,
    principal_cents: int,
    term_months: int,
    rate: Decimal,
    grace_days: int,
    mode: PrepaymentMode,
    payments: list[tuple[int, int]],
) -> None:
    principal = Decimal(principal_cents) / 100
    loan, installments = book(
        principal, method=method, term_months=term_months, rate=rate, grace_days=grace_days
    )
    on = START
    for gap, amount_cents in payments:
        on += timedelta(days=gap)
        if loan.status is LoanStatus.CLOSED:
            break
        amount = min(Decimal(amount_cents) / 100, payoff_amount(loan, installments, on))

        repayment = apply_repayment(loan, installments, amount, on, mode=mode)

        assert sum(each.amount for each in repayment.allocations) == amount
        assert all(each.amount > 0 for each in repayment.allocations)
        owed = dues(loan, installments, on)
        assert min(owed.penalty, owed.interest, owed.principal) >= 0
        assert all(
            min(each.principal_due, each.interest_due, each.penalty_due) >= 0
            for each in installments
        )
        assert sum(each.principal_paid for each in installments) <= principal
        assert sum(each.principal for each in installments) == principal
        assert loan.outstanding_principal == sum(each.principal_due for each in installments)
    if loan.status is LoanStatus.ACTIVE:
        apply_repayment(loan, installments, payoff_amount(loan, installments, on), on)
    assert loan.status is LoanStatus.CLOSED
    assert sum(each.principal_paid for each in installments) == principal


def test_installments_a_prepayment_empties_are_dated_paid() -> None:
    """What a re-amortization leaves at 0.00 is settled, and must not read as unpaid later."""
    loan, installments = book(Decimal("12000.00"), method=RepaymentMethod.EQUAL_PRINCIPAL)
    on = loan.start_date + timedelta(days=3)
    payoff = payoff_amount(loan, installments, on)

    apply_repayment(loan, installments, payoff - Decimal("0.05"), on)

    settled = [each for each in installments if each.is_paid]
    assert len(settled) >= 2
    assert all(each.paid_on == on for each in settled)
    assert [each.principal_due for each in installments if not each.is_paid] == [Decimal("0.05")]


def test_reducing_the_term_after_the_current_installment_is_emptied_keeps_the_length() -> None:
    loan, installments = book(Decimal("12000.00"), method=RepaymentMethod.EQUAL_PRINCIPAL)
    on = loan.start_date + timedelta(days=3)
    payoff = payoff_amount(loan, installments, on)
    apply_repayment(loan, installments, payoff - Decimal("0.05"), on)

    repaid = apply_repayment(
        loan, installments, Decimal("0.01"), on, mode=PrepaymentMode.REDUCE_TERM
    )

    assert repaid.principal_paid + repaid.interest_paid == Decimal("0.01")

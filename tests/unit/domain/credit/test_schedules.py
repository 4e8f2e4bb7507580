"""Repayment schedules: verified contract figures, due dates, invariants, prepayment terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jikuai.domain.credit.model import RepaymentMethod
from jikuai.domain.credit.schedules import (
    MAX_TERM_DAYS,
    MAX_TERM_MONTHS,
    Schedule,
    build_schedule,
    day_interest,
    due_date,
    term_for_payment,
    term_for_principal_part,
)
from jikuai.domain.shared.errors import DomainError, ErrorCode

START = date(2025, 1, 15)

thorough = settings(max_examples=200, deadline=None)


def in_cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=low, max_value=high).map(lambda count: Decimal(count).scaleb(-2))


def in_basis_points(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=low, max_value=high).map(lambda count: Decimal(count).scaleb(-4))


principals = in_cents(1, 1_000_000_000)
rates = in_basis_points(0, 2400)
methods = st.sampled_from(RepaymentMethod)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
terms = st.integers(min_value=1, max_value=MAX_TERM_MONTHS)
day_terms = st.integers(min_value=1, max_value=MAX_TERM_DAYS)
ordinary_principals = in_cents(1_000_000, 1_000_000_000)  # from 10,000
ordinary_rates = in_basis_points(0, 1200)  # up to 12%

AMORTIZING = (
    RepaymentMethod.EQUAL_INSTALLMENT,
    RepaymentMethod.EQUAL_PRINCIPAL,
    RepaymentMethod.INTEREST_FIRST,
)


def schedule(
    principal: str | Decimal,
    method: RepaymentMethod,
    *,
    rate: str | Decimal = "0.0435",
    months: int = 12,
    start: date = START,
    first_number: int = 1,
) -> Schedule:
    return build_schedule(
        Decimal(principal),
        annual_rate=Decimal(rate),
        method=method,
        start=start,
        term_months=months,
        first_number=first_number,
    )


def any_schedule(
    principal: Decimal, rate: Decimal, method: RepaymentMethod, start: date, months: int, days: int
) -> Schedule:
    """A schedule for any method: revolving drawdowns run for `days`, the rest for `months`."""
    if method is RepaymentMethod.REVOLVING:
        return build_schedule(principal, annual_rate=rate, method=method, start=start, days=days)
    return build_schedule(
        principal, annual_rate=rate, method=method, start=start, term_months=months
    )


def level_payment(principal: Decimal, rate: Decimal, months: int) -> Decimal:
    plan = schedule(principal, RepaymentMethod.EQUAL_INSTALLMENT, rate=rate, months=months)
    return plan.installments[0].payment


# Verified contract figures


def test_equal_installment_100k_over_12_months_at_4_35_percent() -> None:
    plan = schedule("100000", RepaymentMethod.EQUAL_INSTALLMENT)
    first, *_, last = plan.installments

    assert (first.interest, first.principal) == (Decimal("362.50"), Decimal("8168.49"))
    assert {each.payment for each in plan.installments[:-1]} == {Decimal("8530.99")}
    assert last.payment == Decimal("8531.01")
    assert plan.total_interest == Decimal("2371.90")


def test_equal_principal_100k_over_12_months_at_4_35_percent() -> None:
    plan = schedule("100000", RepaymentMethod.EQUAL_PRINCIPAL)
    payments = [each.payment for each in plan.installments]
    drops = {earlier - later for earlier, later in pairwise(payments[:-1])}

    assert payments[0] == Decimal("8695.83")
    assert payments[0] - payments[1] == Decimal("30.21")
    assert drops <= {Decimal("30.20"), Decimal("30.21")}
    assert payments[-1] == Decimal("8363.58")
    assert plan.total_interest == Decimal("2356.26")


def test_equal_installment_300k_over_36_months_at_lpr_plus_100_bp() -> None:
    plan = schedule("300000", RepaymentMethod.EQUAL_INSTALLMENT, rate="0.0485", months=36)
    first, *_, last = plan.installments

    assert first.payment == Decimal("8971.08")
    assert first.interest == Decimal("1212.50")
    assert last.payment == Decimal("8971.04")
    assert plan.total_interest == Decimal("22958.84")


def test_equal_installment_300k_over_36_months_at_4_percent() -> None:
    plan = schedule("300000", RepaymentMethod.EQUAL_INSTALLMENT, rate="0.04", months=36)

    assert plan.installments[0].payment == Decimal("8857.20")


def test_revolving_50k_for_45_days_at_4_35_percent() -> None:
    plan = build_schedule(
        Decimal("50000"),
        annual_rate=Decimal("0.0435"),
        method=RepaymentMethod.REVOLVING,
        start=START,
        days=45,
    )

    (only,) = plan.installments
    assert (only.number, only.due_date) == (1, date(2025, 3, 1))
    assert (only.principal, only.interest) == (Decimal("50000.00"), Decimal("271.88"))


def test_day_interest_on_360_and_365_day_years() -> None:
    assert day_interest(Decimal("50000"), Decimal("0.0435"), 45) == Decimal("271.88")
    assert day_interest(Decimal("50000"), Decimal("0.0435"), 45, days_in_year=365) == Decimal(
        "268.15"
    )


# Other methods


def test_interest_first_charges_the_same_interest_and_repays_everything_at_the_end() -> None:
    plan = schedule("100000", RepaymentMethod.INTEREST_FIRST)
    *early, last = plan.installments

    assert {(each.principal, each.interest) for each in early} == {(Decimal(0), Decimal("362.50"))}
    assert (last.principal, last.interest) == (Decimal("100000.00"), Decimal("362.50"))
    assert plan.total_interest == Decimal("4350.00")


def test_bullet_charges_interest_for_the_actual_days() -> None:
    plan = schedule("100000", RepaymentMethod.BULLET)

    (only,) = plan.installments
    assert (only.number, only.due_date) == (1, date(2026, 1, 15))
    assert only.principal == Decimal("100000.00")
    assert only.interest == Decimal("4410.42")  # 100,000 × 0.0435 × 365 / 360


def test_without_interest_the_last_equal_installment_absorbs_the_rounding() -> None:
    plan = schedule("1000", RepaymentMethod.EQUAL_INSTALLMENT, rate="0", months=3)

    assert [each.payment for each in plan.installments] == [
        Decimal("333.33"),
        Decimal("333.33"),
        Decimal("333.34"),
    ]


def test_a_rounded_up_principal_part_never_repays_more_than_is_owed() -> None:
    plan = schedule("1.80", RepaymentMethod.EQUAL_PRINCIPAL, rate="0", months=360)
    parts = [each.principal for each in plan.installments]

    assert parts[:180] == [Decimal("0.01")] * 180
    assert parts[180:] == [Decimal(0)] * 180
    assert plan.total_principal == Decimal("1.80")


# Due dates


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 15), 0, date(2025, 1, 15)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 1, 31), 2, date(2025, 3, 31)),
        (date(2025, 1, 31), 3, date(2025, 4, 30)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 1, 15), 360, date(2055, 1, 15)),
    ],
)
def test_due_date(start: date, months: int, expected: date) -> None:
    assert due_date(start, months) == expected


def test_due_dates_come_back_to_the_start_day_after_a_short_month() -> None:
    plan = schedule("100000", RepaymentMethod.EQUAL_INSTALLMENT, start=date(2025, 1, 31))

    assert [each.due_date for each in plan.installments[:3]] == [
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]


def test_reamortizing_keeps_numbers_and_dates_anchored_at_the_original_start() -> None:
    plan = schedule(
        "90000",
        RepaymentMethod.EQUAL_INSTALLMENT,
        months=11,
        start=date(2025, 1, 31),
        first_number=2,
    )
    first, *_, last = plan.installments

    assert (first.number, first.due_date) == (2, date(2025, 3, 31))
    assert (last.number, last.due_date) == (12, date(2026, 1, 31))


# Invariants for every method


@thorough
@given(principals, rates, methods, starts, terms, day_terms)
def test_principal_parts_sum_exactly_to_the_principal(
    principal: Decimal, rate: Decimal, method: RepaymentMethod, start: date, months: int, days: int
) -> None:
    plan = any_schedule(principal, rate, method, start, months, days)

    assert sum(each.principal for each in plan.installments) == principal


@thorough
@given(principals, rates, methods, starts, terms, day_terms)
def test_no_part_is_negative_and_every_amount_is_in_cents(
    principal: Decimal, rate: Decimal, method: RepaymentMethod, start: date, months: int, days: int
) -> None:
    plan = any_schedule(principal, rate, method, start, months, days)

    for each in plan.installments:
        amounts = (each.principal, each.interest, each.remaining_principal, each.payment)
        assert all(amount >= 0 for amount in amounts)
        assert all(amount.as_tuple().exponent == -2 for amount in amounts)


@thorough
@given(principals, rates, methods, starts, terms, day_terms)
def test_remaining_principal_falls_by_each_part_and_ends_at_zero(
    principal: Decimal, rate: Decimal, method: RepaymentMethod, start: date, months: int, days: int
) -> None:
    plan = any_schedule(principal, rate, method, start, months, days)
    owed = principal

    for each in plan.installments:
        assert 0 <= each.remaining_principal == owed - each.principal <= owed
        owed = each.remaining_principal
    assert plan.installments[-1].remaining_principal == 0


@thorough
@given(principals, rates, methods, starts, terms, day_terms)
def test_installments_are_numbered_in_order_and_fall_due_later_and_later(
    principal: Decimal, rate: Decimal, method: RepaymentMethod, start: date, months: int, days: int
) -> None:
    plan = any_schedule(principal, rate, method, start, months, days)
    numbers = [each.number for each in plan.installments]
    dates = [start, *(each.due_date for each in plan.installments)]

    assert numbers == list(range(1, len(numbers) + 1))
    assert all(earlier < later for earlier, later in pairwise(dates))


@thorough
@given(principals, rates, methods, starts, terms, day_terms)
def test_totals_are_the_sums_of_the_installments(
    principal: Decimal, rate: Decimal, method: RepaymentMethod, start: date, months: int, days: int
) -> None:
    plan = any_schedule(principal, rate, method, start, months, days)

    assert plan.total_principal == sum(each.principal for each in plan.installments)
    assert plan.total_interest == sum(each.interest for each in plan.installments)
    assert plan.total_payment == plan.total_principal + plan.total_interest


@thorough
@given(ordinary_principals, ordinary_rates, starts, terms)
def test_equal_installments_are_equal_but_for_the_last(
    principal: Decimal, rate: Decimal, start: date, months: int
) -> None:
    plan = schedule(principal, RepaymentMethod.EQUAL_INSTALLMENT, rate=rate, months=months)

    assert len({each.payment for each in plan.installments[:-1]}) <= 1


@thorough
@given(principals, rates, starts, terms)
def test_equal_installments_stay_equal_until_rounding_clears_the_loan(
    principal: Decimal, rate: Decimal, start: date, months: int
) -> None:
    plan = schedule(principal, RepaymentMethod.EQUAL_INSTALLMENT, rate=rate, months=months)
    *early, _ = plan.installments
    owing = {each.payment for each in early if each.remaining_principal > 0}
    after_clearing = [each.payment for each in early if each.remaining_principal == 0][1:]

    assert len(owing) <= 1
    assert all(payment == 0 for payment in after_clearing)


def test_a_tiny_equal_installment_loan_can_be_cleared_before_its_last_installment() -> None:
    plan = schedule("0.03", RepaymentMethod.EQUAL_INSTALLMENT, rate="0", months=5)

    assert [each.payment for each in plan.installments] == [Decimal("0.01")] * 3 + [
        Decimal("0.00")
    ] * 2


@thorough
@given(principals, rates, st.sampled_from(AMORTIZING), starts)
def test_reamortized_installments_fall_due_as_in_the_original_schedule(
    principal: Decimal, rate: Decimal, method: RepaymentMethod, start: date
) -> None:
    original = schedule(principal, method, rate=rate, months=24, start=start)
    rest = schedule(principal, method, rate=rate, months=18, start=start, first_number=7)

    assert [(each.number, each.due_date) for each in rest.installments] == [
        (each.number, each.due_date) for each in original.installments[6:]
    ]


# Reducing the term after a prepayment


@thorough
@given(principals, rates, terms, st.data())
def test_term_for_payment_is_the_shortest_that_keeps_the_payment(
    principal: Decimal, rate: Decimal, months: int, data: st.DataObject
) -> None:
    payment = level_payment(principal, rate, months)
    prepaid = data.draw(st.integers(min_value=0, max_value=int(principal * 100) - 1))
    remaining = principal - Decimal(prepaid).scaleb(-2)

    term = term_for_payment(remaining, annual_rate=rate, payment=payment)

    assert 1 <= term <= months
    assert level_payment(remaining, rate, term) <= payment
    if term > 1:
        assert level_payment(remaining, rate, term - 1) > payment


@thorough
@given(st.integers(min_value=1, max_value=10_000_000), terms, st.data())
def test_term_for_principal_part_is_the_shortest_that_keeps_the_part(
    part_cents: int, months: int, data: st.DataObject
) -> None:
    part = Decimal(part_cents).scaleb(-2)
    remaining = Decimal(data.draw(st.integers(1, part_cents * months))).scaleb(-2)

    term = term_for_principal_part(remaining, principal_part=part)

    assert 1 <= term <= months
    assert (
        schedule(remaining, RepaymentMethod.EQUAL_PRINCIPAL, months=term).installments[0].principal
        <= part
    )
    if term > 1:
        shorter = schedule(remaining, RepaymentMethod.EQUAL_PRINCIPAL, months=term - 1)
        assert max(each.principal for each in shorter.installments) > part


def test_term_for_payment_refuses_a_payment_below_the_interest() -> None:
    with pytest.raises(ValueError, match="no term"):
        term_for_payment(Decimal("100000"), annual_rate=Decimal("0.0435"), payment=Decimal("300"))


# Validation


@pytest.mark.parametrize("amount", ["0", "-100", "100.001", "NaN", "Infinity"])
def test_an_amount_must_be_positive_and_in_cents(amount: str) -> None:
    with pytest.raises(DomainError) as caught:
        schedule(amount, RepaymentMethod.EQUAL_INSTALLMENT)

    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_AMOUNT, ("amount",))


def test_an_amount_with_trailing_zeros_is_in_cents() -> None:
    plan = schedule("100.000", RepaymentMethod.BULLET)

    assert plan.total_principal.as_tuple().exponent == -2


@pytest.mark.parametrize("rate", ["-0.0001", "1", "1.5", "NaN"])
def test_a_rate_must_be_a_fraction_below_one(rate: str) -> None:
    with pytest.raises(DomainError) as caught:
        schedule("100000", RepaymentMethod.EQUAL_INSTALLMENT, rate=rate)

    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_RATE, ("annualRate",))


@pytest.mark.parametrize(
    ("method", "term_months", "days", "field"),
    [
        (RepaymentMethod.EQUAL_INSTALLMENT, None, None, "termMonths"),
        (RepaymentMethod.EQUAL_PRINCIPAL, 0, None, "termMonths"),
        (RepaymentMethod.INTEREST_FIRST, MAX_TERM_MONTHS + 1, None, "termMonths"),
        (RepaymentMethod.BULLET, 12, 30, "days"),
        (RepaymentMethod.REVOLVING, None, None, "days"),
        (RepaymentMethod.REVOLVING, None, 0, "days"),
        (RepaymentMethod.REVOLVING, None, MAX_TERM_DAYS + 1, "days"),
        (RepaymentMethod.REVOLVING, 12, 30, "termMonths"),
    ],
)
def test_each_method_needs_its_kind_of_term(
    method: RepaymentMethod, term_months: int | None, days: int | None, field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        build_schedule(
            Decimal("100000"),
            annual_rate=Decimal("0.0435"),
            method=method,
            start=START,
            term_months=term_months,
            days=days,
        )

    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_TERM, (field,))


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        schedule("100000", "DAILY")  # type: ignore[arg-type]

    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID_METHOD, ("method",))


def test_a_year_has_360_or_365_days() -> None:
    with pytest.raises(ValueError, match="days_in_year"):
        build_schedule(
            Decimal("100000"),
            annual_rate=Decimal("0.0435"),
            method=RepaymentMethod.REVOLVING,
            start=START,
            days=30,
            days_in_year=366,
        )


@pytest.mark.parametrize("start", [date(1969, 12, 31), date(2201, 1, 1), date(9999, 6, 1)])
def test_a_start_date_outside_the_calendar_a_loan_can_have_is_refused(start: date) -> None:
    with pytest.raises(DomainError) as raised:
        build_schedule(
            Decimal("1000"),
            annual_rate=Decimal("0.0435"),
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            start=start,
            term_months=360,
        )
    assert raised.value.code is ErrorCode.INVALID_DATE
    assert raised.value.field == ("startDate",)

"""Earning rules: points per event, caps, the last day to spend, and a rule's own consistency."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from jikuai.domain.points.model import EarningMethod, EarningRule, EventType, ExpiryMode
from jikuai.domain.points.rules import (
    MAX_POINTS,
    Award,
    add_months,
    available_on,
    base_points,
    capped,
    expires_on,
    validate_rule,
)
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode


def rule(**changes: object) -> EarningRule:
    """A monthly-deposit rule at 0.01 point per CNY; `changes` override."""
    base = EarningRule(
        id=uuid.uuid4(),
        institution_id=uuid.uuid4(),
        event_type=EventType.DEPOSIT_MONTHLY_AVERAGE,
        method=EarningMethod.PER_CNY,
        points_per_cny=Decimal("0.01"),
        fixed_points=None,
        daily_cap=None,
        monthly_cap=None,
        yearly_cap=None,
        pending_days=0,
        expiry_mode=ExpiryMode.END_OF_YEAR,
        expiry_period=1,
        active=True,
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


FIXED = rule(
    event_type=EventType.SOCIAL_SECURITY_CARD_ACTIVATION,
    method=EarningMethod.FIXED,
    points_per_cny=None,
    fixed_points=200,
)
DIRECT = rule(event_type=EventType.CAMPAIGN, method=EarningMethod.DIRECT, points_per_cny=None)


def error_of(raised: pytest.ExceptionInfo[DomainError]) -> tuple[ErrorCode, tuple[str, ...] | None]:
    return raised.value.code, raised.value.field


# base_points -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "per_cny", "expected"),
    [
        ("1234.56", "0.01", 12),  # 12.3456 rounds down
        ("1299.99", "0.01", 12),  # 12.9999 too: never up
        ("1300", "0.01", 13),
        ("99.99", "0.01", 0),
        ("100", "1.5", 150),
        ("0.01", "100", 1),
    ],
)
def test_per_cny_counts_the_amount_and_rounds_down(
    amount: str, per_cny: str, expected: int
) -> None:
    found = base_points(
        rule(points_per_cny=Decimal(per_cny)),
        EventType.DEPOSIT_MONTHLY_AVERAGE,
        Decimal(amount),
        None,
    )

    assert found == expected


def test_per_cny_never_exceeds_the_largest_award() -> None:
    found = base_points(
        rule(points_per_cny=Decimal("1000")),
        EventType.DEPOSIT_MONTHLY_AVERAGE,
        Decimal("1e15"),
        None,
    )

    assert found == MAX_POINTS


@pytest.mark.parametrize("amount", [None, "0", "-5", "NaN", "Infinity"])
def test_per_cny_needs_a_positive_finite_amount(amount: str | None) -> None:
    with pytest.raises(DomainError) as raised:
        base_points(
            rule(),
            EventType.DEPOSIT_MONTHLY_AVERAGE,
            None if amount is None else Decimal(amount),
            None,
        )

    assert error_of(raised) == (ErrorCode.INVALID_AMOUNT, ("amount",))


@pytest.mark.parametrize("amount", [None, Decimal("1"), Decimal("987654.32")])
def test_fixed_ignores_the_amount(amount: Decimal | None) -> None:
    assert base_points(FIXED, EventType.SOCIAL_SECURITY_CARD_ACTIVATION, amount, None) == 200


@pytest.mark.parametrize("points", [1, 300, MAX_POINTS])
def test_direct_awards_what_is_stated(points: int) -> None:
    assert base_points(DIRECT, EventType.CAMPAIGN, None, points) == points


@pytest.mark.parametrize("points", [None, 0, -1, MAX_POINTS + 1])
def test_direct_needs_points_in_range(points: int | None) -> None:
    with pytest.raises(DomainError) as raised:
        base_points(DIRECT, EventType.CAMPAIGN, None, points)

    assert error_of(raised) == (ErrorCode.INVALID_POINTS, ("points",))


def test_direct_event_types_need_points_whatever_the_method() -> None:
    per_cny = rule(event_type=EventType.MANUAL_ADJUSTMENT)

    assert base_points(per_cny, EventType.MANUAL_ADJUSTMENT, Decimal("1000"), 7) == 7
    with pytest.raises(DomainError) as raised:
        base_points(per_cny, EventType.MANUAL_ADJUSTMENT, Decimal("1000"), None)
    assert error_of(raised) == (ErrorCode.INVALID_POINTS, ("points",))


@pytest.mark.parametrize(
    ("computed", "event_type"),
    [
        (rule(), EventType.DEPOSIT_MONTHLY_AVERAGE),
        (FIXED, EventType.SOCIAL_SECURITY_CARD_ACTIVATION),
    ],
)
def test_computed_rules_refuse_stated_points(computed: EarningRule, event_type: EventType) -> None:
    with pytest.raises(DomainError) as raised:
        base_points(computed, event_type, Decimal("1000"), 10)

    assert error_of(raised) == (ErrorCode.INVALID_POINTS, ("points",))


# capped ----------------------------------------------------------------------------------------


def test_no_caps_award_everything() -> None:
    assert capped(rule(), 10_000, (10**9, 10**9, 10**9)) == Award(10_000, capped=False)


@pytest.mark.parametrize(
    ("caps", "earned", "expected"),
    [
        ((100, None, None), (0, 0, 0), Award(50, capped=False)),
        ((100, None, None), (50, 50, 50), Award(50, capped=False)),  # exactly to the cap
        ((100, None, None), (70, 70, 70), Award(30, capped=True)),
        ((100, None, None), (100, 100, 100), Award(0, capped=True)),
        ((100, None, None), (150, 150, 150), Award(0, capped=True)),  # never negative
        ((None, 120, None), (0, 100, 100), Award(20, capped=True)),
        ((None, None, 500), (0, 0, 480), Award(20, capped=True)),
        ((100, 60, 1000), (0, 20, 20), Award(40, capped=True)),  # the tightest cap wins
        ((0, None, None), (0, 0, 0), Award(0, capped=True)),
    ],
)
def test_caps_cut_the_award_to_what_is_left(
    caps: tuple[int | None, int | None, int | None],
    earned: tuple[int, int, int],
    expected: Award,
) -> None:
    daily, monthly, yearly = caps
    limited = rule(daily_cap=daily, monthly_cap=monthly, yearly_cap=yearly)

    assert capped(limited, 50, earned) == expected


# expires_on, available_on, add_months ---------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "earned_on", "expected"),
    [
        (0, date(2026, 3, 15), date(2026, 12, 31)),
        (1, date(2026, 3, 15), date(2027, 12, 31)),
        (1, date(2026, 12, 31), date(2027, 12, 31)),
        (2, date(2026, 1, 1), date(2028, 12, 31)),
    ],
)
def test_end_of_year_expiry_is_31_december_years_later(
    period: int, earned_on: date, expected: date
) -> None:
    assert expires_on(rule(expiry_period=period), earned_on) == expected


@pytest.mark.parametrize(
    ("months", "earned_on", "expected"),
    [
        (1, date(2026, 1, 15), date(2026, 2, 14)),
        (1, date(2026, 12, 10), date(2027, 1, 9)),
        (12, date(2026, 3, 1), date(2027, 2, 28)),
        (1, date(2026, 1, 31), date(2026, 2, 27)),  # a month later is 28 February
        (1, date(2024, 1, 31), date(2024, 2, 28)),  # or 29 February in a leap year
        (1, date(2026, 2, 28), date(2026, 3, 27)),
    ],
)
def test_rolling_expiry_ends_the_day_before_the_same_day_months_later(
    months: int, earned_on: date, expected: date
) -> None:
    rolling = rule(expiry_mode=ExpiryMode.ROLLING_MONTHS, expiry_period=months)

    assert expires_on(rolling, earned_on) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 1, 15), 0, date(2026, 1, 15)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 5, 20), 120, date(2036, 5, 20)),
        (date(2026, 1, 10), 23, date(2027, 12, 10)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(("days", "expected"), [(0, date(2026, 3, 30)), (7, date(2026, 4, 6))])
def test_pending_points_become_spendable_after_the_waiting_days(days: int, expected: date) -> None:
    assert available_on(rule(pending_days=days), date(2026, 3, 30)) == expected


# validate_rule ---------------------------------------------------------------------------------


def fields_of(
    raised: pytest.ExceptionInfo[DomainErrors],
) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    return [(error.code, error.field or ()) for error in raised.value.errors]


@pytest.mark.parametrize(
    "valid",
    [
        rule(),
        rule(points_per_cny=Decimal("0.0001")),
        FIXED,
        DIRECT,
        rule(daily_cap=0, monthly_cap=MAX_POINTS, yearly_cap=None),
        rule(pending_days=366, expiry_period=2),
        rule(expiry_mode=ExpiryMode.END_OF_YEAR, expiry_period=0),
        rule(expiry_mode=ExpiryMode.ROLLING_MONTHS, expiry_period=120),
    ],
)
def test_a_consistent_rule_passes(valid: EarningRule) -> None:
    validate_rule(valid)


def test_every_inconsistency_is_reported_at_once_on_its_field() -> None:
    broken = rule(
        points_per_cny=Decimal("0"),
        daily_cap=-1,
        monthly_cap=MAX_POINTS + 1,
        pending_days=367,
        expiry_mode=ExpiryMode.ROLLING_MONTHS,
        expiry_period=0,
    )

    with pytest.raises(DomainErrors) as raised:
        validate_rule(broken)

    assert fields_of(raised) == [
        (ErrorCode.INVALID_POINTS, ("pointsPerCny",)),
        (ErrorCode.INVALID_POINTS, ("dailyCap",)),
        (ErrorCode.INVALID_POINTS, ("monthlyCap",)),
        (ErrorCode.INVALID_TERM, ("pendingDays",)),
        (ErrorCode.INVALID_TERM, ("expiryPeriod",)),
    ]


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (rule(points_per_cny=None), [(ErrorCode.INVALID_POINTS, ("pointsPerCny",))]),
        # stored to 4 decimal places: a finer rate is refused, not rounded (nor a crash)
        (
            rule(points_per_cny=Decimal("0.00005")),
            [(ErrorCode.INVALID_POINTS, ("pointsPerCny",))],
        ),
        (rule(points_per_cny=Decimal("NaN")), [(ErrorCode.INVALID_POINTS, ("pointsPerCny",))]),
        (
            replace(FIXED, points_per_cny=Decimal("-1")),
            [(ErrorCode.INVALID_POINTS, ("pointsPerCny",))],
        ),
        (replace(FIXED, fixed_points=None), [(ErrorCode.INVALID_POINTS, ("fixedPoints",))]),
        (replace(FIXED, fixed_points=0), [(ErrorCode.INVALID_POINTS, ("fixedPoints",))]),
        (
            replace(FIXED, fixed_points=MAX_POINTS + 1),
            [(ErrorCode.INVALID_POINTS, ("fixedPoints",))],
        ),
        # DIRECT is for the stated awards, and they need it
        (rule(method=EarningMethod.DIRECT), [(ErrorCode.INVALID_POINTS, ("method",))]),
        (
            replace(DIRECT, method=EarningMethod.FIXED, fixed_points=5),
            [(ErrorCode.INVALID_POINTS, ("method",))],
        ),
        (rule(yearly_cap=-3), [(ErrorCode.INVALID_POINTS, ("yearlyCap",))]),
        (rule(pending_days=-1), [(ErrorCode.INVALID_TERM, ("pendingDays",))]),
        (rule(expiry_period=121), [(ErrorCode.INVALID_TERM, ("expiryPeriod",))]),
        (rule(expiry_period=-1), [(ErrorCode.INVALID_TERM, ("expiryPeriod",))]),
    ],
)
def test_each_inconsistency_is_named(
    broken: EarningRule, expected: list[tuple[ErrorCode, tuple[str, ...]]]
) -> None:
    with pytest.raises(DomainErrors) as raised:
        validate_rule(broken)

    assert fields_of(raised) == expected


@pytest.mark.parametrize(
    ("mode", "period", "longest_wait"),
    [
        (ExpiryMode.ROLLING_MONTHS, 1, 27),  # 31 January's points last until 27 February
        (ExpiryMode.ROLLING_MONTHS, 2, 55),
        (ExpiryMode.END_OF_YEAR, 0, 0),  # 31 December's points end that day
        (ExpiryMode.END_OF_YEAR, 1, 365),
    ],
)
def test_a_rule_may_not_wait_longer_than_its_points_can_last(
    mode: ExpiryMode, period: int, longest_wait: int
) -> None:
    validate_rule(rule(expiry_mode=mode, expiry_period=period, pending_days=longest_wait))
    with pytest.raises(DomainErrors) as refused:
        validate_rule(rule(expiry_mode=mode, expiry_period=period, pending_days=longest_wait + 1))
    assert [(each.code, each.field) for each in refused.value.errors] == [
        (ErrorCode.INVALID_TERM, ("pendingDays",))
    ]

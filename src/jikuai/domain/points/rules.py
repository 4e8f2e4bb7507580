"""Earning rules (积分规则): how many points an event earns, within which caps, and until when
they can be spent."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from jikuai.domain.points.model import (
    DIRECT_AWARDS,
    EarningMethod,
    EarningRule,
    EventType,
    ExpiryMode,
)
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode
from jikuai.domain.shared.money import BASIS_POINT

MAX_POINTS = 10**12  # far above any award, far below what a 64-bit balance holds


@dataclass(frozen=True, slots=True)
class Award:
    """What an event earns: `points` after the caps, and whether a cap cut it."""

    points: int
    capped: bool


def base_points(
    rule: EarningRule, event_type: EventType, amount: Decimal | None, points: int | None
) -> int:
    """The points before caps: per CNY of `amount` (rounded down), fixed, or as stated."""
    if rule.method is EarningMethod.DIRECT or event_type in DIRECT_AWARDS:
        if points is None or not 1 <= points <= MAX_POINTS:
            raise DomainError(ErrorCode.INVALID_POINTS, field=("points",))
        return points
    if points is not None:
        raise DomainError(ErrorCode.INVALID_POINTS, field=("points",))
    if rule.method is EarningMethod.FIXED:
        return rule.fixed_points or 0
    if amount is None or not amount.is_finite() or amount <= 0:
        raise DomainError(ErrorCode.INVALID_AMOUNT, field=("amount",))
    per_cny = rule.points_per_cny or Decimal(0)
    earned = (amount * per_cny).to_integral_value(rounding=ROUND_FLOOR)
    return min(int(earned), MAX_POINTS)


def capped(rule: EarningRule, points: int, earned: tuple[int, int, int]) -> Award:
    """`points` cut to what is left of the day's, month's and year's caps, given what the
    customer has already `earned` (day, month, year) by this event type."""
    room = points
    for cap, so_far in zip(
        (rule.daily_cap, rule.monthly_cap, rule.yearly_cap), earned, strict=True
    ):
        if cap is not None:
            room = min(room, max(cap - so_far, 0))
    return Award(points=room, capped=room < points)


def expires_on(rule: EarningRule, earned_on: date) -> date:
    """The last day points earned on `earned_on` can be spent."""
    if rule.expiry_mode is ExpiryMode.END_OF_YEAR:
        return date(earned_on.year + rule.expiry_period, 12, 31)
    return add_months(earned_on, rule.expiry_period) - timedelta(days=1)


def available_on(rule: EarningRule, earned_on: date) -> date:
    """The first day the points can be spent; later than `earned_on` for pending rules."""
    return earned_on + timedelta(days=rule.pending_days)


def _shortest_life_days(rule: EarningRule) -> int:
    """A lower bound of the days from an earning to its points' last day, over every earning
    date: a rolling month is at least 28 days (31 January to 27 February); a year-end expiry
    earned on 31 December lasts 365 days a year."""
    if rule.expiry_mode is ExpiryMode.ROLLING_MONTHS:
        return 28 * rule.expiry_period - 1
    return 365 * rule.expiry_period


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validate_rule(rule: EarningRule) -> None:
    """Every inconsistency of a rule at once, each on its input field."""
    errors: list[DomainError] = []
    per_cny = rule.points_per_cny
    if (per_cny is None and rule.method is EarningMethod.PER_CNY) or (
        per_cny is not None and not _is_per_cny(per_cny)
    ):
        errors.append(DomainError(ErrorCode.INVALID_POINTS, field=("pointsPerCny",)))
    if rule.method is EarningMethod.FIXED and not (
        rule.fixed_points is not None and 1 <= rule.fixed_points <= MAX_POINTS
    ):
        errors.append(DomainError(ErrorCode.INVALID_POINTS, field=("fixedPoints",)))
    if (rule.method is EarningMethod.DIRECT) != (rule.event_type in DIRECT_AWARDS):
        errors.append(DomainError(ErrorCode.INVALID_POINTS, field=("method",)))
    for name, cap in (
        ("dailyCap", rule.daily_cap),
        ("monthlyCap", rule.monthly_cap),
        ("yearlyCap", rule.yearly_cap),
    ):
        if cap is not None and not 0 <= cap <= MAX_POINTS:
            errors.append(DomainError(ErrorCode.INVALID_POINTS, field=(name,)))
    if not 0 <= rule.pending_days <= 366:
        errors.append(DomainError(ErrorCode.INVALID_TERM, field=("pendingDays",)))
    low = 1 if rule.expiry_mode is ExpiryMode.ROLLING_MONTHS else 0
    if not low <= rule.expiry_period <= 120:
        errors.append(DomainError(ErrorCode.INVALID_TERM, field=("expiryPeriod",)))
    elif rule.pending_days > _shortest_life_days(rule):
        # Points that could expire before their waiting ends would never be spendable.
        errors.append(DomainError(ErrorCode.INVALID_TERM, field=("pendingDays",)))
    if errors:
        raise DomainErrors(errors)


def _is_per_cny(per_cny: Decimal) -> bool:
    """Positive, and written to the 4 decimal places it is stored with."""
    return (
        per_cny.is_finite()
        and 0 < per_cny <= MAX_POINTS
        and per_cny == per_cny.quantize(BASIS_POINT)
    )

"""The indicator catalog (指标): what each indicator measures and how it is computed.

An indicator is a formula over measures. A measure is either dated platform events (loans
disbursed, customers registered, redemptions confirmed…), an end-of-day position the platform
records for itself (outstanding balance, overdue balance…), or a daily fact imported from core
banking (deposit balances, social security cards). Every measure is attributed to the staff
member who manages its customer or merchant on its date; an institution's figure counts
everything, managed or not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from jikuai.domain.performance.periods import Period


class Measure(StrEnum):
    # Platform events, each on its business date.
    LOANS_DISBURSED_AMOUNT = "LOANS_DISBURSED_AMOUNT"
    LOANS_DISBURSED_COUNT = "LOANS_DISBURSED_COUNT"
    NEW_CREDIT_LINES = "NEW_CREDIT_LINES"
    NEW_CUSTOMERS = "NEW_CUSTOMERS"
    REFERRALS = "REFERRALS"
    MERCHANTS_ONBOARDED = "MERCHANTS_ONBOARDED"
    ACTIVE_MERCHANTS = "ACTIVE_MERCHANTS"
    POINTS_REDEEMED = "POINTS_REDEEMED"
    # End-of-day positions the platform records (the `performance-positions` job).
    OUTSTANDING_BALANCE = "OUTSTANDING_BALANCE"
    OVERDUE_BALANCE = "OVERDUE_BALANCE"
    NON_PERFORMING_BALANCE = "NON_PERFORMING_BALANCE"
    CREDIT_LIMIT = "CREDIT_LIMIT"
    HOUSEHOLDS_SERVED = "HOUSEHOLDS_SERVED"
    VILLAGE_HOUSEHOLDS = "VILLAGE_HOUSEHOLDS"
    VILLAGE_HOUSEHOLDS_WITH_CREDIT = "VILLAGE_HOUSEHOLDS_WITH_CREDIT"
    MERCHANTS_MAINTAINED = "MERCHANTS_MAINTAINED"
    # Daily facts imported from core banking.
    DEPOSIT_BALANCE = "DEPOSIT_BALANCE"
    LOW_COST_DEPOSIT_BALANCE = "LOW_COST_DEPOSIT_BALANCE"
    SOCIAL_SECURITY_CARDS_ISSUED = "SOCIAL_SECURITY_CARDS_ISSUED"
    SOCIAL_SECURITY_CARDS_ACTIVATED = "SOCIAL_SECURITY_CARDS_ACTIVATED"


EVENT_MEASURES = frozenset(
    {
        Measure.LOANS_DISBURSED_AMOUNT,
        Measure.LOANS_DISBURSED_COUNT,
        Measure.NEW_CREDIT_LINES,
        Measure.NEW_CUSTOMERS,
        Measure.REFERRALS,
        Measure.MERCHANTS_ONBOARDED,
        Measure.ACTIVE_MERCHANTS,
        Measure.POINTS_REDEEMED,
    }
)
PLATFORM_POSITIONS = frozenset(
    {
        Measure.OUTSTANDING_BALANCE,
        Measure.OVERDUE_BALANCE,
        Measure.NON_PERFORMING_BALANCE,
        Measure.CREDIT_LIMIT,
        Measure.HOUSEHOLDS_SERVED,
        Measure.VILLAGE_HOUSEHOLDS,
        Measure.VILLAGE_HOUSEHOLDS_WITH_CREDIT,
        Measure.MERCHANTS_MAINTAINED,
    }
)
# What `importPerformanceFacts` accepts.
IMPORTED_MEASURES = frozenset(
    {
        Measure.DEPOSIT_BALANCE,
        Measure.LOW_COST_DEPOSIT_BALANCE,
        Measure.SOCIAL_SECURITY_CARDS_ISSUED,
        Measure.SOCIAL_SECURITY_CARDS_ACTIVATED,
    }
)


# Formulas ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Total:
    """The sum of the measure's values dated within the period (so far)."""

    measure: Measure


@dataclass(frozen=True, slots=True)
class Cumulative:
    """The sum of the measure's values dated up to the period's end, since the beginning."""

    measure: Measure


@dataclass(frozen=True, slots=True)
class AtEnd:
    """The position on the latest day with figures up to the period's end (时点)."""

    measure: Measure


@dataclass(frozen=True, slots=True)
class DailyAverage:
    """The mean of the daily positions within the period (日均)."""

    measure: Measure


@dataclass(frozen=True, slots=True)
class Growth:
    """The position at the period's end less the position at the previous period's end."""

    measure: Measure


@dataclass(frozen=True, slots=True)
class Ratio:
    """One formula over another; undefined when the denominator is zero."""

    numerator: Total | AtEnd
    denominator: Total | AtEnd


Formula = Total | Cumulative | AtEnd | DailyAverage | Growth | Ratio


# Readings: what a formula asks of persistence -----------------------------------------------


class ReadingKind(StrEnum):
    WINDOW = "WINDOW"  # the sum of values dated in [start, end]
    POSITION = "POSITION"  # the values of the latest day with figures on or before `end`
    AVERAGE = "AVERAGE"  # the sum over [start, end] divided by the number of days with figures


@dataclass(frozen=True, slots=True)
class Reading:
    kind: ReadingKind
    measure: Measure
    start: date | None
    end: date


BEGINNING = date(2000, 1, 1)


def readings(formula: Formula, period: Period, as_of: date) -> list[Reading]:
    """The readings `formula` needs for `period`, figures up to `as_of`."""
    match formula:
        case Total(measure):
            return [Reading(ReadingKind.WINDOW, measure, period.start, as_of)]
        case Cumulative(measure):
            return [Reading(ReadingKind.WINDOW, measure, BEGINNING, as_of)]
        case AtEnd(measure):
            return [Reading(ReadingKind.POSITION, measure, None, as_of)]
        case DailyAverage(measure):
            return [Reading(ReadingKind.AVERAGE, measure, period.start, as_of)]
        case Growth(measure):
            before = period.start - timedelta(days=1)
            return [
                Reading(ReadingKind.POSITION, measure, None, as_of),
                Reading(ReadingKind.POSITION, measure, None, before),
            ]
        case Ratio(numerator, denominator):
            return readings(numerator, period, as_of) + readings(denominator, period, as_of)


def evaluate(
    formula: Formula, values: Mapping[Reading, Decimal], period: Period, as_of: date
) -> Decimal | None:
    """The formula's value from its readings' values (missing readings count as zero); None for
    a ratio over zero."""
    wanted = readings(formula, period, as_of)
    return combine(formula, [values.get(reading, Decimal(0)) for reading in wanted])


def combine(formula: Formula, parts: Sequence[Decimal]) -> Decimal | None:
    """The formula's value from the values of its readings, in `readings` order."""
    value, _rest = _combine(formula, parts)
    return value


def _combine(
    formula: Formula, parts: Sequence[Decimal]
) -> tuple[Decimal | None, Sequence[Decimal]]:
    if isinstance(formula, Ratio):
        numerator, rest = _combine(formula.numerator, parts)
        denominator, rest = _combine(formula.denominator, rest)
        return (None if not denominator or numerator is None else numerator / denominator), rest
    if isinstance(formula, Growth):
        return parts[0] - parts[1], parts[2:]
    return parts[0], parts[1:]


# The catalog ------------------------------------------------------------------------------------


class Unit(StrEnum):
    CNY = "CNY"
    COUNT = "COUNT"
    POINTS = "POINTS"
    RATIO = "RATIO"  # a fraction, 0.0123 for 1.23%


class Direction(StrEnum):
    HIGHER_IS_BETTER = "HIGHER_IS_BETTER"
    LOWER_IS_BETTER = "LOWER_IS_BETTER"


_PLACES = {Unit.CNY: Decimal("0.01"), Unit.RATIO: Decimal("0.0001")}


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    unit: Unit
    direction: Direction
    formula: Formula
    basis: str  # how it is computed, for the person scored

    def rounded(self, value: Decimal | None) -> Decimal | None:
        """The value as it is shown and scored: CNY to the fen, ratios to the basis point,
        counts and points whole."""
        if value is None:
            return None
        return value.quantize(_PLACES.get(self.unit, Decimal(1)), rounding=ROUND_HALF_UP)


_HIGHER = Direction.HIGHER_IS_BETTER
_LOWER = Direction.LOWER_IS_BETTER
_M = Measure

CATALOG: dict[str, Indicator] = {
    indicator.code: indicator
    for indicator in (
        Indicator(
            "LOANS_DISBURSED_AMOUNT", "贷款发放额", "Loans disbursed", Unit.CNY, _HIGHER,
            Total(_M.LOANS_DISBURSED_AMOUNT),
            "Principal of the loans disbursed in the period, on their start date.",
        ),
        Indicator(
            "LOANS_DISBURSED_COUNT", "贷款发放笔数", "Loans disbursed (count)", Unit.COUNT,
            _HIGHER, Total(_M.LOANS_DISBURSED_COUNT),
            "Number of loans disbursed in the period.",
        ),
        Indicator(
            "CUMULATIVE_LOANS_DISBURSED", "累计放款", "Cumulative loans disbursed", Unit.CNY,
            _HIGHER, Cumulative(_M.LOANS_DISBURSED_AMOUNT),
            "Principal of every loan disbursed up to the period's end.",
        ),
        Indicator(
            "OUTSTANDING_BALANCE", "用信余额", "Outstanding balance", Unit.CNY, _HIGHER,
            AtEnd(_M.OUTSTANDING_BALANCE),
            "Principal outstanding at the end of the period's last recorded day.",
        ),
        Indicator(
            "NEW_CREDIT_LINES", "新增授信户数", "New credit lines", Unit.COUNT, _HIGHER,
            Total(_M.NEW_CREDIT_LINES),
            "Customers granted a credit line in the period.",
        ),
        Indicator(
            "CREDIT_UTILIZATION", "用信率", "Credit utilization", Unit.RATIO, _HIGHER,
            Ratio(AtEnd(_M.OUTSTANDING_BALANCE), AtEnd(_M.CREDIT_LIMIT)),
            "Outstanding balance over the limits of the credit lines in force, at period end.",
        ),
        Indicator(
            "OVERDUE_RATE", "逾期率", "Overdue rate", Unit.RATIO, _LOWER,
            Ratio(AtEnd(_M.OVERDUE_BALANCE), AtEnd(_M.OUTSTANDING_BALANCE)),
            "Outstanding principal of loans past due over the outstanding balance, at period end.",
        ),
        Indicator(
            "NON_PERFORMING_RATIO", "不良率", "Non-performing ratio", Unit.RATIO, _LOWER,
            Ratio(AtEnd(_M.NON_PERFORMING_BALANCE), AtEnd(_M.OUTSTANDING_BALANCE)),
            "Outstanding principal classified substandard, doubtful or loss over the "
            "outstanding balance, at period end.",
        ),
        Indicator(
            "NEW_CUSTOMERS", "新增客户数", "New customers", Unit.COUNT, _HIGHER,
            Total(_M.NEW_CUSTOMERS),
            "Customers registered in the period.",
        ),
        Indicator(
            "REFERRALS", "裂变客户数", "Referrals", Unit.COUNT, _HIGHER,
            Total(_M.REFERRALS),
            "Customers registered in the period with the referral code of a managed customer.",
        ),
        Indicator(
            "MERCHANTS_ONBOARDED", "新拓商户数", "Merchants onboarded", Unit.COUNT, _HIGHER,
            Total(_M.MERCHANTS_ONBOARDED),
            "Merchants approved in the period.",
        ),
        Indicator(
            "ACTIVE_MERCHANTS", "活跃商户数", "Active merchants", Unit.COUNT, _HIGHER,
            Total(_M.ACTIVE_MERCHANTS),
            "Managed merchants with at least one completed redemption in the period.",
        ),
        Indicator(
            "MERCHANTS_MAINTAINED", "维护商户数", "Merchants maintained", Unit.COUNT, _HIGHER,
            AtEnd(_M.MERCHANTS_MAINTAINED),
            "Approved merchants managed at period end.",
        ),
        Indicator(
            "POINTS_REDEEMED", "商户核销积分", "Points redeemed at merchants", Unit.POINTS,
            _HIGHER, Total(_M.POINTS_REDEEMED),
            "Points of the redemptions completed in the period at managed merchants.",
        ),
        Indicator(
            "HOUSEHOLDS_SERVED", "服务农户数", "Households served", Unit.COUNT, _HIGHER,
            AtEnd(_M.HOUSEHOLDS_SERVED),
            "Customers with a credit line in force or a loan outstanding, at period end.",
        ),
        Indicator(
            "VILLAGE_COVERAGE", "整村授信覆盖率", "Whole-village coverage", Unit.RATIO, _HIGHER,
            Ratio(AtEnd(_M.VILLAGE_HOUSEHOLDS_WITH_CREDIT), AtEnd(_M.VILLAGE_HOUSEHOLDS)),
            "Village households with a credit line in force or a loan outstanding over the "
            "village households registered, at period end.",
        ),
        Indicator(
            "DEPOSIT_BALANCE", "存款余额", "Deposit balance", Unit.CNY, _HIGHER,
            AtEnd(_M.DEPOSIT_BALANCE),
            "Deposit balance reported by core banking for the period's last reported day.",
        ),
        Indicator(
            "DEPOSIT_DAILY_AVERAGE", "存款日均", "Average daily deposits", Unit.CNY, _HIGHER,
            DailyAverage(_M.DEPOSIT_BALANCE),
            "Mean of the daily deposit balances reported in the period.",
        ),
        Indicator(
            "DEPOSIT_GROWTH", "存款增量", "Deposit growth", Unit.CNY, _HIGHER,
            Growth(_M.DEPOSIT_BALANCE),
            "Deposit balance at period end less the balance at the previous period's end.",
        ),
        Indicator(
            "LOW_COST_DEPOSIT_BALANCE", "低成本存款余额", "Low-cost deposit balance", Unit.CNY,
            _HIGHER, AtEnd(_M.LOW_COST_DEPOSIT_BALANCE),
            "Low-cost (demand) deposit balance reported for the period's last reported day.",
        ),
        Indicator(
            "LOW_COST_DEPOSIT_SHARE", "低成本存款占比", "Low-cost deposit share", Unit.RATIO,
            _HIGHER, Ratio(AtEnd(_M.LOW_COST_DEPOSIT_BALANCE), AtEnd(_M.DEPOSIT_BALANCE)),
            "Low-cost deposit balance over the deposit balance, at period end.",
        ),
        Indicator(
            "SOCIAL_SECURITY_CARD_ACTIVATIONS", "社保卡激活数", "Social security card activations",
            Unit.COUNT, _HIGHER, Total(_M.SOCIAL_SECURITY_CARDS_ACTIVATED),
            "Social security cards activated in the period, as reported by core banking.",
        ),
        Indicator(
            "SOCIAL_SECURITY_ACTIVATION_RATE", "社保卡激活率",
            "Social security card activation rate", Unit.RATIO, _HIGHER,
            Ratio(
                Total(_M.SOCIAL_SECURITY_CARDS_ACTIVATED), Total(_M.SOCIAL_SECURITY_CARDS_ISSUED)
            ),
            "Cards activated over cards issued in the period, as reported by core banking.",
        ),
    )
}  # fmt: skip

# The institution dashboard's headline figures, in the order they are shown.
HEADLINES = (
    "DEPOSIT_GROWTH",
    "LOW_COST_DEPOSIT_SHARE",
    "SOCIAL_SECURITY_ACTIVATION_RATE",
    "MERCHANTS_MAINTAINED",
    "CUMULATIVE_LOANS_DISBURSED",
    "OUTSTANDING_BALANCE",
    "HOUSEHOLDS_SERVED",
)


def measures_of(formula: Formula) -> set[Measure]:
    if isinstance(formula, Ratio):
        return measures_of(formula.numerator) | measures_of(formula.denominator)
    return {formula.measure}

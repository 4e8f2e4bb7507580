"""Scorecards (评分卡): an applicant's characteristics → log-odds → score, PD and grade.

Each characteristic reads one variable and puts its value in one bin: an interval `[lower, upper)`
of numbers (a None bound is open) or an enumerated set of strings or booleans. A bin's `points` are
its contribution to the log-odds of good:bad (weight of evidence × the regression coefficient).
Their sum, with the model's intercept, is scaled the customary way — every `pdo` points double
the odds, and `base_score` stands for `base_odds`:

    factor = pdo / ln 2
    offset = base_score − factor × ln(base_odds)
    score  = round_half_up(offset + factor × (intercept + Σ log-odds))

The probability of default a score stands for is 1 / (1 + odds), odds = e^((score − offset) /
factor). A grade table turns the score into a grade and the coefficient a credit limit is
multiplied by.

All arithmetic is Decimal in one fixed context (28 digits, `Decimal.ln`/`exp` rather than floats),
so a score is reproducible to the point from the stored card and inputs, whatever the calling
code has done to its own decimal context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from functools import lru_cache

from jikuai.domain.shared.errors import DomainError, ErrorCode


class Grade(StrEnum):
    AAA = "AAA"
    AA = "AA"
    A = "A"
    BBB = "BBB"
    BB = "BB"
    B = "B"
    CCC = "CCC"
    CC = "CC"
    C = "C"


# A score below every band of a grade table: the lowest grade, and no limit at all.
FLOOR_GRADE = Grade.C
FLOOR_COEFFICIENT = Decimal(0)
DEFAULT_LABEL = "default"  # the bin of a value no bin holds, scored with `default_points`
# Bounds a configured card must keep, far beyond any real one.
MAX_LOG_ODDS = Decimal(50)
MAX_PDO = Decimal(1000)
MAX_BASE_ODDS = Decimal(1_000_000)
MAX_CHARACTERISTICS = 50
MAX_BINS = 50

_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
_POINTS = Decimal("0.01")
_PROBABILITY = Decimal("0.000001")


class ScoringError(ValueError):
    """A value that no bin of a characteristic holds, and no default points to fall back on.

    The message is the characteristic's name, short enough to go into a decision's reason.
    """

    def __init__(self, characteristic: str, value: object) -> None:
        super().__init__(characteristic)
        self.characteristic = characteristic
        self.value = value


@dataclass(frozen=True, slots=True)
class Bin:
    """An interval `[lower, upper)` of numbers, or (when `values` is not empty) a set of strings
    or booleans; `points` are the log-odds it contributes."""

    points: Decimal
    lower: Decimal | None = None
    upper: Decimal | None = None
    values: tuple[str | bool, ...] = ()
    # How a person reads the bin: `[18, 30)`, `(-∞, 30000)`, `FARMER, TEACHER`; made once,
    # since every score names the bin of each characteristic.
    label: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _bin_label(self))

    def holds(self, value: object) -> bool:
        """Numbers fall in intervals, strings and booleans in sets; None in neither."""
        return self._holds(value, _number(value))

    def _holds(self, value: object, number: Decimal | None) -> bool:
        """`holds`, with `value` as a number (or None) worked out once by the caller."""
        if self.values:
            return isinstance(value, str | bool) and any(_same(value, each) for each in self.values)
        return (
            number is not None
            and (self.lower is None or self.lower <= number)
            and (self.upper is None or number < self.upper)
        )


@dataclass(frozen=True, slots=True)
class Characteristic:
    name: str
    variable: str
    bins: tuple[Bin, ...]
    default_points: Decimal | None = None

    def bin_for(self, value: object) -> tuple[str, Decimal]:
        """The label and log-odds of the bin holding `value`, else of the default points."""
        number = _number(value)
        for each in self.bins:
            if each._holds(value, number):
                return each.label, each.points
        if self.default_points is None:
            raise ScoringError(self.name, value)
        return DEFAULT_LABEL, self.default_points


@dataclass(frozen=True, slots=True)
class GradeBand:
    """Scores from `min_score` up to the next band's get `grade`, and limits × `coefficient`."""

    min_score: int
    grade: Grade
    coefficient: Decimal


@dataclass(frozen=True, slots=True)
class CharacteristicScore:
    """One characteristic's part of a score: its bin, log-odds, and points (factor × log-odds)."""

    name: str
    variable: str
    value: object
    bin: str
    log_odds: Decimal
    points: Decimal


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score: int
    probability_of_default: Decimal
    grade: Grade
    coefficient: Decimal
    characteristics: tuple[CharacteristicScore, ...]


@dataclass(frozen=True, slots=True)
class Scorecard:
    base_score: int
    base_odds: Decimal
    pdo: Decimal
    intercept: Decimal
    characteristics: tuple[Characteristic, ...]
    grades: tuple[GradeBand, ...]

    def validate(self) -> None:
        """The first inconsistency found, as `DomainError(INVALID_SCORECARD)` at its field."""
        fault = _card_fault(self)
        if fault is not None:
            raise DomainError(ErrorCode.INVALID_SCORECARD, field=("scorecard", *fault))

    def score(self, values: Mapping[str, object]) -> ScoreResult:
        """The score of `values` (dotted names → Decimal, int, bool, str or None); a variable
        missing from `values` counts as None. Raises `ScoringError` for an unbinnable value."""
        factor, offset = scaling(self.base_score, self.base_odds, self.pdo)
        with localcontext(_CONTEXT):
            parts = tuple(
                _characteristic_score(each, values.get(each.variable), factor)
                for each in self.characteristics
            )
            log_odds = self.intercept + sum((part.log_odds for part in parts), Decimal(0))
            score = int((offset + factor * log_odds).to_integral_value(rounding=ROUND_HALF_UP))
        default = probability_of_default(score, factor, offset)
        grade, coefficient = self.grade_for(score)
        return ScoreResult(score, default, grade, coefficient, parts)

    def grade_for(self, score: int) -> tuple[Grade, Decimal]:
        """The grade and coefficient of the band with the highest `min_score` at or below
        `score`; below every band, `FLOOR_GRADE` and `FLOOR_COEFFICIENT`."""
        reached = [band for band in self.grades if band.min_score <= score]
        if not reached:
            return FLOOR_GRADE, FLOOR_COEFFICIENT
        band = max(reached, key=lambda band: band.min_score)
        return band.grade, band.coefficient


@lru_cache(maxsize=64)
def scaling(base_score: int, base_odds: Decimal, pdo: Decimal) -> tuple[Decimal, Decimal]:
    """(factor, offset) of score = offset + factor × ln(odds); a card's are computed once."""
    with localcontext(_CONTEXT):
        factor = pdo / Decimal(2).ln()
        offset = base_score - factor * base_odds.ln()
    return factor, offset


@lru_cache(maxsize=4096)
def probability_of_default(score: int, factor: Decimal, offset: Decimal) -> Decimal:
    """1 / (1 + odds) of a score; scores are whole numbers, so each is worked out once."""
    with localcontext(_CONTEXT):
        odds = ((score - offset) / factor).exp()
        return (1 / (1 + odds)).quantize(_PROBABILITY, rounding=ROUND_HALF_UP)


def _characteristic_score(
    characteristic: Characteristic, value: object, factor: Decimal
) -> CharacteristicScore:
    label, log_odds = characteristic.bin_for(value)
    points = (factor * log_odds).quantize(_POINTS, rounding=ROUND_HALF_UP)
    name, variable = characteristic.name, characteristic.variable
    return CharacteristicScore(name, variable, value, label, log_odds, points)


def _bin_label(each: Bin) -> str:
    if each.values:
        return ", ".join(_value_label(value) for value in each.values)
    lower = "(-∞" if each.lower is None else f"[{each.lower}"
    upper = "+∞)" if each.upper is None else f"{each.upper})"
    return f"{lower}, {upper}"


def _value_label(value: object) -> str:
    """A bin's value as a person reads it; a value no bin may hold (refused when the card is
    checked) still reads as itself."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _same(value: str | bool, other: str | bool) -> bool:
    """Equality that keeps booleans and strings apart."""
    return isinstance(value, bool) == isinstance(other, bool) and value == other


def _number(value: object) -> Decimal | None:
    """`value` as a finite Decimal if it is a number; booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    number = Decimal(value)
    return number if number.is_finite() else None


# Validation: each returns the path below "scorecard" of the first fault, or None.


def _card_fault(card: Scorecard) -> tuple[str, ...] | None:
    if not _positive(card.pdo) or card.pdo > MAX_PDO:
        return ("pdo",)
    if not _positive(card.base_odds) or card.base_odds > MAX_BASE_ODDS:
        return ("baseOdds",)
    if not _plausible_log_odds(card.intercept):
        return ("intercept",)
    if len(card.characteristics) > MAX_CHARACTERISTICS:
        return ("characteristics",)
    for index, characteristic in enumerate(card.characteristics):
        fault = _characteristic_fault(characteristic)
        if fault is not None:
            return ("characteristics", str(index), *fault)
    return _grades_fault(card.grades)


def _characteristic_fault(characteristic: Characteristic) -> tuple[str, ...] | None:
    bins = characteristic.bins
    if not bins or len(bins) > MAX_BINS:
        return ("bins",)
    for index, each in enumerate(bins):
        if (
            not _well_formed(each)
            or not _plausible_log_odds(each.points)
            or any(_overlap(each, earlier) for earlier in bins[:index])
        ):
            return ("bins", str(index))
    default = characteristic.default_points
    if default is not None and not _plausible_log_odds(default):
        return ("defaultPoints",)
    return None


def _plausible_log_odds(value: Decimal) -> bool:
    """Finite and within ±MAX_LOG_ODDS: beyond, odds of e^50 mean nothing, and a card summing
    such values would overflow when its score is turned back into odds."""
    return value.is_finite() and abs(value) <= MAX_LOG_ODDS


def _well_formed(candidate: Bin) -> bool:
    """One form only: an enumerated bin has no bounds; an interval's lower is below its upper."""
    lower, upper = candidate.lower, candidate.upper
    bounds = tuple(bound for bound in (lower, upper) if bound is not None)
    if not candidate.points.is_finite() or not all(bound.is_finite() for bound in bounds):
        return False
    if candidate.values:
        return not bounds and all(isinstance(value, str | bool) for value in candidate.values)
    return lower is None or upper is None or lower < upper


def _overlap(one: Bin, other: Bin) -> bool:
    if one.values or other.values:
        return any(_same(mine, theirs) for mine in one.values for theirs in other.values)
    return _below(one.lower, other.upper) and _below(other.lower, one.upper)


def _below(lower: Decimal | None, upper: Decimal | None) -> bool:
    """lower < upper, where a None lower is −∞ and a None upper +∞."""
    return lower is None or upper is None or lower < upper


def _grades_fault(grades: tuple[GradeBand, ...]) -> tuple[str, ...] | None:
    if not grades:
        return ("grades",)
    seen: set[int] = set()
    for index, band in enumerate(grades):
        if band.min_score in seen:
            return ("grades", str(index), "minScore")
        if not (band.coefficient.is_finite() and band.coefficient >= 0):
            return ("grades", str(index), "coefficient")
        seen.add(band.min_score)
    return None


def _positive(number: Decimal) -> bool:
    return number.is_finite() and number > 0

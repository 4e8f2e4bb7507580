"""Scorecards: PDO scaling, binning, scores, probabilities of default, grades and validation."""

from __future__ import annotations

import dataclasses
from decimal import Decimal, localcontext

import pytest

from jikuai.domain.credit.scorecards import (
    DEFAULT_LABEL,
    Bin,
    Characteristic,
    Grade,
    GradeBand,
    Scorecard,
    ScoringError,
    scaling,
)
from jikuai.domain.shared.errors import DomainError, ErrorCode

AGE = Characteristic(
    "age",
    "applicant.age",
    (
        Bin(Decimal("-0.30"), Decimal(18), Decimal(25)),
        Bin(Decimal("0.10"), Decimal(25), Decimal(40)),
        Bin(Decimal("0.25"), Decimal(40), Decimal(55)),
        Bin(Decimal("-0.05"), Decimal(55), None),
    ),
)
SEGMENT = Characteristic(
    "segment",
    "applicant.segment",
    (
        Bin(Decimal("0.40"), values=("TEACHER", "CIVIL_SERVANT")),
        Bin(Decimal("0.05"), values=("FARMER",)),
        Bin(Decimal("-0.10"), values=("MICRO_BUSINESS",)),
    ),
    default_points=Decimal("-0.20"),
)
INCOME = Characteristic(
    "income",
    "applicant.annual_income",
    (
        Bin(Decimal("-0.35"), None, Decimal(30000)),
        Bin(Decimal("0.00"), Decimal(30000), Decimal(80000)),
        Bin(Decimal("0.30"), Decimal(80000), None),
    ),
)
WHITELISTED = Characteristic(
    "whitelisted",
    "applicant.whitelisted",
    (Bin(Decimal("0.50"), values=(True,)), Bin(Decimal(0), values=(False,))),
)
GRADES = (
    GradeBand(680, Grade.AAA, Decimal("1.5")),
    GradeBand(650, Grade.AA, Decimal("1.3")),
    GradeBand(620, Grade.A, Decimal("1.1")),
    GradeBand(600, Grade.BBB, Decimal("1.0")),
    GradeBand(580, Grade.BB, Decimal("0.8")),
    GradeBand(560, Grade.B, Decimal("0.6")),
    GradeBand(540, Grade.CCC, Decimal("0.4")),
    GradeBand(520, Grade.CC, Decimal("0.2")),
    GradeBand(500, Grade.C, Decimal(0)),
)
CARD = Scorecard(
    base_score=600,
    base_odds=Decimal(50),
    pdo=Decimal(20),
    intercept=Decimal("3.2"),
    characteristics=(AGE, SEGMENT, INCOME, WHITELISTED),
    grades=GRADES,
)


def applicant(
    age: object = 35,
    segment: object = "TEACHER",
    income: object = Decimal(120000),
    whitelisted: object = True,
) -> dict[str, object]:
    return {
        "applicant.age": age,
        "applicant.segment": segment,
        "applicant.annual_income": income,
        "applicant.whitelisted": whitelisted,
    }


def bins_of(values: dict[str, object]) -> list[str]:
    return [part.bin for part in CARD.score(values).characteristics]


def invalid_field(card: Scorecard) -> tuple[str, ...] | None:
    with pytest.raises(DomainError) as raised:
        card.validate()
    assert raised.value.code is ErrorCode.INVALID_SCORECARD
    return raised.value.field


# Scaling


def test_the_reference_scaling_constants() -> None:
    factor, offset = scaling(600, Decimal(50), Decimal(20))

    assert factor.quantize(Decimal("0.0001")) == Decimal("28.8539")
    assert offset.quantize(Decimal("0.0001")) == Decimal("487.1229")


def test_pdo_more_points_double_the_odds() -> None:
    factor, offset = scaling(600, Decimal(50), Decimal(20))

    at_base = offset + factor * Decimal(50).ln()
    doubled = offset + factor * Decimal(100).ln()

    assert at_base.quantize(Decimal("0.000001")) == 600
    assert (doubled - at_base).quantize(Decimal("0.000001")) == 20


# Scores


@pytest.mark.parametrize(
    ("values", "score", "default", "grade", "coefficient"),
    [
        # log-odds 3.2 + 0.10 + 0.40 + 0.30 + 0.50 = 4.50 → 616.97
        (applicant(), 617, "0.010974", Grade.BBB, "1.0"),
        # 3.2 − 0.30 + 0.05 − 0.35 + 0 = 2.60 → 562.14
        (applicant(22, "FARMER", Decimal(24000), False), 562, "0.069458", Grade.B, "0.6"),
        # 3.2 + 0.25 − 0.20 (default) + 0 + 0 = 3.25 → 580.90
        (applicant(45, "WHITE_COLLAR", Decimal(50000), False), 581, "0.037200", Grade.BB, "0.8"),
        # 3.2 − 0.05 − 0.10 + 0 + 0.50 = 3.55 → 589.55
        (applicant(60, "MICRO_BUSINESS", 30000, True), 590, "0.027506", Grade.BB, "0.8"),
    ],
)
def test_known_applicants_score_exactly(
    values: dict[str, object], score: int, default: str, grade: Grade, coefficient: str
) -> None:
    result = CARD.score(values)

    assert result.score == score
    assert result.probability_of_default == Decimal(default)
    assert result.grade is grade
    assert result.coefficient == Decimal(coefficient)


def test_each_characteristic_reports_its_bin_and_points() -> None:
    result = CARD.score(applicant())

    assert [
        (part.name, part.variable, part.value, part.bin) for part in result.characteristics
    ] == [
        ("age", "applicant.age", 35, "[25, 40)"),
        ("segment", "applicant.segment", "TEACHER", "TEACHER, CIVIL_SERVANT"),
        ("income", "applicant.annual_income", Decimal(120000), "[80000, +∞)"),
        ("whitelisted", "applicant.whitelisted", True, "true"),
    ]
    assert [part.log_odds for part in result.characteristics] == [
        Decimal("0.10"),
        Decimal("0.40"),
        Decimal("0.30"),
        Decimal("0.50"),
    ]
    assert [part.points for part in result.characteristics] == [
        Decimal("2.89"),
        Decimal("11.54"),
        Decimal("8.66"),
        Decimal("14.43"),
    ]


def test_the_probability_of_default_at_the_base_score_is_one_in_base_odds_plus_one() -> None:
    card = dataclasses.replace(CARD, intercept=Decimal(50).ln(), characteristics=())

    result = card.score({})

    assert result.score == 600
    assert result.probability_of_default == Decimal("0.019608")  # 1 / 51


def test_the_score_does_not_depend_on_the_callers_decimal_context() -> None:
    with localcontext(prec=3):
        assert CARD.score(applicant()).score == 617


# Bins


@pytest.mark.parametrize(
    ("age", "label"),
    [
        (18, "[18, 25)"),
        (Decimal("24.99"), "[18, 25)"),
        (25, "[25, 40)"),
        (Decimal(40), "[40, 55)"),
        (55, "[55, +∞)"),
        (120, "[55, +∞)"),
    ],
)
def test_lower_bounds_are_inclusive_and_upper_bounds_exclusive(age: object, label: str) -> None:
    assert bins_of(applicant(age=age))[0] == label


@pytest.mark.parametrize(
    ("income", "label"),
    [(0, "(-∞, 30000)"), (Decimal("29999.99"), "(-∞, 30000)"), (30000, "[30000, 80000)")],
)
def test_an_open_lower_bound(income: object, label: str) -> None:
    assert bins_of(applicant(income=income))[2] == label


@pytest.mark.parametrize("age", [17, Decimal("17.99"), None, "35", True, 35.0, Decimal("NaN")])
def test_a_value_in_no_bin_without_default_points_is_a_scoring_error(age: object) -> None:
    with pytest.raises(ScoringError) as raised:
        CARD.score(applicant(age=age))

    assert str(raised.value) == "age"
    assert raised.value.characteristic == "age"
    assert isinstance(raised.value, ValueError)


def test_a_missing_variable_counts_as_none() -> None:
    values = applicant()
    del values["applicant.age"]

    with pytest.raises(ScoringError, match="age"):
        CARD.score(values)


@pytest.mark.parametrize("segment", ["WHITE_COLLAR", None, 7])
def test_a_value_in_no_bin_takes_the_default_points(segment: object) -> None:
    part = CARD.score(applicant(segment=segment)).characteristics[1]

    assert part.bin == DEFAULT_LABEL
    assert part.log_odds == Decimal("-0.20")
    assert part.points == Decimal("-5.77")


def test_booleans_match_only_enumerated_bins_and_strings_do_not_match_booleans() -> None:
    assert Bin(Decimal(1), values=(True,)).holds(True)
    assert not Bin(Decimal(1), values=(True,)).holds("true")
    assert not Bin(Decimal(1), values=(True,)).holds(1)
    assert not Bin(Decimal(1), values=("True",)).holds(True)
    assert not Bin(Decimal(1), Decimal(0), Decimal(2)).holds(True)
    assert Bin(Decimal(1)).holds(Decimal("-1e9"))


@pytest.mark.parametrize(
    ("candidate", "label"),
    [
        (Bin(Decimal(0), Decimal(18), Decimal(30)), "[18, 30)"),
        (Bin(Decimal(0), None, Decimal("0.55")), "(-∞, 0.55)"),
        (Bin(Decimal(0), Decimal(65), None), "[65, +∞)"),
        (Bin(Decimal(0)), "(-∞, +∞)"),
        (Bin(Decimal(0), values=("FARMER", "TEACHER")), "FARMER, TEACHER"),
        (Bin(Decimal(0), values=(False,)), "false"),
    ],
)
def test_bin_labels(candidate: Bin, label: str) -> None:
    assert candidate.label == label


# Grades


@pytest.mark.parametrize(
    ("score", "grade", "coefficient"),
    [
        (900, Grade.AAA, "1.5"),
        (680, Grade.AAA, "1.5"),
        (679, Grade.AA, "1.3"),
        (600, Grade.BBB, "1.0"),
        (599, Grade.BB, "0.8"),
        (500, Grade.C, "0"),
        (499, Grade.C, "0"),
        (-100, Grade.C, "0"),
    ],
)
def test_a_score_gets_the_band_with_the_highest_minimum_it_reaches(
    score: int, grade: Grade, coefficient: str
) -> None:
    assert CARD.grade_for(score) == (grade, Decimal(coefficient))


def test_bands_need_not_be_in_order_and_below_every_band_is_c_without_a_limit() -> None:
    card = dataclasses.replace(
        CARD,
        grades=(GradeBand(580, Grade.BB, Decimal("0.8")), GradeBand(650, Grade.A, Decimal(1))),
    )

    assert card.grade_for(700) == (Grade.A, Decimal(1))
    assert card.grade_for(600) == (Grade.BB, Decimal("0.8"))
    assert card.grade_for(579) == (Grade.C, Decimal(0))


# Validation


def test_the_example_card_is_valid() -> None:
    CARD.validate()


def with_bins(*bins: Bin) -> Scorecard:
    return dataclasses.replace(CARD, characteristics=(AGE, dataclasses.replace(INCOME, bins=bins)))


@pytest.mark.parametrize(
    ("card", "field"),
    [
        (dataclasses.replace(CARD, pdo=Decimal(0)), ("scorecard", "pdo")),
        (dataclasses.replace(CARD, pdo=Decimal(-20)), ("scorecard", "pdo")),
        (dataclasses.replace(CARD, pdo=Decimal("NaN")), ("scorecard", "pdo")),
        (dataclasses.replace(CARD, base_odds=Decimal(0)), ("scorecard", "baseOdds")),
        (dataclasses.replace(CARD, intercept=Decimal("Infinity")), ("scorecard", "intercept")),
        (dataclasses.replace(CARD, grades=()), ("scorecard", "grades")),
        (
            dataclasses.replace(CARD, grades=(*GRADES, GradeBand(600, Grade.B, Decimal(1)))),
            ("scorecard", "grades", "9", "minScore"),
        ),
        (
            dataclasses.replace(CARD, grades=(GradeBand(600, Grade.A, Decimal("-0.1")),)),
            ("scorecard", "grades", "0", "coefficient"),
        ),
        (
            with_bins(Bin(Decimal(0), Decimal(0), Decimal(10)), Bin(Decimal(0), Decimal(9), None)),
            ("scorecard", "characteristics", "1", "bins", "1"),
        ),
        (
            with_bins(Bin(Decimal(0), None, Decimal(10)), Bin(Decimal(0), None, Decimal(5))),
            ("scorecard", "characteristics", "1", "bins", "1"),
        ),
        (
            with_bins(Bin(Decimal(0), values=("A", "B")), Bin(Decimal(0), values=("B",))),
            ("scorecard", "characteristics", "1", "bins", "1"),
        ),
        (
            with_bins(Bin(Decimal(0), Decimal(10), Decimal(10))),
            ("scorecard", "characteristics", "1", "bins", "0"),
        ),
        (
            with_bins(Bin(Decimal(0), Decimal(10), Decimal(5))),
            ("scorecard", "characteristics", "1", "bins", "0"),
        ),
        (
            with_bins(Bin(Decimal(0), Decimal(0), values=("A",))),
            ("scorecard", "characteristics", "1", "bins", "0"),
        ),
        (
            with_bins(Bin(Decimal("NaN"), Decimal(0), Decimal(1))),
            ("scorecard", "characteristics", "1", "bins", "0"),
        ),
        (with_bins(), ("scorecard", "characteristics", "1", "bins")),
        (
            dataclasses.replace(
                CARD, characteristics=(dataclasses.replace(SEGMENT, default_points=Decimal("NaN")),)
            ),
            ("scorecard", "characteristics", "0", "defaultPoints"),
        ),
    ],
)
def test_validation_failures_name_the_field(card: Scorecard, field: tuple[str, ...]) -> None:
    assert invalid_field(card) == field


def test_touching_intervals_and_distinct_values_do_not_overlap() -> None:
    with_bins(
        Bin(Decimal(0), None, Decimal(10)),
        Bin(Decimal(0), Decimal(10), Decimal(20)),
        Bin(Decimal(0), Decimal(20), None),
        Bin(Decimal(0), values=("A", True)),
        Bin(Decimal(0), values=("true", False)),
    ).validate()


@pytest.mark.parametrize("intercept", ["100000000", "-51", "NaN"])
def test_an_intercept_that_could_not_be_turned_back_into_odds_is_refused(intercept: str) -> None:
    card = dataclasses.replace(CARD, intercept=Decimal(intercept))
    assert invalid_field(card) == ("scorecard", "intercept")

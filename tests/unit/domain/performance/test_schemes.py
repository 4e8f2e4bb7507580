"""Assessment schemes: what a scheme may ask (every fault reported at once, each at its place),
whose target applies, which scheme fits a staff member; and how an indicator's formula is read
and evaluated."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from jikuai.domain.performance.indicators import (
    BEGINNING,
    CATALOG,
    AtEnd,
    Cumulative,
    DailyAverage,
    Formula,
    Growth,
    Measure,
    Ratio,
    Reading,
    ReadingKind,
    Total,
    evaluate,
    readings,
)
from jikuai.domain.performance.model import Member, Scheme, SchemeIndicator, Target
from jikuai.domain.performance.periods import Period, PeriodKind
from jikuai.domain.performance.results import fit
from jikuai.domain.performance.schemes import (
    IndicatorTerms,
    validate_terms,
    validated_indicators,
)
from jikuai.domain.shared.errors import DomainErrors, ErrorCode
from jikuai.domain.tenancy.model import Role

INSTITUTION = uuid.uuid4()
BRANCH, OTHER_BRANCH = uuid.uuid4(), uuid.uuid4()
OFFICER, OTHER_OFFICER = uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 11, 17, 2, tzinfo=UTC)


def terms(
    code: str = "NEW_CUSTOMERS", weight: str = "100", target: str = "10", **bounds: str
) -> IndicatorTerms:
    return IndicatorTerms(
        code, Decimal(weight), Decimal(target), **{k: Decimal(v) for k, v in bounds.items()}
    )


def faults(error: pytest.ExceptionInfo[DomainErrors]) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    return [(each.code, each.field or ()) for each in error.value.errors]


def scheme(
    *,
    indicators: tuple[SchemeIndicator, ...] = (),
    targets: tuple[Target, ...] = (),
    name: str = "客户经理月度考核",
    bonus_pool: str = "0",
    branch_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
) -> Scheme:
    return Scheme(
        id=uuid.uuid4(),
        series_id=uuid.uuid4(),
        version=1,
        institution_id=INSTITUTION,
        name=name,
        role=Role.LOAN_OFFICER,
        branch_id=branch_id,
        staff_id=staff_id,
        period_kind=PeriodKind.MONTH,
        indicators=indicators or (deposits(),),
        targets=targets,
        bonus_pool=Decimal(bonus_pool),
        active=True,
        created_by=None,
        created_at=NOW,
    )


def deposits(target: str = "1000000") -> SchemeIndicator:
    return SchemeIndicator(
        "DEPOSIT_BALANCE", Decimal(100), Decimal(target), Decimal("1.2"), Decimal(0)
    )


# What a scheme's indicators may be --------------------------------------------------------------


def test_good_indicators_are_kept_with_their_bounds() -> None:
    kept = validated_indicators(
        [
            terms("NEW_CUSTOMERS", "30", "20"),
            terms("OVERDUE_RATE", "70", "0.02", ceiling="1.5", floor="0.6"),
        ]
    )

    assert kept == [
        SchemeIndicator("NEW_CUSTOMERS", Decimal(30), Decimal(20), Decimal("1.2"), Decimal(0)),
        SchemeIndicator(
            "OVERDUE_RATE", Decimal(70), Decimal("0.02"), Decimal("1.5"), Decimal("0.6")
        ),
    ]


def test_an_unknown_or_repeated_indicator_is_reported_at_its_place() -> None:
    with pytest.raises(DomainErrors) as raised:
        validated_indicators(
            [
                terms("NEW_CUSTOMERS", "40"),
                terms("NO_SUCH_THING", "30"),
                terms("NEW_CUSTOMERS", "30"),
            ]
        )

    assert faults(raised) == [
        (ErrorCode.INVALID_INDICATOR, ("indicators", "1", "code")),
        (ErrorCode.INVALID_INDICATOR, ("indicators", "2", "code")),
    ]


@pytest.mark.parametrize(
    "weights",
    [["60", "30"], ["60", "50"], ["100", "0"], ["120", "-20"], ["99.99", "0.02"]],
)
def test_weights_must_be_positive_and_add_up_to_100(weights: list[str]) -> None:
    with pytest.raises(DomainErrors) as raised:
        validated_indicators([terms("NEW_CUSTOMERS", weights[0]), terms("REFERRALS", weights[1])])

    assert faults(raised) == [(ErrorCode.INVALID_WEIGHTS, ("indicators",))]


def test_a_scheme_without_indicators_has_wrong_weights() -> None:
    with pytest.raises(DomainErrors) as raised:
        validated_indicators([])

    assert faults(raised) == [(ErrorCode.INVALID_WEIGHTS, ("indicators",))]


def test_weights_with_fractions_that_add_up_to_100_are_good() -> None:
    kept = validated_indicators(
        [
            terms("NEW_CUSTOMERS", "33.33"),
            terms("REFERRALS", "33.33"),
            terms("DEPOSIT_BALANCE", "33.34"),
        ]
    )

    assert sum((item.weight for item in kept), Decimal(0)) == 100


@pytest.mark.parametrize("target", ["0", "-1", "0.00"])
def test_a_target_must_be_greater_than_zero(target: str) -> None:
    with pytest.raises(DomainErrors) as raised:
        validated_indicators([terms(target=target)])

    assert faults(raised) == [(ErrorCode.INVALID_TARGET, ("indicators", "0", "target"))]


@pytest.mark.parametrize(
    ("ceiling", "floor"),
    [("0.99", "0"), ("10.01", "0"), ("1.2", "1.2"), ("1.2", "1.5"), ("1.2", "-0.1")],
)
def test_the_ceiling_is_from_1_to_10_and_the_floor_from_0_to_below_the_ceiling(
    ceiling: str, floor: str
) -> None:
    with pytest.raises(DomainErrors) as raised:
        validated_indicators([terms(ceiling=ceiling, floor=floor)])

    assert faults(raised) == [(ErrorCode.INVALID_BOUNDS, ("indicators", "0", "ceiling"))]


@pytest.mark.parametrize(("ceiling", "floor"), [("1", "0"), ("10", "9.99"), ("1.2", "0.6")])
def test_bounds_at_their_limits_are_good(ceiling: str, floor: str) -> None:
    kept = validated_indicators([terms(ceiling=ceiling, floor=floor)])

    assert (kept[0].ceiling, kept[0].floor) == (Decimal(ceiling), Decimal(floor))


def test_every_fault_of_the_indicators_is_reported_at_once() -> None:
    with pytest.raises(DomainErrors) as raised:
        validated_indicators(
            [
                terms("NEW_CUSTOMERS", "50", "0"),
                terms("UNKNOWN", "20", "5", ceiling="20"),
            ]
        )

    assert faults(raised) == [
        (ErrorCode.INVALID_TARGET, ("indicators", "0", "target")),
        (ErrorCode.INVALID_INDICATOR, ("indicators", "1", "code")),
        (ErrorCode.INVALID_BOUNDS, ("indicators", "1", "ceiling")),
        (ErrorCode.INVALID_WEIGHTS, ("indicators",)),
    ]


# What else a scheme may say ---------------------------------------------------------------------


def test_good_terms_pass() -> None:
    validate_terms(
        scheme(
            bonus_pool="12345.60",
            targets=(
                Target("DEPOSIT_BALANCE", Decimal(500000), branch_id=BRANCH),
                Target("DEPOSIT_BALANCE", Decimal(800000), staff_id=OFFICER),
            ),
        )
    )


@pytest.mark.parametrize("name", ["", "考" * 101])
def test_a_name_is_1_to_100_characters(name: str) -> None:
    with pytest.raises(DomainErrors) as raised:
        validate_terms(scheme(name=name))

    assert faults(raised) == [(ErrorCode.INVALID_LENGTH, ("name",))]


@pytest.mark.parametrize("pool", ["0.001", "100.005", "-0.01", "100000000.01"])
def test_a_bonus_pool_is_whole_fen_from_zero_to_a_hundred_million(pool: str) -> None:
    with pytest.raises(DomainErrors) as raised:
        validate_terms(scheme(bonus_pool=pool))

    assert faults(raised) == [(ErrorCode.INVALID_AMOUNT, ("bonusPool",))]


@pytest.mark.parametrize("pool", ["0", "0.10", "100000000.00", "8530"])
def test_a_bonus_pool_to_the_fen_is_good(pool: str) -> None:
    validate_terms(scheme(bonus_pool=pool))


def test_a_target_must_be_for_an_indicator_of_the_scheme() -> None:
    with pytest.raises(DomainErrors) as raised:
        validate_terms(scheme(targets=(Target("NEW_CUSTOMERS", Decimal(5), branch_id=BRANCH),)))

    assert faults(raised) == [(ErrorCode.INVALID_INDICATOR, ("targets", "0", "code"))]


def test_a_target_names_a_branch_or_a_person_and_never_both_or_neither() -> None:
    with pytest.raises(DomainErrors) as raised:
        validate_terms(
            scheme(
                targets=(
                    Target("DEPOSIT_BALANCE", Decimal(5), branch_id=BRANCH),
                    Target("DEPOSIT_BALANCE", Decimal(5), branch_id=BRANCH, staff_id=OFFICER),
                    Target("DEPOSIT_BALANCE", Decimal(5)),
                    Target("DEPOSIT_BALANCE", Decimal(0), staff_id=OFFICER),
                )
            )
        )

    assert faults(raised) == [
        (ErrorCode.INVALID_SUBJECT, ("targets", "1", "staffId")),
        (ErrorCode.INVALID_SUBJECT, ("targets", "2", "staffId")),
        (ErrorCode.INVALID_TARGET, ("targets", "3", "value")),
    ]


# Whose target, which scheme ---------------------------------------------------------------------


def test_a_persons_own_target_comes_before_their_branchs_and_that_before_the_default() -> None:
    item = deposits("1000000")
    both = (
        Target("DEPOSIT_BALANCE", Decimal(600000), branch_id=BRANCH),
        Target("DEPOSIT_BALANCE", Decimal(900000), staff_id=OFFICER),
    )
    given = scheme(indicators=(item,), targets=both)
    reversed_order = scheme(indicators=(item,), targets=both[::-1])

    assert given.target_for(item, OFFICER, BRANCH) == Decimal(900000)
    assert reversed_order.target_for(item, OFFICER, BRANCH) == Decimal(900000)
    assert given.target_for(item, OTHER_OFFICER, BRANCH) == Decimal(600000)
    assert given.target_for(item, OTHER_OFFICER, OTHER_BRANCH) == Decimal(1000000)
    assert given.target_for(item, OTHER_OFFICER, None) == Decimal(1000000)


def test_a_target_of_another_indicator_does_not_apply() -> None:
    item = deposits("1000000")
    given = scheme(
        indicators=(item,),
        targets=(Target("NEW_CUSTOMERS", Decimal(3), staff_id=OFFICER),),
    )

    assert given.target_for(item, OFFICER, BRANCH) == Decimal(1000000)


def test_how_closely_a_scheme_fits_a_staff_member() -> None:
    institution_wide = scheme()
    branch_wide = scheme(branch_id=BRANCH)
    personal = scheme(staff_id=OFFICER)

    assert institution_wide.specificity(OFFICER, BRANCH) == 0
    assert institution_wide.specificity(OFFICER, None) == 0
    assert branch_wide.specificity(OFFICER, BRANCH) == 1
    assert branch_wide.specificity(OFFICER, OTHER_BRANCH) is None
    assert branch_wide.specificity(OFFICER, None) is None
    assert personal.specificity(OFFICER, BRANCH) == 2
    assert personal.specificity(OTHER_OFFICER, BRANCH) is None


def test_the_most_specific_scheme_fits() -> None:
    institution_wide = scheme()
    branch_wide = scheme(branch_id=BRANCH)
    personal = scheme(staff_id=OFFICER)
    everything = [personal, institution_wide, branch_wide]

    assert fit(everything, Member(OFFICER, BRANCH, "甲")) == personal
    assert fit(everything, Member(OTHER_OFFICER, BRANCH, "乙")) == branch_wide
    assert fit(everything, Member(OTHER_OFFICER, OTHER_BRANCH, "丙")) == institution_wide
    assert fit([personal, branch_wide], Member(OTHER_OFFICER, OTHER_BRANCH, "丙")) is None
    assert fit([], Member(OFFICER, BRANCH, "甲")) is None


# Formulas ---------------------------------------------------------------------------------------

NOVEMBER = Period.parse("2026-11")
AS_OF = date(2026, 11, 17)


def test_each_formula_reads_what_it_needs_for_the_period_so_far() -> None:
    deposits_measure = Measure.DEPOSIT_BALANCE
    loans = Measure.LOANS_DISBURSED_AMOUNT
    start = date(2026, 11, 1)

    assert readings(Total(loans), NOVEMBER, AS_OF) == [
        Reading(ReadingKind.WINDOW, loans, start, AS_OF)
    ]
    assert readings(Cumulative(loans), NOVEMBER, AS_OF) == [
        Reading(ReadingKind.WINDOW, loans, BEGINNING, AS_OF)
    ]
    assert readings(AtEnd(deposits_measure), NOVEMBER, AS_OF) == [
        Reading(ReadingKind.POSITION, deposits_measure, None, AS_OF)
    ]
    assert readings(DailyAverage(deposits_measure), NOVEMBER, AS_OF) == [
        Reading(ReadingKind.AVERAGE, deposits_measure, start, AS_OF)
    ]
    assert readings(Growth(deposits_measure), NOVEMBER, AS_OF) == [
        Reading(ReadingKind.POSITION, deposits_measure, None, AS_OF),
        Reading(ReadingKind.POSITION, deposits_measure, None, date(2026, 10, 31)),
    ]


def test_a_ratio_reads_its_numerator_then_its_denominator() -> None:
    issued, activated = (
        Measure.SOCIAL_SECURITY_CARDS_ISSUED,
        Measure.SOCIAL_SECURITY_CARDS_ACTIVATED,
    )
    start = date(2026, 11, 1)

    assert readings(Ratio(Total(activated), Total(issued)), NOVEMBER, AS_OF) == [
        Reading(ReadingKind.WINDOW, activated, start, AS_OF),
        Reading(ReadingKind.WINDOW, issued, start, AS_OF),
    ]
    assert readings(CATALOG["OVERDUE_RATE"].formula, NOVEMBER, AS_OF) == [
        Reading(ReadingKind.POSITION, Measure.OVERDUE_BALANCE, None, AS_OF),
        Reading(ReadingKind.POSITION, Measure.OUTSTANDING_BALANCE, None, AS_OF),
    ]


def _values(formula: Formula, *numbers: str) -> dict[Reading, Decimal]:
    wanted = readings(formula, NOVEMBER, AS_OF)
    return {reading: Decimal(number) for reading, number in zip(wanted, numbers, strict=True)}


def test_a_ratio_is_its_numerator_over_its_denominator_and_nothing_over_zero() -> None:
    overdue = CATALOG["OVERDUE_RATE"].formula

    assert evaluate(overdue, _values(overdue, "500", "20000"), NOVEMBER, AS_OF) == Decimal("0.025")
    assert evaluate(overdue, _values(overdue, "0", "20000"), NOVEMBER, AS_OF) == 0
    assert evaluate(overdue, _values(overdue, "0", "0"), NOVEMBER, AS_OF) is None
    assert evaluate(overdue, {}, NOVEMBER, AS_OF) is None


def test_growth_is_the_position_at_the_end_less_the_position_before_the_start() -> None:
    growth = CATALOG["DEPOSIT_GROWTH"].formula

    assert evaluate(growth, _values(growth, "1500000", "1200000"), NOVEMBER, AS_OF) == Decimal(
        300000
    )
    assert evaluate(growth, _values(growth, "900000", "1200000"), NOVEMBER, AS_OF) == Decimal(
        -300000
    )
    only_now = {readings(growth, NOVEMBER, AS_OF)[0]: Decimal(700000)}
    assert evaluate(growth, only_now, NOVEMBER, AS_OF) == Decimal(700000)


def test_a_missing_reading_counts_as_zero() -> None:
    total = CATALOG["LOANS_DISBURSED_AMOUNT"].formula

    assert evaluate(total, {}, NOVEMBER, AS_OF) == 0


def test_an_indicator_is_rounded_as_its_unit_is_shown() -> None:
    assert str(CATALOG["DEPOSIT_BALANCE"].rounded(Decimal("1234.565"))) == "1234.57"
    assert str(CATALOG["OVERDUE_RATE"].rounded(Decimal("0.024949"))) == "0.0249"
    assert str(CATALOG["OVERDUE_RATE"].rounded(Decimal("0.02495"))) == "0.0250"
    assert str(CATALOG["NEW_CUSTOMERS"].rounded(Decimal("3.00"))) == "3"
    assert str(CATALOG["POINTS_REDEEMED"].rounded(Decimal("1500.00"))) == "1500"
    assert CATALOG["OVERDUE_RATE"].rounded(None) is None

"""Scoring: attainment against a target, bounded by ceiling and floor; scores, competition ranks,
rank changes, and the bonus pool shared to the fen."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jikuai.domain.performance.indicators import Direction
from jikuai.domain.performance.scoring import (
    attainment,
    bonus_shares,
    rank_changes,
    ranks,
    score,
    total,
)
from jikuai.domain.performance.scoring import (
    ordered as best_first,
)

HIGHER, LOWER = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER
CEILING = Decimal("1.2")
A, B, C, D = (uuid.UUID(int=n) for n in (1, 2, 3, 4))


def reached(
    actual: str | None,
    target: str,
    direction: Direction = HIGHER,
    *,
    ceiling: str = "1.2",
    floor: str = "0",
) -> Decimal:
    return attainment(
        None if actual is None else Decimal(actual),
        Decimal(target),
        direction,
        ceiling=Decimal(ceiling),
        floor=Decimal(floor),
    )


# Attainment -------------------------------------------------------------------------------------


def test_higher_is_better_attains_actual_over_target_to_a_ten_thousandth() -> None:
    assert str(reached("50", "100")) == "0.5000"
    assert str(reached("100", "100")) == "1.0000"
    assert str(reached("1", "3")) == "0.3333"
    assert str(reached("2", "3")) == "0.6667"
    assert str(reached("0", "100")) == "0.0000"


def test_lower_is_better_attains_target_over_actual() -> None:
    assert str(reached("0.02", "0.01", LOWER)) == "0.5000"
    assert str(reached("0.01", "0.01", LOWER)) == "1.0000"
    assert str(reached("0.03", "0.01", LOWER)) == "0.3333"


def test_attainment_is_capped_at_the_ceiling() -> None:
    assert str(reached("250", "100")) == "1.2000"
    assert str(reached("250", "100", ceiling="1.5")) == "1.5000"
    assert str(reached("0.001", "0.01", LOWER)) == "1.2000"


def test_an_actual_of_zero_attains_the_ceiling_when_lower_is_better() -> None:
    assert str(reached("0", "0.01", LOWER)) == "1.2000"
    assert str(reached("0.0000", "0.01", LOWER, ceiling="2")) == "2.0000"


def test_attainment_below_the_floor_counts_as_zero_and_at_the_floor_counts() -> None:
    assert str(reached("59", "100", floor="0.6")) == "0.0000"
    assert str(reached("60", "100", floor="0.6")) == "0.6000"
    assert str(reached("0.02", "0.01", LOWER, floor="0.6")) == "0.0000"


def test_a_negative_actual_attains_nothing() -> None:
    assert str(reached("-5000", "10000")) == "0.0000"


def test_an_indicator_without_a_basis_attains_zero() -> None:
    assert str(reached(None, "100")) == "0.0000"
    assert str(reached(None, "0.01", LOWER)) == "0.0000"


# Scores -----------------------------------------------------------------------------------------


def test_a_score_is_weight_times_attainment_to_the_cent_half_up() -> None:
    assert str(score(Decimal("30"), Decimal("0.3333"))) == "10.00"
    assert str(score(Decimal("33.33"), Decimal("0.5"))) == "16.67"
    assert str(score(Decimal("25"), Decimal("1.2000"))) == "30.00"
    assert str(score(Decimal("40"), Decimal("0.0000"))) == "0.00"


def test_a_total_is_the_sum_of_the_scores_to_the_cent() -> None:
    assert str(total([Decimal("10.00"), Decimal("16.67"), Decimal("30.00")])) == "56.67"
    assert str(total([])) == "0.00"


# Ranks ------------------------------------------------------------------------------------------


def test_equal_scores_share_a_place_and_the_next_place_is_skipped() -> None:
    scores = {A: Decimal("90"), B: Decimal("80"), C: Decimal("80"), D: Decimal("70")}

    assert ranks(scores) == {A: 1, B: 2, C: 2, D: 4}


def test_everyone_level_is_first_and_nobody_ranks_nobody() -> None:
    assert ranks({A: Decimal("0.00"), B: Decimal("0"), C: Decimal("0.00")}) == {A: 1, B: 1, C: 1}
    assert ranks({}) == {}


def test_places_gained_are_positive_places_lost_negative_and_a_newcomer_has_none() -> None:
    current = {A: 1, B: 2, C: 3, D: 3}
    previous = {A: 3, B: 2, C: 1}

    assert rank_changes(current, previous) == {A: 2, B: 0, C: -2, D: None}


def test_the_best_come_first_and_equal_scores_by_name_then_id() -> None:
    scores = {A: Decimal("50"), B: Decimal("80"), C: Decimal("50"), D: Decimal("50")}
    names = {A: "赵", B: "钱", C: "孙", D: "孙"}

    assert list(best_first(scores, names)) == [B, C, D, A]


# Bonus shares -----------------------------------------------------------------------------------


def test_the_pool_is_shared_by_score_and_the_fen_left_go_to_the_largest_remainder() -> None:
    shares = bonus_shares(Decimal("10000.00"), {A: Decimal("105.00"), B: Decimal("50.00")})

    # 6774.1935… and 3225.8064…: one fen is left over and goes to the larger remainder.
    assert shares == {A: Decimal("6774.19"), B: Decimal("3225.81")}


def test_equal_remainders_give_the_fen_left_by_id() -> None:
    shares = bonus_shares(Decimal("1.00"), {C: Decimal("1"), A: Decimal("1"), B: Decimal("1")})

    assert shares == {A: Decimal("0.34"), B: Decimal("0.33"), C: Decimal("0.33")}


def test_nothing_is_paid_when_nobody_scored_or_there_is_no_pool() -> None:
    nobody = bonus_shares(Decimal("5000.00"), {A: Decimal("0.00"), B: Decimal("0.00")})
    no_pool = bonus_shares(Decimal("0.00"), {A: Decimal("80.00"), B: Decimal("20.00")})

    assert nobody == {A: Decimal("0.00"), B: Decimal("0.00")}
    assert no_pool == {A: Decimal("0.00"), B: Decimal("0.00")}
    assert all(str(share) == "0.00" for share in [*nobody.values(), *no_pool.values()])
    assert bonus_shares(Decimal("5000.00"), {}) == {}


pools = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("100000000.00"), places=2, allow_nan=False
)
positive_scores = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("1000.00"), places=2, allow_nan=False
)
any_scores = st.decimals(
    min_value=Decimal("0.00"), max_value=Decimal("1000.00"), places=2, allow_nan=False
)


@given(pool=pools, scores=st.lists(positive_scores, min_size=1, max_size=40))
def test_the_shares_sum_to_the_pool_exactly(pool: Decimal, scores: list[Decimal]) -> None:
    by_staff = {uuid.UUID(int=n + 1): value for n, value in enumerate(scores)}

    shares = bonus_shares(pool, by_staff)

    assert sum(shares.values(), Decimal(0)) == pool
    assert set(shares) == set(by_staff)
    assert all(share == share.quantize(Decimal("0.01")) >= 0 for share in shares.values())


@given(pool=pools, scores=st.lists(any_scores, min_size=1, max_size=40))
def test_each_share_is_within_a_fen_of_its_exact_proportion(
    pool: Decimal, scores: list[Decimal]
) -> None:
    by_staff = {uuid.UUID(int=n + 1): value for n, value in enumerate(scores)}
    everyone = sum(scores, Decimal(0))

    shares = bonus_shares(pool, by_staff)

    if everyone == 0:
        assert set(shares.values()) == {Decimal("0.00")}
        return
    assert sum(shares.values(), Decimal(0)) == pool
    for staff_id, value in by_staff.items():
        assert abs(shares[staff_id] - pool * value / everyone) < Decimal("0.01")
        if value == 0:
            assert shares[staff_id] == 0


@given(
    pool=pools,
    low=positive_scores,
    extra=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2),
)
def test_a_higher_score_never_takes_a_smaller_share(
    pool: Decimal, low: Decimal, extra: Decimal
) -> None:
    shares = bonus_shares(pool, {A: low, B: low + extra})

    assert shares[B] >= shares[A]


@pytest.mark.parametrize("count", [1, 3, 7])
def test_a_pool_of_one_fen_goes_whole_to_one_person(count: int) -> None:
    by_staff = {uuid.UUID(int=n + 1): Decimal("10") for n in range(count)}

    shares = bonus_shares(Decimal("0.01"), by_staff)

    assert sorted(shares.values()) == [Decimal("0.00")] * (count - 1) + [Decimal("0.01")]

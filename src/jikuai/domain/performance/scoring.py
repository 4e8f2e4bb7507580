"""Scoring rules: attainment, weighted score, rank and the bonus pool's shares.

Attainment is actual / target for a higher-is-better indicator and target / actual for a
lower-is-better one (an actual of zero attains the ceiling), capped at the ceiling and counted as
zero below the floor; an indicator without a basis (a ratio over nothing) attains zero. Its
score is weight × attainment. Scores are kept to the cent of a point, attainment to 1/10,000.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from jikuai.domain.performance.indicators import Direction
from jikuai.domain.shared.money import CENT

ATTAINMENT = Decimal("0.0001")
SCORE = Decimal("0.01")
ZERO = Decimal(0)


def attainment(
    actual: Decimal | None,
    target: Decimal,
    direction: Direction,
    *,
    ceiling: Decimal,
    floor: Decimal,
) -> Decimal:
    if actual is None:
        return ZERO.quantize(ATTAINMENT)
    if direction is Direction.HIGHER_IS_BETTER:
        reached = actual / target
    else:
        reached = ceiling if actual <= 0 else target / actual
    if reached < floor:
        return ZERO.quantize(ATTAINMENT)
    return min(reached, ceiling).quantize(ATTAINMENT, rounding=ROUND_HALF_UP)


def score(weight: Decimal, reached: Decimal) -> Decimal:
    return (weight * reached).quantize(SCORE, rounding=ROUND_HALF_UP)


def ranks(scores: Mapping[uuid.UUID, Decimal]) -> dict[uuid.UUID, int]:
    """Competition ranking (1, 2, 2, 4): equal scores share a rank."""
    ordered = sorted(scores.values(), reverse=True)
    first_place: dict[Decimal, int] = {}
    for place, value in enumerate(ordered, start=1):
        first_place.setdefault(value, place)
    return {staff_id: first_place[value] for staff_id, value in scores.items()}


def bonus_shares(pool: Decimal, scores: Mapping[uuid.UUID, Decimal]) -> dict[uuid.UUID, Decimal]:
    """The pool split in proportion to score, to the fen, the shares summing to the pool
    exactly: each takes its share rounded down and the fen left over go to the largest
    remainders (ties by id). Nothing is paid when nobody scored."""
    total = sum(scores.values(), ZERO)
    if total <= 0 or pool <= 0:
        return {staff_id: ZERO.quantize(CENT) for staff_id in scores}
    exact = {staff_id: pool * value / total for staff_id, value in scores.items()}
    shares = {
        staff_id: share.quantize(CENT, rounding=ROUND_DOWN) for staff_id, share in exact.items()
    }
    left = int((pool - sum(shares.values(), ZERO)) / CENT)
    by_remainder = sorted(
        exact, key=lambda staff_id: (shares[staff_id] - exact[staff_id], staff_id)
    )
    for staff_id in by_remainder[:left]:
        shares[staff_id] += CENT
    return shares


def total(scores: Iterable[Decimal]) -> Decimal:
    return sum(scores, ZERO).quantize(SCORE)


def rank_changes(
    current: Mapping[uuid.UUID, int], previous: Mapping[uuid.UUID, int]
) -> dict[uuid.UUID, int | None]:
    """Places gained since the previous period (negative when lost); None for a newcomer."""
    return {
        staff_id: previous[staff_id] - rank if staff_id in previous else None
        for staff_id, rank in current.items()
    }


def ordered(
    scores: Mapping[uuid.UUID, Decimal], names: Mapping[uuid.UUID, str]
) -> Sequence[uuid.UUID]:
    """Best first; equal scores by name, then id, so a page is stable."""
    return sorted(
        scores, key=lambda staff_id: (-scores[staff_id], names.get(staff_id, ""), staff_id)
    )

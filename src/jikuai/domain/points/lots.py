"""Which lots a spend takes its points from: the soonest-expiring first, so that what a customer
keeps is what lasts longest."""

from __future__ import annotations

from collections.abc import Sequence

from jikuai.domain.points.model import Lot


def allocate(lots: Sequence[Lot], points: int) -> list[tuple[Lot, int]]:
    """(lot, points taken) for `points`, soonest expiry first, ties by age; the lots must
    hold enough."""
    taken: list[tuple[Lot, int]] = []
    left = points
    for lot in sorted(lots, key=lambda each: (each.expires_on, each.id)):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            taken.append((lot, take))
            left -= take
    if left:
        raise ValueError(f"lots hold {points - left} of the {points} points to take")
    return taken

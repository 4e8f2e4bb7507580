"""Spending takes the soonest-expiring points first, so what a customer keeps lasts longest."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from jikuai.domain.points.lots import allocate
from jikuai.domain.points.model import Lot, LotState

INSTITUTION = uuid.uuid4()
CUSTOMER = uuid.uuid4()


def lot(remaining: int, expires_on: date, *, lot_id: int | None = None) -> Lot:
    return Lot(
        id=uuid.UUID(int=lot_id) if lot_id is not None else uuid.uuid4(),
        institution_id=INSTITUTION,
        customer_id=CUSTOMER,
        event_id=uuid.uuid4(),
        points=max(remaining, 1000),
        remaining=remaining,
        expired=0,
        state=LotState.ACTIVE,
        available_on=date(2026, 1, 1),
        expires_on=expires_on,
    )


def taken(allocation: list[tuple[Lot, int]]) -> list[tuple[uuid.UUID, int]]:
    return [(each.id, points) for each, points in allocation]


def test_the_soonest_expiring_lot_is_spent_first_whatever_the_order_given() -> None:
    late = lot(500, date(2027, 12, 31))
    soon = lot(200, date(2026, 4, 30))
    middle = lot(300, date(2026, 9, 30))

    allocation = allocate([late, soon, middle], 150)

    assert taken(allocation) == [(soon.id, 150)]


def test_a_spend_runs_through_lots_in_expiry_order() -> None:
    late = lot(500, date(2027, 12, 31))
    soon = lot(200, date(2026, 4, 30))
    middle = lot(300, date(2026, 9, 30))

    allocation = allocate([late, middle, soon], 600)

    assert taken(allocation) == [(soon.id, 200), (middle.id, 300), (late.id, 100)]


def test_lots_of_one_last_day_are_taken_by_id() -> None:
    day = date(2026, 6, 30)
    second, first, third = lot(100, day, lot_id=2), lot(100, day, lot_id=1), lot(100, day, lot_id=3)

    allocation = allocate([second, third, first], 250)

    assert taken(allocation) == [(first.id, 100), (second.id, 100), (third.id, 50)]


def test_exactly_everything_can_be_spent() -> None:
    lots = [lot(120, date(2026, 5, 1)), lot(80, date(2026, 6, 1))]

    allocation = allocate(lots, 200)

    assert sum(points for _, points in allocation) == 200
    assert [points for _, points in allocation] == [120, 80]


def test_empty_lots_are_skipped() -> None:
    empty = lot(0, date(2026, 4, 1))
    full = lot(100, date(2026, 5, 1))

    assert taken(allocate([empty, full], 60)) == [(full.id, 60)]


def test_nothing_to_take_takes_nothing() -> None:
    assert allocate([lot(100, date(2026, 5, 1))], 0) == []


def test_allocating_leaves_the_lots_unchanged() -> None:
    lots = [lot(100, date(2026, 5, 1)), lot(100, date(2026, 6, 1))]

    allocate(lots, 150)

    assert [each.remaining for each in lots] == [100, 100]


@pytest.mark.parametrize(("holding", "wanted"), [([], 1), ([100, 50], 151), ([0, 0], 1)])
def test_lots_that_hold_too_little_raise(holding: list[int], wanted: int) -> None:
    lots = [lot(points, date(2026, 5, 1 + index)) for index, points in enumerate(holding)]

    with pytest.raises(ValueError, match=f"of the {wanted} points"):
        allocate(lots, wanted)

"""Figures above the person: an institution's dashboard headlines with their monthly series and
the province's league table (everything an institution holds counts, managed or not), and a
branch's figures (what its staff manage)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jikuai.domain.performance.freshness import CACHE_SECONDS, generation
from jikuai.domain.performance.indicators import (
    CATALOG,
    Direction,
    Indicator,
    combine,
    evaluate,
    readings,
)
from jikuai.domain.performance.model import Scheme
from jikuai.domain.performance.periods import Period
from jikuai.domain.performance.ports import PerformanceRepository, ResultCache
from jikuai.domain.performance.results import Scoreboard

SERIES_MONTHS = 12

Figures = dict[tuple[uuid.UUID, Period, str], Decimal | None]


def series_months(period: Period) -> list[Period]:
    """The months of a chart: the twelve up to the period's last month, oldest first."""
    months = [period.months()[-1]]
    while len(months) < SERIES_MONTHS:
        months.append(months[-1].previous())
    return months[::-1]


async def institution_figures(
    performance: PerformanceRepository,
    institution_ids: Sequence[uuid.UUID],
    periods: Sequence[Period],
    codes: Sequence[str],
    *,
    today: date,
) -> Figures:
    """Each institution's figure of each indicator for each period, in one statement."""
    plan = {
        (period, code): readings(CATALOG[code].formula, period, period.as_of(today))
        for period in periods
        for code in codes
    }
    values = await performance.read(
        institution_ids, [r for needed in plan.values() for r in needed], by_staff=False
    )
    figures: Figures = {}
    for (period, code), needed in plan.items():
        indicator = CATALOG[code]
        for institution_id in institution_ids:
            parts = [values[reading].get(institution_id, Decimal(0)) for reading in needed]
            figures[institution_id, period, code] = indicator.rounded(
                combine(indicator.formula, parts)
            )
    return figures


async def dashboard(
    performance: PerformanceRepository,
    cache: ResultCache | None,
    institution_id: uuid.UUID,
    period: Period,
    codes: Sequence[str],
    *,
    today: date,
) -> Figures:
    """One institution's figures for the period and each month of its series, cached like a
    scoreboard."""
    periods = list(dict.fromkeys([*series_months(period), period]))
    key = await _key(cache, institution_id, period, codes, today)
    if cache is not None and (cached := await cache.get(key)) is not None:
        return _decode(cached, institution_id, periods)
    figures = await institution_figures(performance, [institution_id], periods, codes, today=today)
    if cache is not None:
        await cache.set(key, _encode(figures), ttl_seconds=CACHE_SECONDS)
    return figures


@dataclass(frozen=True, slots=True)
class LeagueLine:
    institution_id: uuid.UUID
    rank: int
    figures: dict[str, Decimal | None]


async def league(
    performance: PerformanceRepository,
    institution_ids: Sequence[uuid.UUID],
    period: Period,
    codes: Sequence[str],
    order_by: str,
    *,
    today: date,
) -> list[LeagueLine]:
    """The institutions' figures, best first by one indicator (its direction decides what is
    best); those without a basis for it come last."""
    wanted = list(dict.fromkeys([*codes, order_by]))
    figures = await institution_figures(performance, institution_ids, [period], wanted, today=today)
    sign = 1 if CATALOG[order_by].direction is Direction.HIGHER_IS_BETTER else -1

    def place(institution_id: uuid.UUID) -> tuple[bool, Decimal, str]:
        value = figures[institution_id, period, order_by]
        return value is None, -sign * (value or Decimal(0)), str(institution_id)

    return [
        LeagueLine(
            institution_id,
            rank,
            {code: figures[institution_id, period, code] for code in wanted},
        )
        for rank, institution_id in enumerate(sorted(institution_ids, key=place), start=1)
    ]


@dataclass(frozen=True, slots=True)
class BranchFigure:
    indicator: Indicator
    value: Decimal | None
    target: Decimal | None  # the branch's own, where its staff's scheme sets one


async def branch_figures(
    performance: PerformanceRepository, board: Scoreboard, branch_id: uuid.UUID
) -> list[BranchFigure]:
    """The branch's figure of each indicator its staff are scored on: the sum over its staff,
    ratios of the sums."""
    shown = [result for result in board.results if result.branch_id == branch_id]
    used = await performance.schemes_by_id(list(dict.fromkeys(r.scheme_id for r in shown)))
    codes = list(dict.fromkeys(item.code for scheme in used for item in scheme.indicators))
    wanted = [
        reading
        for code in codes
        for reading in readings(CATALOG[code].formula, board.period, board.as_of)
    ]
    values = await performance.read([board.institution_id], wanted, by_staff=True)
    members = {result.staff_id for result in shown}
    summed = {
        reading: sum(
            (value for staff_id, value in per_staff.items() if staff_id in members), Decimal(0)
        )
        for reading, per_staff in values.items()
    }
    return [
        BranchFigure(
            CATALOG[code],
            CATALOG[code].rounded(
                evaluate(CATALOG[code].formula, summed, board.period, board.as_of)
            ),
            _branch_target(used, code, branch_id),
        )
        for code in codes
    ]


def _branch_target(used: Sequence[Scheme], code: str, branch_id: uuid.UUID) -> Decimal | None:
    for scheme in used:
        for target in scheme.targets:
            if target.code == code and target.branch_id == branch_id:
                return target.value
    return None


async def _key(
    cache: ResultCache | None,
    institution_id: uuid.UUID,
    period: Period,
    codes: Sequence[str],
    today: date,
) -> str:
    number = await generation(cache, institution_id) if cache else 0
    return (
        f"performance:dashboard:{institution_id}:{period.name}:{','.join(codes)}:{today}:{number}"
    )


def _encode(figures: Mapping[tuple[uuid.UUID, Period, str], Decimal | None]) -> bytes:
    return json.dumps(
        [[period.name, code, None if value is None else str(value)]
         for (_institution, period, code), value in figures.items()]
    ).encode()  # fmt: skip


def _decode(data: bytes, institution_id: uuid.UUID, periods: Sequence[Period]) -> Figures:
    """Back from the cache, each figure under the period asked for by that name (a chart's
    months may reach before the periods a client may name)."""
    by_name = {period.name: period for period in periods}
    return {
        (institution_id, by_name[name], code): None if value is None else Decimal(value)
        for name, code, value in json.loads(data)
    }

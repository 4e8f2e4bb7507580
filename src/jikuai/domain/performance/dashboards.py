"""Institutions' own figures: the dashboard's headlines with their monthly series, and the
province's league table. Everything an institution holds counts, managed or not."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from jikuai.domain.performance.freshness import CACHE_SECONDS, generation
from jikuai.domain.performance.indicators import CATALOG, combine, readings
from jikuai.domain.performance.periods import Period
from jikuai.domain.performance.ports import PerformanceRepository, ResultCache

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
        return _decode(cached, institution_id)
    figures = await institution_figures(performance, [institution_id], periods, codes, today=today)
    if cache is not None:
        await cache.set(key, _encode(figures), ttl_seconds=CACHE_SECONDS)
    return figures


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


def _decode(data: bytes, institution_id: uuid.UUID) -> Figures:
    return {
        (institution_id, Period.parse(name), code): None if value is None else Decimal(value)
        for name, code, value in json.loads(data)
    }

"""The platform's end-of-day positions (日终): outstanding, overdue and non-performing
balances, credit limits, households served and merchants maintained, per manager, recorded as
facts of the day so a period's figures can be read as they stood on its last day."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from jikuai.domain.performance.freshness import forget_figures
from jikuai.domain.performance.ports import ResultCache
from jikuai.domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class PositionsRecorded:
    business_date: date
    institutions: int
    facts: int


async def record_positions(
    unit_of_work: Callable[[], UnitOfWork],
    cache: ResultCache | None,
    on: date,
    *,
    now: datetime,
) -> PositionsRecorded:
    """Record the day's positions of every institution, one transaction each; run again for
    the same day, it replaces what it recorded."""
    async with unit_of_work() as uow:
        institutions = await uow.tenancy.institutions()
    facts = 0
    for institution in institutions:
        async with unit_of_work() as uow:
            facts += await uow.performance.record_positions(institution.id, on, now=now)
            await uow.commit()
        await forget_figures(cache, institution.id)
    return PositionsRecorded(on, len(institutions), facts)

"""Which runs a pass owes, and the pass itself.

A pass runs every daily job for every business date it owes, in date order and, within a
date, in the registry's order. The worker makes one at start (catching up the days it was down),
at each daily job's time, and every few minutes to retry failures and to run what waited for
another job.

What a daily job owes: each business date whose time has come, over the last
`CATCH_UP_DAYS` days and not before the first date ever recorded for it (a job that has never
run owes only its latest date, so a new deployment starts from today), that has no record yet
or one the worker may claim (failed, or running under a lease that ran out, with attempts
left). A job that catches up its latest day only owes at most that one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jikuai.domain.scheduling.model import JobRun, RunStatus
from jikuai.domain.scheduling.registry import Job
from jikuai.domain.scheduling.running import MAX_ATTEMPTS, Connect
from jikuai.domain.scheduling.schedules import CatchUp, Daily
from jikuai.domain.shared.calendar import business_date

CATCH_UP_DAYS = 31


@dataclass(frozen=True, slots=True)
class Due:
    job: Job
    on: date


def due_runs(
    registry: Sequence[Job],
    *,
    now: datetime,
    records: Sequence[JobRun],
    first_dates: Mapping[str, date],
    days: int = CATCH_UP_DAYS,
    max_attempts: int = MAX_ATTEMPTS,
) -> list[Due]:
    """The runs owed at `now`, by date and then registry order. `records` must hold every
    record from `window_start(registry, now, days)` on."""
    recorded = {(record.job, record.business_date): record for record in records}
    owed: list[tuple[date, int, Due]] = []
    for position, job in enumerate(registry):
        if not isinstance(job.schedule, Daily):
            continue
        for day in _candidates(job.schedule, now, first_dates.get(job.name), days):
            record = recorded.get((job.name, day))
            if record is None or _claimable(record, now, max_attempts):
                owed.append((day, position, Due(job, day)))
    return [due for _day, _position, due in sorted(owed, key=lambda each: each[:2])]


def window_start(registry: Sequence[Job], now: datetime, days: int = CATCH_UP_DAYS) -> date:
    """The earliest business date a pass at `now` may owe."""
    latest = [job.schedule.latest_due(now) for job in registry if isinstance(job.schedule, Daily)]
    return min(latest, default=business_date(now)) - timedelta(days=days - 1)


def _candidates(schedule: Daily, now: datetime, first: date | None, days: int) -> list[date]:
    latest = schedule.latest_due(now)
    if first is None or schedule.catch_up is CatchUp.LATEST_DAY:
        return [latest]
    start = max(first, latest - timedelta(days=days - 1))
    return [start + timedelta(days=n) for n in range((latest - start).days + 1)]


def _claimable(record: JobRun, now: datetime, max_attempts: int) -> bool:
    if record.status is RunStatus.SUCCEEDED or record.holds_lease(now):
        return False
    return record.attempt < max_attempts


async def catch_up(
    registry: Sequence[Job],
    *,
    now: datetime,
    records: Sequence[JobRun],
    first_dates: Mapping[str, date],
    run: Callable[[Job, date], Awaitable[JobRun | None]],
) -> list[JobRun]:
    """Run what is owed, one run at a time. A job whose run for a date did not succeed (or was
    not claimed: another worker has it) runs no later date in this pass, and a job runs for a
    date only once each job it waits for has succeeded for that date."""
    succeeded = {(r.job, r.business_date) for r in records if r.status is RunStatus.SUCCEEDED}
    held_back: set[str] = set()
    finished: list[JobRun] = []
    for due in due_runs(registry, now=now, records=records, first_dates=first_dates):
        name = due.job.name
        if name in held_back or any((other, due.on) not in succeeded for other in due.job.after):
            held_back.add(name)
            continue
        result = await run(due.job, due.on)
        if result is not None:
            finished.append(result)
        if result is None or result.status is not RunStatus.SUCCEEDED:
            held_back.add(name)
        else:
            succeeded.add((name, due.on))
    return finished


async def run_due(
    registry: Sequence[Job],
    *,
    connect: Connect,
    now: datetime,
    run: Callable[[Job, date], Awaitable[JobRun | None]],
) -> list[JobRun]:
    """A pass at `now`: read the records it needs (on a connection given back before the
    runs), then run what is owed."""
    async with connect() as unit_of_work, unit_of_work() as uow:
        records = await uow.job_runs.runs_since(window_start(registry, now))
        first_dates = await uow.job_runs.first_dates()
    return await catch_up(registry, now=now, records=records, first_dates=first_dates, run=run)

"""The scheduling centre for administrators: the registry with each job's latest run, and the
runs themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from jikuai.domain.scheduling.access import sees_schedule
from jikuai.domain.scheduling.model import JobRun, RunStatus
from jikuai.domain.scheduling.registry import JOBS, Job
from jikuai.resolvers.context import Context
from jikuai.resolvers.errors import Forbidden
from jikuai.resolvers.pages import Page, paged


@dataclass(frozen=True, slots=True)
class ScheduledJobView:
    job: Job
    last_run: JobRun | None


async def scheduled_jobs(context: Context) -> list[ScheduledJobView]:
    """Every job in the registry's order, with its record of the latest date (one query)."""
    await _admit(context)
    reads = await context.db.reads()
    latest = {run.job: run for run in await reads.job_runs.latest([job.name for job in JOBS])}
    return [ScheduledJobView(job, latest.get(job.name)) for job in JOBS]


async def job_run_page(
    context: Context,
    *,
    job: str | None,
    status: RunStatus | None,
    since: date | None,
    first: int,
    after: uuid.UUID | None,
) -> Page[JobRun]:
    await _admit(context)
    reads = await context.db.reads()
    return await paged(
        first,
        lambda limit: reads.job_runs.page(
            job=job, status=status, since=since, after=after, limit=limit
        ),
    )


async def job_run(context: Context, run_id: uuid.UUID) -> JobRun | None:
    """One run by id, for `node(id:)`: None for anyone who may not see the schedule."""
    actor = await context.require_actor()
    if not sees_schedule(actor):
        return None
    found = await (await context.db.reads()).job_runs.by_id([run_id])
    return found[0] if found else None


async def _admit(context: Context) -> None:
    if not sees_schedule(await context.require_actor()):
        raise Forbidden

"""The scheduling centre (调度中心): `jobs`, the periodic jobs with their latest run, and
`jobRuns`, the record of every run."""

from __future__ import annotations

import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from jikuai.domain.scheduling import model
from jikuai.domain.scheduling.schedules import CatchUp, Daily
from jikuai.resolvers import scheduling as resolve
from jikuai.resolvers.context import Context
from jikuai.schema.relay import Connection, Node, after_cursor, to_global_id

strawberry.enum(model.RunStatus, name="JobRunStatus", description="Where a job run stands.")
strawberry.enum(
    CatchUp,
    name="JobCatchUp",
    description="Which missed business dates a daily job runs for when the worker comes back: "
    "EVERY_DAY each one in order, LATEST_DAY the latest only (its run covers the others).",
)


@strawberry.type(description="One count a run recorded (计数), e.g. the loans it passed over.")
class JobCount:
    name: str = strawberry.field(description="What is counted, e.g. `loans` or `points`.")
    value: int = strawberry.field(description="How many.")


@strawberry.type(
    description="The run of a periodic job for one business date (任务运行记录). A daily job "
    "has one record per date, claimed again to retry a failure; a job that runs every few "
    "minutes keeps one record a day with the totals of its runs."
)
class JobRun(Node):
    job: str = strawberry.field(description="The job's name, e.g. `credit-daily`.")
    business_date: datetime.date = strawberry.field(
        description="The business date the run is for (业务日期), Asia/Shanghai."
    )
    status: model.RunStatus = strawberry.field(description="Running, succeeded or failed.")
    attempt: int = strawberry.field(
        description="Times the record was claimed: 1 for a first run, more after retries, "
        "takeovers or forced runs; for a job that runs every few minutes, its runs that day."
    )
    worker: str = strawberry.field(
        description="Who ran the latest attempt: a worker's host and process, `cli:` before "
        "them for an operator's command."
    )
    started_at: datetime.datetime = strawberry.field(description="The latest attempt's start.")
    finished_at: datetime.datetime | None = strawberry.field(
        description="The latest attempt's end; null while it runs."
    )
    lease_expires_at: datetime.datetime = strawberry.field(
        description="Until when the running worker holds the run (it renews this while it "
        "works); a record still running after it belongs to a worker that stopped."
    )
    counts: list[JobCount] = strawberry.field(
        description="What the run did, by name (a frequent job: the day's totals)."
    )
    summary: str | None = strawberry.field(
        description="The last successful attempt's account of itself, one sentence in English."
    )
    error: str | None = strawberry.field(
        description="Why the last failed attempt failed, in short (kept while the run is "
        "retried, cleared by a success). A failure also raises an alert."
    )

    @classmethod
    def of(cls, run: model.JobRun) -> JobRun:
        return cls(
            id=to_global_id("JobRun", run.id),
            job=run.job,
            business_date=run.business_date,
            status=run.status,
            attempt=run.attempt,
            worker=run.worker,
            started_at=run.started_at,
            finished_at=run.finished_at,
            lease_expires_at=run.lease_until,
            counts=[JobCount(name=name, value=run.counts[name]) for name in sorted(run.counts)],
            summary=run.summary,
            error=run.error,
        )


@strawberry.type(description="A periodic job of the scheduling centre (调度中心).")
class ScheduledJob:
    name: str = strawberry.field(description="Its name, e.g. `credit-daily`.")
    description: str = strawberry.field(description="What it does.")
    schedule: str = strawberry.field(
        description="When it runs: cron fields (minute hour day month weekday) in "
        "Asia/Shanghai, e.g. `5 0 * * *`."
    )
    lag_days: int = strawberry.field(
        description="A run is for the business date this many days before the day it runs: "
        "1 for merchant settlement and period close, otherwise 0."
    )
    after: list[str] = strawberry.field(
        description="Jobs whose run of the same business date must have succeeded first."
    )
    catch_up: CatchUp | None = strawberry.field(
        description="Which missed dates the worker makes up; null for a job that runs every "
        "few minutes, whose next run covers what was missed."
    )
    last_run: JobRun | None = strawberry.field(
        description="Its run of the latest business date, if it has ever run."
    )

    @classmethod
    def of(cls, view: resolve.ScheduledJobView) -> ScheduledJob:
        job, schedule = view.job, view.job.schedule
        daily = schedule if isinstance(schedule, Daily) else None
        return cls(
            name=job.name,
            description=job.description,
            schedule=str(schedule.cron),
            lag_days=daily.lag_days if daily else 0,
            after=list(job.after),
            catch_up=daily.catch_up if daily else None,
            last_run=JobRun.of(view.last_run) if view.last_run else None,
        )


@strawberry.type
class SchedulingQuery:
    @strawberry.field(
        description="Every periodic job (调度中心), in the order a pass runs them, with its "
        "latest run. For institution and province admins."
    )
    async def jobs(self, info: Info[Context, None]) -> list[ScheduledJob]:
        return [ScheduledJob.of(view) for view in await resolve.scheduled_jobs(info.context)]

    @strawberry.field(
        description="The runs of the periodic jobs (运行记录), newest first. For institution "
        "and province admins."
    )
    async def job_runs(
        self,
        info: Info[Context, None],
        job: Annotated[
            str | None, strawberry.argument(description="One job's runs only, by name.")
        ] = None,
        status: Annotated[
            model.RunStatus | None, strawberry.argument(description="Runs in this status only.")
        ] = None,
        since: Annotated[
            datetime.date | None,
            strawberry.argument(description="Runs for this business date or later only."),
        ] = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[JobRun]:
        page = await resolve.job_run_page(
            info.context,
            job=job,
            status=status,
            since=since,
            first=first,
            after=after_cursor(after),
        )
        return Connection[JobRun].of_rows(
            page.items, JobRun.of, has_next_page=page.has_next_page, after=after is not None
        )

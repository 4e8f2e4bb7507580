"""`jikuai worker`: the scheduling centre's process. It runs every job of the registry on its
schedule (cron fields in Asia/Shanghai), catches up the days it missed at start, and stops
gracefully on SIGTERM or SIGINT.

Several workers may run at once: each run claims its (job, business date) record first, so a
run happens once whichever worker gets there. Besides each daily job's own time, a pass every
ten minutes retries failed runs and runs what waited for another job.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from jikuai.container import Services
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.scheduling.catch_up import run_due
from jikuai.domain.scheduling.jobs import JobServices
from jikuai.domain.scheduling.model import JobRun
from jikuai.domain.scheduling.ports import Alerts
from jikuai.domain.scheduling.registry import JOBS, Job
from jikuai.domain.scheduling.running import AUTOMATIC, REPEATING, Runner
from jikuai.domain.scheduling.schedules import CronFields, Daily, Every
from jikuai.domain.shared.calendar import BUSINESS_TIMEZONE
from jikuai.persistence.engine import Database

log = logging.getLogger("jikuai.worker")

SWEEP = CronFields(minute="*/10")
SHUTDOWN_GRACE = timedelta(seconds=25)
SWEEPING = "due runs"


def utc_now() -> datetime:
    return datetime.now(UTC)


def worker_name(prefix: str = "") -> str:
    """Who claims runs: host and process, as operators find them."""
    return f"{prefix}{socket.gethostname()}:{os.getpid()}"[:128]


@asynccontextmanager
async def connection(database: Database) -> AsyncIterator[Callable[[], UnitOfWork]]:
    """A connection of its own (a session's), closed on leaving."""
    session = database.session()
    try:
        yield session.unit_of_work
    finally:
        await session.close()


def runner_for(
    services: Services, alerts: Alerts, *, worker: str, clock: Callable[[], datetime] = utc_now
) -> Runner:
    return Runner(
        worker=worker,
        connect=partial(connection, services.database),
        services=JobServices(services.cache, services.cipher, services.vault, services.households),
        alerts=alerts,
        clock=clock,
    )


class Worker:
    """Fires passes and frequent runs on the schedule, each in a task of its own, so a stop
    can let the runs under way finish (for a while) before the process ends."""

    def __init__(self, runner: Runner, registry: Sequence[Job] = JOBS) -> None:
        self._runner = runner
        self._registry = registry
        self._tasks: dict[str, asyncio.Task[object]] = {}

    async def pass_due(self) -> list[JobRun]:
        """Run every daily job for every date it owes (see `catch_up`)."""
        finished = await run_due(
            self._registry,
            connect=self._runner.connect,
            now=self._runner.clock(),
            run=lambda job, on: self._runner.run(job, on, rule=AUTOMATIC),
        )
        log.info("due runs done", extra={"worker": self._runner.worker, "runs": len(finished)})
        return finished

    async def tick(self, job: Job) -> JobRun | None:
        """One run of a frequent job, for the business date of the moment."""
        on = job.schedule.date_of_run(self._runner.clock())
        return await self._runner.run(job, on, rule=REPEATING)

    def scheduler(self) -> AsyncIOScheduler:
        """The schedule as APScheduler's: a pass at each daily job's time and every ten
        minutes, a run of each frequent job at its own."""
        scheduler = AsyncIOScheduler(timezone=BUSINESS_TIMEZONE)
        options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        scheduler.add_job(self._fire_pass, _trigger(SWEEP), id="sweep", **options)
        for job in self._registry:
            if isinstance(job.schedule, Daily):
                trigger, fire = _trigger(job.schedule.cron), self._fire_pass
                scheduler.add_job(fire, trigger, id=job.name, **options)
            elif isinstance(job.schedule, Every):
                trigger = _trigger(job.schedule.cron)
                scheduler.add_job(self._fire_tick, trigger, args=[job], id=job.name, **options)
        return scheduler

    async def serve(self, stop: asyncio.Event, *, grace: timedelta = SHUTDOWN_GRACE) -> None:
        """Catch up, keep the schedule until `stop` is set, then let the runs under way finish
        for up to `grace`; those still running then are interrupted and recorded FAILED, so the
        next pass, here or on another worker, runs them again."""
        scheduler = self.scheduler()
        scheduler.start()
        log.info("worker started", extra={"worker": self._runner.worker})
        await self._fire_pass()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            await self._drain(grace)
            log.info("worker stopped", extra={"worker": self._runner.worker})

    async def _fire_pass(self) -> None:
        self._spawn(SWEEPING, self.pass_due)

    async def _fire_tick(self, job: Job) -> None:
        self._spawn(job.name, partial(self.tick, job))

    def _spawn(self, key: str, work: Callable[[], Awaitable[object]]) -> None:
        """Start `work` unless the same work is still under way (the next firing will do)."""
        running = self._tasks.get(key)
        if running is not None and not running.done():
            log.info("still under way, not started again", extra={"work": key})
            return
        task: asyncio.Task[object] = asyncio.ensure_future(work())
        task.add_done_callback(partial(_report, key))
        self._tasks[key] = task

    async def _drain(self, grace: timedelta) -> None:
        under_way = {task for task in self._tasks.values() if not task.done()}
        if not under_way:
            return
        _done, late = await asyncio.wait(under_way, timeout=grace.total_seconds())
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)


def _trigger(cron: CronFields) -> CronTrigger:
    return CronTrigger(
        minute=cron.minute,
        hour=cron.hour,
        day=cron.day,
        month=cron.month,
        day_of_week=cron.day_of_week,
        timezone=BUSINESS_TIMEZONE,
    )


def _report(key: str, task: asyncio.Task[object]) -> None:
    """A pass or run that raised (its failure is recorded where it could be) is logged."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("scheduled work failed", extra={"work": key}, exc_info=error)

"""Running one job for one business date: claim its record, do the work while renewing the
lease, record how it ended, and tell the operators of a failure.

The claim is the lock that lets several workers share one schedule: a record per (job,
business date), claimed by one conditional statement. The claimant renews its lease while it
works; a worker that dies stops renewing, and once the lease has run out another may take the
run over. A worker that finds its run taken over (it was presumed dead) stops its work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jikuai.domain.ports import UnitOfWork
from jikuai.domain.scheduling.jobs import JobContext, JobServices, Outcome
from jikuai.domain.scheduling.model import ClaimRule, JobRun, error_text
from jikuai.domain.scheduling.ports import Alerts
from jikuai.domain.scheduling.registry import Job

log = logging.getLogger("jikuai.scheduling")

LEASE = timedelta(minutes=5)
RENEWALS_PER_LEASE = 5
MAX_ATTEMPTS = 3
# The worker's own runs: a failure is retried while attempts are left, a success never.
AUTOMATIC = ClaimRule(again=False, max_attempts=MAX_ATTEMPTS)
# A job that runs every few minutes claims its day's record at every run.
REPEATING = ClaimRule(again=True, max_attempts=None)

# A connection of its own, closed on leaving: what its units of work run on.
Connect = Callable[[], AbstractAsyncContextManager[Callable[[], UnitOfWork]]]


class ClaimLost(Exception):
    """Another worker took the run over: this one's lease ran out before it could renew it."""


@dataclass(frozen=True, slots=True)
class Runner:
    """Runs jobs as `worker`: `connect` opens connections, `clock` tells the time."""

    worker: str
    connect: Connect
    services: JobServices
    alerts: Alerts
    clock: Callable[[], datetime]
    lease: timedelta = LEASE

    async def run(self, job: Job, on: date, *, rule: ClaimRule) -> JobRun | None:
        """Run `job` for `on` if its record can be claimed under `rule`; the record as the run
        left it, or None when it was not claimed (or was lost to another worker)."""
        now = self.clock()
        async with self.connect() as unit_of_work, unit_of_work() as uow:
            run = await uow.job_runs.claim(
                job.name, on, worker=self.worker, now=now, lease_until=now + self.lease, rule=rule
            )
            await uow.commit()
        if run is None:
            return None
        log.info("job run started", extra=_fields(run))
        try:
            async with self.connect() as unit_of_work:
                context = JobContext(on, now, unit_of_work, self.services)
                outcome = await self._holding(run, job.run(context))
        except ClaimLost:
            log.warning("job run taken over by another worker", extra=_fields(run))
            return None
        except asyncio.CancelledError:
            await asyncio.shield(self._interrupted(run))
            raise
        except Exception as error:
            return await self._failed(job, run, error)
        finished = run.succeeded(
            outcome.counts, outcome.summary, at=self.clock(), cumulative=not job.is_daily
        )
        if not await self._finish(finished):
            log.warning("job run taken over by another worker", extra=_fields(run))
            return None
        log.info("job run succeeded", extra=_fields(finished) | {"counts": dict(finished.counts)})
        return finished

    async def _holding(self, run: JobRun, work: Awaitable[Outcome]) -> Outcome:
        """The work's outcome, renewing the lease meanwhile; if the run was taken over, the work
        is cancelled and ClaimLost raised."""
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait(
                    {task}, timeout=self.lease.total_seconds() / RENEWALS_PER_LEASE
                )
                if done:
                    return task.result()
                if not await self._still_held(run):
                    raise ClaimLost
        finally:
            if not task.done():
                task.cancel()
                await asyncio.wait({task})

    async def _still_held(self, run: JobRun) -> bool:
        """Renew the lease. A renewal that fails (the database is away) is tried again at the
        next beat: the lease may well outlast the trouble."""
        try:
            async with self.connect() as unit_of_work, unit_of_work() as uow:
                renewed = await uow.job_runs.renew(run, lease_until=self.clock() + self.lease)
                await uow.commit()
        except Exception:
            log.warning("job run lease not renewed", extra=_fields(run), exc_info=True)
            return True
        return renewed

    async def _failed(self, job: Job, run: JobRun, error: Exception) -> JobRun:
        """Record the failure, then alert; the alert never hides the failure, nor does a
        failure to record it stop the alert. A job that runs every few minutes alerts at the
        first failure of a streak only: the record still holds the last failure's error."""
        failed = run.failed(error_text(error), at=self.clock())
        log.error("job run failed", extra=_fields(failed) | {"error": failed.error}, exc_info=error)
        try:
            recorded = await self._finish(failed)
        except Exception:
            log.exception("job run failure not recorded", extra=_fields(failed))
            recorded = True
        if recorded and (job.is_daily or run.error is None):
            await self.alerts.job_failed(failed)
        return failed

    async def _interrupted(self, run: JobRun) -> None:
        """A run stopped by the worker's shutdown is FAILED, so the next pass retries it."""
        try:
            await self._finish(run.failed("interrupted: the worker stopped", at=self.clock()))
        except Exception:
            log.exception("interrupted job run not recorded", extra=_fields(run))

    async def _finish(self, run: JobRun) -> bool:
        async with self.connect() as unit_of_work, unit_of_work() as uow:
            finished = await uow.job_runs.finish(run)
            await uow.commit()
        return finished


def _fields(run: JobRun) -> dict[str, object]:
    return {
        "job": run.job,
        "business_date": run.business_date.isoformat(),
        "attempt": run.attempt,
        "worker": run.worker,
    }

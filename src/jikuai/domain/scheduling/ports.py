"""What the scheduling centre needs from persistence, and from whoever is told of failures."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

from jikuai.domain.scheduling.model import ClaimRule, JobRun, RunStatus


class JobRunRepository(Protocol):
    async def claim(
        self,
        job: str,
        on: date,
        *,
        worker: str,
        now: datetime,
        lease_until: datetime,
        rule: ClaimRule,
    ) -> JobRun | None:
        """Start the job's record for the date, or claim the existing one as `rule` allows, in
        one conditional statement: of several workers claiming at once, exactly one gets it.
        None when the record is not to be claimed (done, or held under a live lease)."""

    async def renew(self, run: JobRun, *, lease_until: datetime) -> bool:
        """Extend the lease of a run still held; False when it was taken over."""

    async def finish(self, run: JobRun) -> bool:
        """Record the attempt's end (status, finish time, counts, summary, error) if it still
        holds the record; False when another worker took it over meanwhile."""

    async def run_of(self, job: str, on: date) -> JobRun | None: ...
    async def runs_since(self, on: date) -> Sequence[JobRun]:
        """Every record of a business date on or after `on`."""

    async def first_dates(self) -> Mapping[str, date]:
        """The earliest business date recorded of each job."""

    async def latest(self, jobs: Sequence[str]) -> Sequence[JobRun]:
        """Each job's record of its latest business date, for the jobs that have one."""

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[JobRun]: ...
    async def page(
        self,
        *,
        job: str | None,
        status: RunStatus | None,
        since: date | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[JobRun]:
        """Records newest first (by id), of one job, in one status, for business dates on or
        after `since`."""


class Alerts(Protocol):
    async def job_failed(self, run: JobRun) -> None:
        """Tell the operators a run failed. Never raises: a lost alert must not hide the
        failure, which is already recorded."""

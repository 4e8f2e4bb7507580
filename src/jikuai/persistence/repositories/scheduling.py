"""Job runs: the claim of a (job, business date), its lease, its end, and the reads of the
scheduling centre."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Executable, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.scheduling.model import ClaimRule, JobRun, RunStatus
from jikuai.domain.shared.ids import new_id
from jikuai.persistence.tables.scheduling import job_runs

_RECORD = [column for column in job_runs.c]


class SqlJobRunRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

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
        """INSERT … ON CONFLICT (job, business_date) DO UPDATE … WHERE the rule allows it,
        RETURNING the record: one statement, so two workers cannot both claim. On PostgreSQL the
        loser of a race waits for the winner's row and then finds it held; on SQLite writers
        take turns."""
        row = (
            await self._connection.execute(
                _claim(self._connection, job, on, worker, now, lease_until, rule)
            )
        ).first()
        return _run(row) if row else None

    async def renew(self, run: JobRun, *, lease_until: datetime) -> bool:
        renewed = await self._connection.execute(
            update(job_runs).where(_held(run)).values(lease_until=lease_until)
        )
        return renewed.rowcount == 1

    async def finish(self, run: JobRun) -> bool:
        finished = await self._connection.execute(
            update(job_runs)
            .where(_held(run))
            .values(
                status=run.status.value,
                finished_at=run.finished_at,
                counts=dict(run.counts),
                summary=run.summary,
                error=run.error,
            )
        )
        return finished.rowcount == 1

    async def run_of(self, job: str, on: date) -> JobRun | None:
        query = select(job_runs).where(job_runs.c.job == job, job_runs.c.business_date == on)
        row = (await self._connection.execute(query)).first()
        return _run(row) if row else None

    async def runs_since(self, on: date) -> Sequence[JobRun]:
        query = select(job_runs).where(job_runs.c.business_date >= on)
        return [_run(row) for row in await self._connection.execute(query)]

    async def first_dates(self) -> Mapping[str, date]:
        query = select(job_runs.c.job, func.min(job_runs.c.business_date)).group_by(job_runs.c.job)
        return {job: first for job, first in await self._connection.execute(query)}

    async def latest(self, jobs: Sequence[str]) -> Sequence[JobRun]:
        ranked = (
            select(
                *_RECORD,
                func.row_number()
                .over(partition_by=job_runs.c.job, order_by=job_runs.c.business_date.desc())
                .label("place"),
            )
            .where(job_runs.c.job.in_(jobs))
            .subquery()
        )
        query = select(*(ranked.c[column.name] for column in _RECORD)).where(ranked.c.place == 1)
        return [_run(row) for row in await self._connection.execute(query)]

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[JobRun]:
        query = select(job_runs).where(job_runs.c.id.in_(ids))
        return [_run(row) for row in await self._connection.execute(query)]

    async def page(
        self,
        *,
        job: str | None,
        status: RunStatus | None,
        since: date | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[JobRun]:
        query = select(job_runs)
        if job is not None:
            query = query.where(job_runs.c.job == job)
        if status is not None:
            query = query.where(job_runs.c.status == status.value)
        if since is not None:
            query = query.where(job_runs.c.business_date >= since)
        if after is not None:
            query = query.where(job_runs.c.id < after)
        query = query.order_by(job_runs.c.id.desc()).limit(limit)
        return [_run(row) for row in await self._connection.execute(query)]


def _claim(
    connection: AsyncConnection,
    job: str,
    on: date,
    worker: str,
    now: datetime,
    lease_until: datetime,
    rule: ClaimRule,
) -> Executable:
    values: dict[str, Any] = {
        "id": new_id(),
        "job": job,
        "business_date": on,
        "status": RunStatus.RUNNING.value,
        "attempt": 1,
        "worker": worker,
        "started_at": now,
        "lease_until": lease_until,
        "counts": {},
    }
    claim_again = {
        "status": RunStatus.RUNNING.value,
        "attempt": job_runs.c.attempt + 1,
        "worker": worker,
        "started_at": now,
        "lease_until": lease_until,
        "finished_at": None,
    }
    where = _claimable(now, rule)
    unique = ["job", "business_date"]
    if connection.dialect.name == "postgresql":
        return (
            postgresql.insert(job_runs)
            .values(**values)
            .on_conflict_do_update(index_elements=unique, set_=claim_again, where=where)
            .returning(*_RECORD)
        )
    return (
        sqlite.insert(job_runs)
        .values(**values)
        .on_conflict_do_update(index_elements=unique, set_=claim_again, where=where)
        .returning(*_RECORD)
    )


def _claimable(now: datetime, rule: ClaimRule) -> ColumnElement[bool]:
    """Of the existing record: failed, or running under a lease that ran out, with attempts
    left; or, if the rule says so, succeeded."""
    retry = or_(
        job_runs.c.status == RunStatus.FAILED.value,
        and_(job_runs.c.status == RunStatus.RUNNING.value, job_runs.c.lease_until < now),
    )
    if rule.max_attempts is not None:
        retry = and_(retry, job_runs.c.attempt < rule.max_attempts)
    if rule.again:
        retry = or_(retry, job_runs.c.status == RunStatus.SUCCEEDED.value)
    return retry


def _held(run: JobRun) -> ColumnElement[bool]:
    """The record is still this attempt's claim."""
    return and_(
        job_runs.c.id == run.id,
        job_runs.c.attempt == run.attempt,
        job_runs.c.status == RunStatus.RUNNING.value,
    )


def _run(row: Any) -> JobRun:
    values = row._mapping
    return JobRun(
        id=values["id"],
        job=values["job"],
        business_date=values["business_date"],
        status=RunStatus(values["status"]),
        attempt=values["attempt"],
        worker=values["worker"],
        started_at=values["started_at"],
        lease_until=values["lease_until"],
        finished_at=values["finished_at"],
        counts=dict(values["counts"]),
        summary=values["summary"],
        error=values["error"],
    )

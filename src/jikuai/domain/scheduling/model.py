"""A job's run for one business date, as the scheduling centre records it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

MAX_ERROR_LENGTH = 300
MAX_SUMMARY_LENGTH = 500


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class JobRun:
    """The one record of a job for a business date (运行记录).

    A daily job's record is claimed again only to retry a failure, to take over from a worker
    whose lease ran out, or when an operator forces it; `attempt` counts the claims. A job that
    runs every few minutes keeps one record a day too: each run claims it again, `attempt` is
    the number of runs that day and `counts` their totals.
    """

    id: uuid.UUID
    job: str
    business_date: date
    status: RunStatus
    attempt: int
    worker: str
    started_at: datetime
    lease_until: datetime
    finished_at: datetime | None
    counts: Mapping[str, int]
    summary: str | None
    error: str | None

    def holds_lease(self, now: datetime) -> bool:
        """Running under a worker whose lease has not run out."""
        return self.status is RunStatus.RUNNING and now < self.lease_until

    def succeeded(
        self, counts: Mapping[str, int], summary: str, *, at: datetime, cumulative: bool
    ) -> JobRun:
        """The record once this attempt succeeded; `cumulative` adds the counts to the day's."""
        if cumulative:
            counts = {
                key: self.counts.get(key, 0) + counts.get(key, 0) for key in {*self.counts, *counts}
            }
        return replace(
            self,
            status=RunStatus.SUCCEEDED,
            finished_at=at,
            counts=dict(counts),
            summary=summary[:MAX_SUMMARY_LENGTH],
            error=None,
        )

    def failed(self, error: str, *, at: datetime) -> JobRun:
        return replace(self, status=RunStatus.FAILED, finished_at=at, error=error)


@dataclass(frozen=True, slots=True)
class ClaimRule:
    """When a record that exists may be claimed again. A FAILED record, or a RUNNING one whose
    lease ran out, may be while it has had fewer than `max_attempts` claims (None: no limit);
    a SUCCEEDED one only if `again`."""

    again: bool
    max_attempts: int | None


def error_text(error: BaseException) -> str:
    """What a failed run records of its error: its kind and the first line of its message,
    short. Statements' bound values never reach a message (the engines hide them)."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text[:MAX_ERROR_LENGTH]

"""Every periodic job in one place: its name, its schedule in Asia/Shanghai, the business date a
run is for, the jobs it waits for, and what it does.

The order is the order of a pass: a job comes after every job it waits for. A job waits for
another's run of the same business date to have succeeded.

| Job | When (Asia/Shanghai) | For the business date | Missed days |
| --- | --- | --- | --- |
| credit-daily | 00:05 | of the day | every one |
| merchant-settlement | 00:10 | before the day | every one |
| points-expiry | 00:15 | of the day | every one |
| points-release | every 5 minutes | of the moment | (the next run covers them) |
| points-lapse | every minute | of the moment | (the next run covers them) |
| performance-positions | 23:50, after credit-daily | of the day | the latest |
| performance-close | 03:00, after performance-positions | before the day | the latest |
| reencrypt | 02:30 | of the day | the latest |
| cleanup | 04:00 | of the day | the latest |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from jikuai.domain.scheduling import jobs
from jikuai.domain.scheduling.jobs import JobFunction
from jikuai.domain.scheduling.schedules import CatchUp, Daily, Every, Schedule


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    description: str
    schedule: Schedule
    run: JobFunction
    after: tuple[str, ...] = ()

    @property
    def is_daily(self) -> bool:
        return isinstance(self.schedule, Daily)


JOBS: tuple[Job, ...] = (
    Job(
        "credit-daily",
        "The credit daily pass (信贷日终): penalty accrual, days past due, five-category "
        "classification, early warnings, lapsed applications and credit lines.",
        Daily(time(0, 5), CatchUp.EVERY_DAY),
        jobs.credit_daily,
    ),
    Job(
        "merchant-settlement",
        "Merchant settlement (商户结算) of the day before: one batch per merchant.",
        Daily(time(0, 10), CatchUp.EVERY_DAY, lag_days=1),
        jobs.merchant_settlement,
    ),
    Job(
        "points-expiry",
        "Points expiry (积分过期): points whose last day came before the date expire.",
        Daily(time(0, 15), CatchUp.EVERY_DAY),
        jobs.points_expiry,
    ),
    Job(
        "points-release",
        "Pending points release (待生效积分释放): points whose waiting days are over become "
        "spendable; unconfirmed redemptions lapse.",
        Every(5),
        jobs.points_release,
    ),
    Job(
        "points-lapse",
        "Redemptions left unconfirmed past their window lapse and give their points back.",
        Every(1),
        jobs.points_lapse,
    ),
    Job(
        "performance-positions",
        "End-of-day positions (日终头寸) per manager for the performance figures, once the "
        "day's credit pass is done.",
        Daily(time(23, 50), CatchUp.LATEST_DAY),
        jobs.performance_positions,
        after=("credit-daily",),
    ),
    Job(
        "performance-close",
        "Performance period close (绩效关账): each kind of period that ended by the day before "
        "is closed wherever a scheme of that kind is in force, once that day's positions are "
        "recorded.",
        Daily(time(3, 0), CatchUp.LATEST_DAY, lag_days=1),
        jobs.performance_close,
        after=("performance-positions",),
    ),
    Job(
        "reencrypt",
        "Re-encryption (重新加密) after a key rotation: what an older data key still protects "
        "moves to the current one.",
        Daily(time(2, 30), CatchUp.LATEST_DAY),
        jobs.reencrypt,
    ),
    Job(
        "cleanup",
        "Clean-up (清理) of expired refresh tokens, idempotency keys and past days' usage "
        "counters.",
        Daily(time(4, 0), CatchUp.LATEST_DAY),
        jobs.cleanup,
    ),
)


def check_registry(registry: Sequence[Job]) -> None:
    """Names are unique and a job comes after every job it waits for, which is a daily job."""
    seen: dict[str, Job] = {}
    for job in registry:
        if job.name in seen:
            raise ValueError(f"two jobs named {job.name}")
        for name in job.after:
            if name not in seen or not seen[name].is_daily or not job.is_daily:
                raise ValueError(f"{job.name} waits for {name}, not a daily job before it")
        seen[job.name] = job


check_registry(JOBS)
JOBS_BY_NAME = {job.name: job for job in JOBS}

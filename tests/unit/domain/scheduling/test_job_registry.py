"""The registry: every periodic job once, each after the jobs it waits for."""

from __future__ import annotations

from datetime import date, time

import pytest

from jikuai.domain.performance.periods import Period, PeriodKind
from jikuai.domain.scheduling.jobs import JobContext, Outcome, last_period_over
from jikuai.domain.scheduling.registry import JOBS, JOBS_BY_NAME, Job, check_registry
from jikuai.domain.scheduling.schedules import CatchUp, Daily, Every


async def nothing(_: JobContext) -> Outcome:
    return Outcome({}, "nothing")


def daily(name: str, *, after: tuple[str, ...] = ()) -> Job:
    return Job(name, name, Daily(time(1, 0), CatchUp.EVERY_DAY), nothing, after=after)


def test_every_periodic_job_of_the_platform_is_registered() -> None:
    assert [job.name for job in JOBS] == [
        "credit-daily",
        "merchant-settlement",
        "points-expiry",
        "points-release",
        "points-lapse",
        "performance-positions",
        "performance-close",
        "reencrypt",
        "cleanup",
    ]


def test_positions_wait_for_the_credit_pass_and_closing_for_the_positions() -> None:
    assert JOBS_BY_NAME["performance-positions"].after == ("credit-daily",)
    assert JOBS_BY_NAME["performance-close"].after == ("performance-positions",)
    names = [job.name for job in JOBS]
    assert names.index("credit-daily") < names.index("performance-positions")
    assert names.index("performance-positions") < names.index("performance-close")


def test_the_schedule_in_cron_fields() -> None:
    schedules = {job.name: str(job.schedule.cron) for job in JOBS}

    assert schedules == {
        "credit-daily": "5 0 * * *",
        "merchant-settlement": "10 0 * * *",
        "points-expiry": "15 0 * * *",
        "points-release": "*/5 * * * *",
        "points-lapse": "* * * * *",
        "performance-positions": "50 23 * * *",
        "performance-close": "0 3 * * *",
        "reencrypt": "30 2 * * *",
        "cleanup": "0 4 * * *",
    }


def test_only_the_frequent_jobs_have_no_catch_up() -> None:
    frequent = {job.name for job in JOBS if isinstance(job.schedule, Every)}

    assert frequent == {"points-release", "points-lapse"}


def test_a_job_must_come_after_the_jobs_it_waits_for() -> None:
    with pytest.raises(ValueError, match="b waits for a"):
        check_registry([daily("b", after=("a",)), daily("a")])


def test_a_job_may_not_wait_for_a_frequent_one() -> None:
    frequent = Job("tick", "tick", Every(5), nothing)

    with pytest.raises(ValueError, match="b waits for tick"):
        check_registry([frequent, daily("b", after=("tick",))])


def test_two_jobs_may_not_share_a_name() -> None:
    with pytest.raises(ValueError, match="two jobs named a"):
        check_registry([daily("a"), daily("a")])


@pytest.mark.parametrize(
    ("on", "kind", "period"),
    [
        (date(2026, 11, 30), PeriodKind.MONTH, "2026-11"),
        (date(2026, 12, 1), PeriodKind.MONTH, "2026-11"),
        (date(2026, 12, 30), PeriodKind.QUARTER, "2026-Q3"),
        (date(2026, 12, 31), PeriodKind.QUARTER, "2026-Q4"),
        (date(2026, 12, 31), PeriodKind.YEAR, "2026"),
        (date(2027, 1, 15), PeriodKind.YEAR, "2026"),
    ],
)
def test_period_close_takes_the_latest_period_over_by_its_date(
    on: date, kind: PeriodKind, period: str
) -> None:
    assert last_period_over(on, kind) == Period.parse(period)

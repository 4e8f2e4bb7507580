"""Which runs a pass owes after days away, and the order and holds of the pass, with plain
records and a stand-in for the runner."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from jikuai.domain.scheduling.catch_up import CATCH_UP_DAYS, catch_up, due_runs, window_start
from jikuai.domain.scheduling.jobs import JobContext, Outcome
from jikuai.domain.scheduling.model import JobRun, RunStatus
from jikuai.domain.scheduling.registry import Job
from jikuai.domain.scheduling.running import MAX_ATTEMPTS
from jikuai.domain.scheduling.schedules import CatchUp, Daily, Every


async def nothing(_: JobContext) -> Outcome:
    return Outcome({}, "nothing")


PASS = Job("pass", "the daily pass", Daily(time(0, 5), CatchUp.EVERY_DAY), nothing)
SETTLE = Job("settle", "yesterday", Daily(time(0, 10), CatchUp.EVERY_DAY, lag_days=1), nothing)
TICK = Job("tick", "every minute", Every(1), nothing)
POSITIONS = Job(
    "positions", "end of day", Daily(time(23, 50), CatchUp.LATEST_DAY), nothing, after=("pass",)
)
REGISTRY = (PASS, SETTLE, TICK, POSITIONS)
# 10:00 in Shanghai on 10 March 2030: today's pass and yesterday's settlement are due, today's
# positions are not (23:50).
NOW = datetime(2030, 3, 10, 2, 0, tzinfo=UTC)
TODAY = date(2030, 3, 10)


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def record(
    job: str,
    on: date,
    status: RunStatus = RunStatus.SUCCEEDED,
    *,
    attempt: int = 1,
    lease_until: datetime = NOW,
) -> JobRun:
    return JobRun(
        id=uuid.uuid4(),
        job=job,
        business_date=on,
        status=status,
        attempt=attempt,
        worker="w",
        started_at=NOW,
        lease_until=lease_until,
        finished_at=None if status is RunStatus.RUNNING else NOW,
        counts={},
        summary=None,
        error=None,
    )


def owed(*records: JobRun, first_dates: Mapping[str, date] | None = None) -> list[tuple[str, date]]:
    firsts = first_dates if first_dates is not None else _first_dates(records)
    return [
        (due.job.name, due.on)
        for due in due_runs(REGISTRY, now=NOW, records=records, first_dates=firsts)
    ]


def _first_dates(records: tuple[JobRun, ...]) -> dict[str, date]:
    firsts: dict[str, date] = {}
    for each in records:
        firsts[each.job] = min(firsts.get(each.job, each.business_date), each.business_date)
    return firsts


def test_a_new_deployment_owes_each_daily_job_its_latest_date_only() -> None:
    assert owed() == [("settle", day(-1)), ("positions", day(-1)), ("pass", day(0))]


def test_the_days_missed_since_the_last_success_are_owed_in_date_order() -> None:
    missed = owed(record("pass", day(-3)), record("settle", day(-4)), record("positions", day(-3)))

    assert missed == [
        ("settle", day(-3)),
        ("pass", day(-2)),
        ("settle", day(-2)),
        ("pass", day(-1)),
        ("settle", day(-1)),
        ("positions", day(-1)),
        ("pass", day(0)),
    ]


def test_nothing_is_owed_before_the_first_date_recorded() -> None:
    assert owed(record("pass", day(-1)), first_dates={"pass": day(-1), "settle": day(-1)}) == [
        ("settle", day(-1)),
        ("positions", day(-1)),
        ("pass", day(0)),
    ]


def test_a_long_absence_is_caught_up_for_the_last_31_days_only() -> None:
    dates = [on for name, on in owed(record("pass", day(-100))) if name == "pass"]

    assert dates == [day(-n) for n in range(CATCH_UP_DAYS - 1, -1, -1)]
    assert window_start(REGISTRY, NOW) <= day(-(CATCH_UP_DAYS - 1)) - timedelta(days=1)


def test_a_gap_between_successes_is_owed_too() -> None:
    runs = [record("pass", on) for on in (day(-3), day(-1), day(0))]

    assert [each for each in owed(*runs) if each[0] == "pass"] == [("pass", day(-2))]


def test_a_failure_is_owed_while_it_has_attempts_left() -> None:
    retried = record("pass", day(0), RunStatus.FAILED, attempt=MAX_ATTEMPTS - 1)
    spent = record("pass", day(0), RunStatus.FAILED, attempt=MAX_ATTEMPTS)
    first = {"pass": day(0)}

    assert ("pass", day(0)) in owed(retried, first_dates=first)
    assert ("pass", day(0)) not in owed(spent, first_dates=first)


def test_a_run_under_a_live_lease_is_not_owed_but_one_whose_lease_ran_out_is() -> None:
    live = record("pass", day(0), RunStatus.RUNNING, lease_until=NOW + timedelta(minutes=1))
    lapsed = record("pass", day(0), RunStatus.RUNNING, lease_until=NOW - timedelta(seconds=1))
    first = {"pass": day(0)}

    assert ("pass", day(0)) not in owed(live, first_dates=first)
    assert ("pass", day(0)) in owed(lapsed, first_dates=first)


def test_a_job_that_catches_up_its_latest_day_owes_that_day_alone() -> None:
    assert [each for each in owed(record("positions", day(-9))) if each[0] == "positions"] == [
        ("positions", day(-1))
    ]


class Runs:
    """The runner's part in a pass: each run succeeds unless named to fail or to be taken."""

    def __init__(
        self, failing: frozenset[tuple[str, date]], taken: frozenset[tuple[str, date]]
    ) -> None:
        self.failing = failing
        self.taken = taken
        self.made: list[tuple[str, date]] = []

    async def __call__(self, job: Job, on: date) -> JobRun | None:
        self.made.append((job.name, on))
        if (job.name, on) in self.taken:
            return None
        failed = (job.name, on) in self.failing
        return record(job.name, on, RunStatus.FAILED if failed else RunStatus.SUCCEEDED)


async def a_pass(
    *records: JobRun,
    failing: frozenset[tuple[str, date]] = frozenset(),
    taken: frozenset[tuple[str, date]] = frozenset(),
) -> list[tuple[str, date]]:
    runs = Runs(failing, taken)
    await catch_up(REGISTRY, now=NOW, records=records, first_dates=_first_dates(records), run=runs)
    return runs.made


async def test_positions_wait_for_the_pass_of_their_date() -> None:
    made = await a_pass(
        record("pass", day(-3)), record("settle", day(-1)), record("positions", day(-3))
    )

    assert made == [
        ("pass", day(-2)),
        ("pass", day(-1)),
        ("positions", day(-1)),
        ("pass", day(0)),
    ]


async def test_a_failure_holds_back_the_later_dates_of_its_job_and_the_jobs_waiting_for_it() -> (
    None
):
    made = await a_pass(
        record("pass", day(-3)),
        record("settle", day(-1)),
        record("positions", day(-3)),
        failing=frozenset({("pass", day(-2))}),
    )

    assert made == [("pass", day(-2))]


async def test_a_date_another_worker_holds_holds_back_the_later_dates_of_that_job() -> None:
    made = await a_pass(
        record("pass", day(-2)), record("settle", day(-3)), taken=frozenset({("settle", day(-2))})
    )

    assert made == [
        ("settle", day(-2)),
        ("pass", day(-1)),
        ("positions", day(-1)),
        ("pass", day(0)),
    ]


async def test_positions_never_run_for_a_date_whose_pass_is_not_recorded() -> None:
    made = await a_pass(record("settle", day(-1)), record("pass", day(0)))

    assert made == []

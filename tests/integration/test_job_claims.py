"""The once-per-date lock: workers claiming the same (job, business date) at once, on SQLite
and on PostgreSQL (the `stack` fixture runs each test on both when the services are set)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

from jikuai.domain.scheduling.model import ClaimRule, JobRun, RunStatus
from jikuai.domain.scheduling.running import AUTOMATIC, LEASE, MAX_ATTEMPTS, REPEATING
from jikuai.worker import connection
from tests.support.stack import Stack

CLAIMANTS = 8
ON = date(2030, 1, 15)
NOW = datetime(2030, 1, 15, 1, 0, tzinfo=UTC)
OPERATOR = ClaimRule(again=False, max_attempts=None)


def new_job() -> str:
    return f"claims-{uuid.uuid4().hex[:12]}"


async def claim(
    stack: Stack, job: str, *, worker: str, now: datetime, rule: ClaimRule
) -> JobRun | None:
    async with connection(stack.services.database) as unit_of_work, unit_of_work() as uow:
        run = await uow.job_runs.claim(
            job, ON, worker=worker, now=now, lease_until=now + LEASE, rule=rule
        )
        await uow.commit()
    return run


async def claim_at_once(
    stack: Stack, job: str, *, now: datetime = NOW, rule: ClaimRule = AUTOMATIC
) -> list[JobRun]:
    """Every claimant on a connection of its own, all at once; the claims that won."""
    claims = await asyncio.gather(
        *(claim(stack, job, worker=f"worker-{n}", now=now, rule=rule) for n in range(CLAIMANTS))
    )
    return [each for each in claims if each is not None]


async def finish(stack: Stack, run: JobRun) -> bool:
    async with connection(stack.services.database) as unit_of_work, unit_of_work() as uow:
        finished = await uow.job_runs.finish(run)
        await uow.commit()
    return finished


async def renew(stack: Stack, run: JobRun, until: datetime) -> bool:
    async with connection(stack.services.database) as unit_of_work, unit_of_work() as uow:
        renewed = await uow.job_runs.renew(run, lease_until=until)
        await uow.commit()
    return renewed


async def stored(stack: Stack, job: str) -> JobRun:
    async with connection(stack.services.database) as unit_of_work, unit_of_work() as uow:
        found = await uow.job_runs.run_of(job, ON)
    assert found is not None
    return found


def failed(run: JobRun) -> JobRun:
    return run.failed("RuntimeError: core banking unreachable", at=NOW + timedelta(minutes=1))


async def test_of_workers_claiming_a_new_date_at_once_exactly_one_wins(stack: Stack) -> None:
    job = new_job()

    [won] = await claim_at_once(stack, job)

    assert (won.job, won.business_date, won.status, won.attempt) == (
        job,
        ON,
        RunStatus.RUNNING,
        1,
    )
    assert await stored(stack, job) == won


async def test_a_run_under_a_live_lease_is_claimed_by_no_one(stack: Stack) -> None:
    job = new_job()
    [holder] = await claim_at_once(stack, job)

    assert await claim_at_once(stack, job, now=NOW + LEASE / 2, rule=REPEATING) == []
    assert await stored(stack, job) == holder


async def test_a_failed_run_is_retried_by_exactly_one_worker(stack: Stack) -> None:
    job = new_job()
    [first] = await claim_at_once(stack, job)
    assert await finish(stack, failed(first))

    [retry] = await claim_at_once(stack, job, now=NOW + timedelta(minutes=5))

    assert (retry.status, retry.attempt) == (RunStatus.RUNNING, 2)
    assert retry.id == first.id
    assert retry.error == "RuntimeError: core banking unreachable"  # until the retry ends


async def test_a_run_whose_lease_ran_out_is_taken_over_once_and_its_old_holder_is_told(
    stack: Stack,
) -> None:
    job = new_job()
    [lost] = await claim_at_once(stack, job)
    later = lost.lease_until + timedelta(seconds=1)

    [taken] = await claim_at_once(stack, job, now=later)

    assert (taken.attempt, taken.status) == (2, RunStatus.RUNNING)
    assert taken.started_at == later
    assert not await renew(stack, lost, later + LEASE)
    assert not await finish(stack, failed(lost))
    assert await renew(stack, taken, later + LEASE)
    done = taken.succeeded({"loans": 3}, "done", at=later, cumulative=False)
    assert await finish(stack, done)
    assert await stored(stack, job) == done


async def test_a_succeeded_date_is_claimed_again_only_when_the_rule_says_so(stack: Stack) -> None:
    job = new_job()
    [first] = await claim_at_once(stack, job)
    assert await finish(stack, first.succeeded({}, "done", at=NOW, cumulative=False))

    assert await claim_at_once(stack, job, rule=AUTOMATIC) == []
    assert await claim_at_once(stack, job, rule=OPERATOR) == []
    [again] = await claim_at_once(stack, job, rule=ClaimRule(again=True, max_attempts=None))

    assert again.attempt == 2


async def test_the_worker_stops_retrying_after_its_attempts_but_an_operator_may_go_on(
    stack: Stack,
) -> None:
    job = new_job()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        [run] = await claim_at_once(stack, job)
        assert run.attempt == attempt
        assert await finish(stack, failed(run))

    assert await claim_at_once(stack, job, rule=AUTOMATIC) == []
    [operator] = await claim_at_once(stack, job, rule=OPERATOR)

    assert operator.attempt == MAX_ATTEMPTS + 1


async def test_a_frequent_job_adds_each_run_to_the_days_totals(stack: Stack) -> None:
    job = new_job()
    [first] = await claim_at_once(stack, job, rule=REPEATING)
    assert await finish(stack, first.succeeded({"lapsed": 2}, "2", at=NOW, cumulative=True))

    [second] = await claim_at_once(stack, job, rule=REPEATING)
    assert await finish(
        stack, second.succeeded({"lapsed": 1, "points": 70}, "1", at=NOW, cumulative=True)
    )

    day = await stored(stack, job)
    assert (day.attempt, day.status, dict(day.counts)) == (
        2,
        RunStatus.SUCCEEDED,
        {"lapsed": 3, "points": 70},
    )

"""A failed run is recorded FAILED with its error and raises an alert: an ERROR log line, and a
JSON POST to the operators' webhook (a stand-in server on a loopback port). An alert that cannot
be delivered never hides the failure. A run whose lease another worker took over stops."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta

import httpx
import pytest

from jikuai.domain.scheduling.jobs import JobContext, Outcome
from jikuai.domain.scheduling.model import RunStatus
from jikuai.domain.scheduling.registry import Job
from jikuai.domain.scheduling.running import AUTOMATIC, REPEATING
from jikuai.domain.scheduling.schedules import CatchUp, Daily
from tests.support.scheduling import (
    AlertInbox,
    Calls,
    daily_job,
    frequent_job,
    runner,
    stored_run,
    unique,
    utc,
    webhook_alerts,
)
from tests.support.servers import serve_in_thread
from tests.support.stack import Stack

NOW = utc("2030-02-03T01:00:00")
ON = date(2030, 2, 3)


@pytest.fixture
def inbox() -> Iterator[tuple[AlertInbox, str]]:
    received = AlertInbox()
    with serve_in_thread(received.app()) as base_url:
        yield received, base_url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def failing(calls: Calls, job: Job, on: date = ON) -> Job:
    calls.failing.add((job.name, on))
    return job


async def test_a_failed_run_is_recorded_with_its_error_and_alerts_the_operators(
    stack: Stack,
    inbox: tuple[AlertInbox, str],
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    received, base_url = inbox
    calls = Calls()
    job = failing(calls, daily_job(calls, unique("failing")))
    alerts = webhook_alerts(base_url, http)

    with caplog.at_level(logging.ERROR, logger="jikuai.scheduling"):
        run = await runner(stack, at=NOW, alerts=alerts).run(job, ON, rule=AUTOMATIC)

    expected_error = "RuntimeError: core banking unreachable"
    assert run is not None
    assert (run.status, run.error) == (RunStatus.FAILED, expected_error)
    assert await stored_run(stack, job.name, ON) == run
    [alert] = received.received
    assert alert == {
        "alert": "JOB_RUN_FAILED",
        "job": job.name,
        "businessDate": "2030-02-03",
        "attempt": 1,
        "worker": "test-worker",
        "startedAt": NOW.isoformat(),
        "finishedAt": NOW.isoformat(),
        "error": expected_error,
        "text": f"吉快任务失败 job failed: {job.name} 2030-02-03 (attempt 1): {expected_error}",
    }
    [logged] = [r for r in caplog.records if r.getMessage() == "job run failed"]
    fields = logged.__dict__
    assert (logged.levelno, fields["job"], fields["business_date"], fields["error"]) == (
        logging.ERROR,
        job.name,
        "2030-02-03",
        expected_error,
    )


@pytest.mark.parametrize("webhook", ["refusing", "unreachable"])
async def test_an_alert_that_cannot_be_delivered_does_not_hide_the_failure(
    stack: Stack, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, webhook: str
) -> None:
    calls = Calls()
    job = failing(calls, daily_job(calls, unique("undelivered")))
    refusing = AlertInbox(status=503)

    with caplog.at_level(logging.WARNING), serve_in_thread(refusing.app()) as base_url:
        url = base_url if webhook == "refusing" else f"http://127.0.0.1:{_closed_port()}"
        run = await runner(stack, at=NOW, alerts=webhook_alerts(url, http)).run(
            job, ON, rule=AUTOMATIC
        )

    stored = await stored_run(stack, job.name, ON)
    assert stored is not None
    assert (stored.status, stored.error) == (RunStatus.FAILED, run.error if run else None)
    assert [r.levelname for r in caplog.records if r.getMessage().startswith("alert not")] == [
        "WARNING"
    ]
    assert len(refusing.received) == (1 if webhook == "refusing" else 0)


async def test_a_retry_that_succeeds_clears_the_error(stack: Stack) -> None:
    calls = Calls()
    job = failing(calls, daily_job(calls, unique("retried")))
    await runner(stack, at=NOW).run(job, ON, rule=AUTOMATIC)
    calls.failing.clear()

    run = await runner(stack, at=NOW + timedelta(minutes=10)).run(job, ON, rule=AUTOMATIC)

    assert run is not None
    assert (run.status, run.attempt, run.error) == (RunStatus.SUCCEEDED, 2, None)
    assert (run.summary, dict(run.counts)) == (f"{job.name} {ON}: 2 things done", {"things": 2})


async def test_a_frequent_job_alerts_at_the_first_failure_of_a_streak(
    stack: Stack, inbox: tuple[AlertInbox, str], http: httpx.AsyncClient
) -> None:
    received, base_url = inbox
    calls = Calls()
    job = frequent_job(calls, unique("ticking"))
    ticking = runner(stack, at=NOW, alerts=webhook_alerts(base_url, http))

    calls.failing.add((job.name, ON))
    await ticking.run(job, ON, rule=REPEATING)
    await ticking.run(job, ON, rule=REPEATING)
    calls.failing.clear()
    await ticking.run(job, ON, rule=REPEATING)
    calls.failing.add((job.name, ON))
    last = await ticking.run(job, ON, rule=REPEATING)

    assert [alert["attempt"] for alert in received.received] == [1, 4]
    assert last is not None
    assert (last.status, last.attempt, dict(last.counts)) == (
        RunStatus.FAILED,
        4,
        {"things": 2},
    )


async def test_a_run_whose_lease_was_taken_over_stops_its_work(stack: Stack) -> None:
    started, never = asyncio.Event(), asyncio.Event()

    async def waits(_: JobContext) -> Outcome:
        started.set()
        await never.wait()
        return Outcome({}, "never")

    job = Job(unique("slow"), "slow", Daily(NOW.time(), CatchUp.EVERY_DAY), waits)
    slow = dataclasses.replace(runner(stack, at=NOW), lease=timedelta(milliseconds=300))
    running = asyncio.create_task(slow.run(job, ON, rule=AUTOMATIC))
    await started.wait()

    # Another worker, whose clock is past the lease, takes the run over.
    taker = runner(stack, at=NOW + timedelta(hours=1))
    done = Job(job.name, "quick", job.schedule, Calls().job(job.name))
    taken = await taker.run(done, ON, rule=AUTOMATIC)

    assert await running is None
    assert taken is not None
    assert (taken.status, taken.attempt) == (RunStatus.SUCCEEDED, 2)
    assert await stored_run(stack, job.name, ON) == taken


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

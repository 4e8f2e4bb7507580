"""The worker: catching up the days it missed (driven by a clock the test sets, on the real
database), its schedule as APScheduler's, a graceful stop, and `jikuai worker` as a process that
catches up and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from jikuai.domain.scheduling.jobs import JobContext, Outcome
from jikuai.domain.scheduling.model import RunStatus
from jikuai.domain.scheduling.registry import JOBS, Job
from jikuai.domain.scheduling.running import REPEATING
from jikuai.domain.scheduling.schedules import CatchUp, Daily
from jikuai.domain.shared.calendar import BUSINESS_TIMEZONE
from jikuai.worker import Worker
from tests.support.cli import run_cli
from tests.support.scheduling import (
    Calls,
    daily_job,
    frequent_job,
    runner,
    stored_run,
    unique,
    utc,
)
from tests.support.stack import Stack

# 10:00 on 10 March 2030 in Shanghai.
NOW = utc("2030-03-10T10:00:00")


def day(number: int) -> date:
    return date(2030, 3, number)


async def test_the_worker_catches_up_the_days_it_missed_in_order_and_after_dependencies(
    stack: Stack,
) -> None:
    calls = Calls()
    daily = daily_job(calls, unique("daily"))
    positions = daily_job(
        calls,
        unique("positions"),
        time(23, 50),
        catch_up=CatchUp.LATEST_DAY,
        after=(daily.name,),
    )
    registry = (daily, frequent_job(calls, unique("tick")), positions)
    # It last ran on the 5th, four days before the worker went down for good.
    last_seen = utc("2030-03-05T12:00:00")
    assert await runner(stack, at=last_seen).run(daily, day(5), rule=REPEATING)
    calls.made.clear()

    finished = await Worker(runner(stack, at=NOW), registry).pass_due()

    assert calls.made == [
        (daily.name, day(6)),
        (daily.name, day(7)),
        (daily.name, day(8)),
        (daily.name, day(9)),
        (positions.name, day(9)),  # today's is due at 23:50
        (daily.name, day(10)),
    ]
    assert {run.status for run in finished} == {RunStatus.SUCCEEDED}
    assert await Worker(runner(stack, at=NOW), registry).pass_due() == []


async def test_a_failed_day_stops_its_job_until_a_later_pass_retries_it(stack: Stack) -> None:
    calls = Calls()
    daily = daily_job(calls, unique("daily"))
    registry = (daily,)
    await runner(stack, at=utc("2030-03-07T12:00:00")).run(daily, day(7), rule=REPEATING)
    calls.made.clear()
    calls.failing.add((daily.name, day(8)))

    await Worker(runner(stack, at=NOW), registry).pass_due()
    failed = await stored_run(stack, daily.name, day(8))
    calls.failing.clear()
    await Worker(runner(stack, at=NOW + timedelta(minutes=10)), registry).pass_due()
    retried = await stored_run(stack, daily.name, day(8))

    assert calls.made == [
        (daily.name, day(8)),
        (daily.name, day(8)),
        (daily.name, day(9)),
        (daily.name, day(10)),
    ]
    assert failed is not None
    assert retried is not None
    assert (failed.status, retried.status, retried.attempt) == (
        RunStatus.FAILED,
        RunStatus.SUCCEEDED,
        2,
    )


def test_the_schedule_is_the_registry_in_shanghai_time(stack: Stack) -> None:
    scheduler = Worker(runner(stack, at=NOW)).scheduler()
    midnight = datetime(2030, 3, 10, tzinfo=BUSINESS_TIMEZONE)

    fires = {job.id: job.trigger.get_next_fire_time(None, midnight) for job in scheduler.get_jobs()}

    assert set(fires) == {"sweep"} | {job.name for job in JOBS}
    assert fires["credit-daily"] == midnight.replace(minute=5)
    assert fires["merchant-settlement"] == midnight.replace(minute=10)
    assert fires["performance-positions"] == midnight.replace(hour=23, minute=50)
    assert fires["points-release"] == midnight
    assert fires["sweep"] == midnight
    assert all(job.trigger.timezone == BUSINESS_TIMEZONE for job in scheduler.get_jobs())


async def test_a_stop_lets_runs_finish_for_a_while_then_records_the_rest_interrupted(
    stack: Stack,
) -> None:
    started, never = asyncio.Event(), asyncio.Event()

    async def waits(_: JobContext) -> Outcome:
        started.set()
        await never.wait()
        return Outcome({}, "never")

    slow = Job(unique("slow"), "slow", Daily(time(0, 5), CatchUp.EVERY_DAY), waits)
    stop = asyncio.Event()
    serving = asyncio.create_task(
        Worker(runner(stack, at=NOW), (slow,)).serve(stop, grace=timedelta(milliseconds=50))
    )
    await started.wait()

    stop.set()
    await serving

    interrupted = await stored_run(stack, slow.name, day(10))
    assert interrupted is not None
    assert (interrupted.status, interrupted.error) == (
        RunStatus.FAILED,
        "interrupted: the worker stopped",
    )


@pytest.mark.usefixtures("cli_environment", "restore_logging")
async def test_jikuai_worker_catches_up_at_start_and_stops_on_sigterm(tmp_path: Path) -> None:
    assert await run_cli("db", "upgrade") == 0
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "jikuai.cli",
        "worker",
        stderr=asyncio.subprocess.PIPE,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    assert worker.stderr is not None
    logged = [entry async for entry in _entries_until(worker.stderr, "due runs done")]

    worker.send_signal(signal.SIGTERM)
    async with asyncio.timeout(60):
        exit_code = await worker.wait()

    assert exit_code == 0
    runs = _recorded_runs(tmp_path / "jikuai.db")
    assert runs["credit-daily"] == "SUCCEEDED"
    assert {runs["reencrypt"], runs["cleanup"], runs["points-expiry"]} == {"SUCCEEDED"}
    # Closing waits for the positions of the day before, which a new deployment never had.
    assert "performance-close" not in runs
    assert [entry["job"] for entry in logged if entry["message"] == "job run failed"] == []


async def _entries_until(
    stream: asyncio.StreamReader, message: str
) -> AsyncIterator[dict[str, Any]]:
    """The JSON log entries up to the one with `message`; fail if the process ends first."""
    async with asyncio.timeout(60):
        while line := await stream.readline():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # not a log entry (a warning printed by a library)
            yield entry
            if entry.get("message") == message:
                return
    pytest.fail(f"the worker ended before logging {message!r}")


def _recorded_runs(database: Path) -> dict[str, str]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT job, status FROM job_runs"))
            return {job: status for job, status in rows}
    finally:
        engine.dispose()

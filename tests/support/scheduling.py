"""Jobs of the tests' own, run through the real runner and database, and a stand-in for the
operators' alert webhook."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jikuai.domain.scheduling.jobs import JobContext, Outcome
from jikuai.domain.scheduling.model import JobRun
from jikuai.domain.scheduling.ports import Alerts
from jikuai.domain.scheduling.registry import Job
from jikuai.domain.scheduling.running import Runner
from jikuai.domain.scheduling.schedules import CatchUp, Daily, Every
from jikuai.integrations.alerts import WebhookAlerts
from jikuai.worker import connection, runner_for
from tests.support.stack import Stack

ALERT_PATH = "/hooks/job-failures"


@dataclass
class Calls:
    """What the tests' jobs were run for, in order, and which (job, date) should fail."""

    made: list[tuple[str, date]] = field(default_factory=list)
    failing: set[tuple[str, date]] = field(default_factory=set)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def job(self, name: str) -> Callable[[JobContext], Any]:
        async def run(context: JobContext) -> Outcome:
            async with self._changed:
                self.made.append((name, context.on))
                self._changed.notify_all()
            if (name, context.on) in self.failing:
                raise RuntimeError("core banking unreachable\nat line 2 of the trace")
            return Outcome({"things": 2}, f"{name} {context.on}: 2 things done")

        return run

    async def wait_for(self, count: int, *, seconds: float = 30) -> None:
        """Until `count` runs were made; fail after `seconds` (a bound, not a measurement)."""
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(lambda: len(self.made) >= count)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def daily_job(
    calls: Calls,
    name: str,
    at: time = time(0, 5),
    *,
    catch_up: CatchUp = CatchUp.EVERY_DAY,
    after: tuple[str, ...] = (),
) -> Job:
    return Job(name, f"test job {name}", Daily(at, catch_up), calls.job(name), after=after)


def frequent_job(calls: Calls, name: str) -> Job:
    return Job(name, f"test job {name}", Every(1), calls.job(name))


class NoAlerts:
    async def job_failed(self, run: JobRun) -> None:
        return None


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def runner(stack: Stack, *, at: datetime, alerts: Alerts | None = None) -> Runner:
    return runner_for(
        stack.services, alerts or NoAlerts(), worker="test-worker", clock=fixed_clock(at)
    )


async def stored_run(stack: Stack, job: str, on: date) -> JobRun | None:
    async with connection(stack.services.database) as unit_of_work, unit_of_work() as uow:
        return await uow.job_runs.run_of(job, on)


def utc(text: str) -> datetime:
    """An instant given as Asia/Shanghai wall time."""
    return datetime.fromisoformat(f"{text}+08:00").astimezone(UTC)


class AlertInbox:
    """The operators' webhook: keeps every alert it is sent, answering `status`."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[dict[str, Any]] = []

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            self.received.append(await request.json())
            return Response(status_code=self.status)

        return Starlette(routes=[Route(ALERT_PATH, receive, methods=["POST"])])


def webhook_alerts(base_url: str | None, http: httpx.AsyncClient) -> WebhookAlerts:
    return WebhookAlerts(f"{base_url}{ALERT_PATH}" if base_url else None, http)

"""Alerts of failed job runs: a JSON POST to the operators' webhook (an incident tool, a chat
robot's relay), when one is configured.

The failure is logged at ERROR by the runner whatever happens here; a webhook that is down,
slow or refusing costs a warning in the log, never the record of the failure.
"""

from __future__ import annotations

import logging

import httpx

from jikuai.domain.scheduling.model import JobRun

log = logging.getLogger("jikuai.alerts")

TIMEOUT_SECONDS = 10.0


class WebhookAlerts:
    """`url` None: alerts are the ERROR lines of the log alone. The URL may carry a token, so it
    is never logged."""

    def __init__(self, url: str | None, http: httpx.AsyncClient) -> None:
        self._url = url
        self._http = http

    async def job_failed(self, run: JobRun) -> None:
        if self._url is None:
            return
        try:
            response = await self._http.post(
                self._url, json=alert_body(run), timeout=TIMEOUT_SECONDS
            )
            response.raise_for_status()
        except Exception as error:  # whatever went wrong, the failure itself is recorded
            log.warning(
                "alert not delivered: %s",
                type(error).__name__,
                extra={"job": run.job, "business_date": run.business_date.isoformat()},
            )


def alert_body(run: JobRun) -> dict[str, object]:
    """The alert as JSON: what failed, for which date, on which attempt and worker, and why;
    `text` says it in one line for a chat robot."""
    return {
        "alert": "JOB_RUN_FAILED",
        "job": run.job,
        "businessDate": run.business_date.isoformat(),
        "attempt": run.attempt,
        "worker": run.worker,
        "startedAt": run.started_at.isoformat(),
        "finishedAt": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
        "text": f"吉快任务失败 job failed: {run.job} {run.business_date} "
        f"(attempt {run.attempt}): {run.error}",
    }

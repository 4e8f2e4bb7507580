"""`jikuai jobs run`: an operator's run is recorded like the worker's; a date that succeeded is
run again only with --force, and the run shows in `jobRuns`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.points import business_today
from tests.support.stack import Stack

pytestmark = pytest.mark.usefixtures("restore_logging")

RUNS = """
query($since: Date) {
  jobRuns(job: "points-expiry", since: $since, first: 100) {
    edges { node { businessDate status attempt worker counts { name value } summary } }
  }
}
"""


async def recorded(stack: Stack, on: str) -> dict[str, Any]:
    body = await stack.gql(RUNS, {"since": on}, token=await stack.token("alpha-admin"))
    [run] = [e["node"] for e in body["data"]["jobRuns"]["edges"] if e["node"]["businessDate"] == on]
    return run


@pytest.mark.usefixtures("stack_environment")
async def test_a_run_from_the_command_line_is_recorded_and_not_repeated_unless_forced(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # A date long gone, which no other test runs the expiry job for.
    on = (business_today() - timedelta(days=400)).isoformat()

    first = await run_cli("jobs", "run", "points-expiry", "--date", on)
    first_out = capsys.readouterr().out
    after_first = await recorded(stack, on)
    again = await run_cli("jobs", "run", "points-expiry", "--date", on)
    again_out = capsys.readouterr().out
    forced = await run_cli("jobs", "run", "points-expiry", "--date", on, "--force")
    forced_out = capsys.readouterr().out

    assert (first, again, forced) == (0, 0, 0)
    assert f"points-expiry {on}: 0 points of 0 customers expired" in first_out
    assert re.search(
        rf"points-expiry {on}: already done \(attempt 1, finished .+\); --force", again_out
    )
    assert f"points-expiry {on}: 0 points of 0 customers expired" in forced_out
    assert after_first["status"] == "SUCCEEDED"
    assert after_first["attempt"] == 1
    assert after_first["worker"].startswith("cli:")
    assert after_first["summary"] == f"points-expiry {on}: 0 points of 0 customers expired"
    assert {count["name"] for count in after_first["counts"]} == {"customers", "lots", "points"}
    assert (await recorded(stack, on))["attempt"] == 2


@pytest.mark.usefixtures("stack_environment")
async def test_period_close_runs_for_a_day_that_is_over_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exit_code = await run_cli(
        "jobs", "run", "performance-close", "--date", business_today().isoformat()
    )

    assert exit_code == 2
    assert "a day closes once it is over" in capsys.readouterr().err

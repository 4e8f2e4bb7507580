"""`jobRuns` and `jobs` over HTTP: for institution and province admins only, keyset pages
newest first, filters by job, status and business date; `node(id:)` under the same rule."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from jikuai.domain.scheduling.registry import JOBS, Job
from jikuai.domain.scheduling.running import AUTOMATIC
from jikuai.domain.scheduling.schedules import CatchUp, Daily
from tests.support.scheduling import Calls, daily_job, runner, unique, utc
from tests.support.stack import Stack

JOB_RUNS = """
query($job: String, $status: JobRunStatus, $since: Date, $first: Int!, $after: String) {
  jobRuns(job: $job, status: $status, since: $since, first: $first, after: $after) {
    edges { cursor node {
      id job businessDate status attempt worker startedAt finishedAt leaseExpiresAt
      counts { name value } summary error
    } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
JOBS_QUERY = """
{ jobs { name description schedule lagDays after catchUp lastRun { job businessDate status } } }
"""
NODE = "query($id: ID!) { node(id: $id) { ... on JobRun { job businessDate status } } }"
DATES = [date(2030, 4, day) for day in range(1, 6)]


async def five_days(stack: Stack) -> str:
    """A job run for five days, the third failing; its name."""
    calls = Calls()
    job = daily_job(calls, unique("paged"))
    calls.failing.add((job.name, DATES[2]))
    for on in DATES:
        await runner(stack, at=utc(f"{on}T01:00:00")).run(job, on, rule=AUTOMATIC)
    return job.name


async def job_runs(stack: Stack, username: str, **variables: Any) -> dict[str, Any]:
    body = await stack.gql(JOB_RUNS, {"first": 20} | variables, token=await stack.token(username))
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["jobRuns"]
    return connection


def dates_of(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["businessDate"] for edge in connection["edges"]]


async def test_an_admin_pages_through_a_jobs_runs_newest_first(stack: Stack) -> None:
    name = await five_days(stack)

    first = await job_runs(stack, "alpha-admin", job=name, first=2)
    second = await job_runs(
        stack, "alpha-admin", job=name, first=2, after=first["pageInfo"]["endCursor"]
    )
    third = await job_runs(
        stack, "alpha-admin", job=name, first=2, after=second["pageInfo"]["endCursor"]
    )

    assert [dates_of(page) for page in (first, second, third)] == [
        ["2030-04-05", "2030-04-04"],
        ["2030-04-03", "2030-04-02"],
        ["2030-04-01"],
    ]
    assert [page["pageInfo"]["hasNextPage"] for page in (first, second, third)] == [
        True,
        True,
        False,
    ]
    assert (first["pageInfo"]["hasPreviousPage"], second["pageInfo"]["hasPreviousPage"]) == (
        False,
        True,
    )
    newest = first["edges"][0]["node"]
    assert newest == {
        "id": newest["id"],
        "job": name,
        "businessDate": "2030-04-05",
        "status": "SUCCEEDED",
        "attempt": 1,
        "worker": "test-worker",
        "startedAt": "2030-04-04T17:00:00+00:00",
        "finishedAt": "2030-04-04T17:00:00+00:00",
        "leaseExpiresAt": "2030-04-04T17:05:00+00:00",
        "counts": [{"name": "things", "value": 2}],
        "summary": f"{name} 2030-04-05: 2 things done",
        "error": None,
    }


async def test_runs_are_filtered_by_status_and_business_date(stack: Stack) -> None:
    name = await five_days(stack)

    failed = await job_runs(stack, "prov-admin", job=name, status="FAILED")
    recent = await job_runs(stack, "prov-admin", job=name, since="2030-04-04")

    [failure] = [edge["node"] for edge in failed["edges"]]
    assert (failure["businessDate"], failure["status"], failure["error"]) == (
        "2030-04-03",
        "FAILED",
        "RuntimeError: core banking unreachable",
    )
    assert (failure["summary"], failure["counts"]) == (None, [])
    assert dates_of(recent) == ["2030-04-05", "2030-04-04"]


async def test_a_page_is_at_most_100_runs_and_a_foreign_cursor_is_bad_input(stack: Stack) -> None:
    calls = Calls()
    job = daily_job(calls, unique("many"))
    for offset in range(101):
        on = date.fromordinal(date(2031, 1, 1).toordinal() + offset)
        await runner(stack, at=utc(f"{on}T01:00:00")).run(job, on, rule=AUTOMATIC)

    capped = await job_runs(stack, "alpha-admin", job=job.name, first=1000)
    body = await stack.gql(
        JOB_RUNS, {"first": 2, "after": "not-a-cursor!"}, token=await stack.token("alpha-admin")
    )
    negative = await stack.gql(JOB_RUNS, {"first": -1}, token=await stack.token("alpha-admin"))

    assert (len(capped["edges"]), capped["pageInfo"]["hasNextPage"]) == (100, True)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert negative["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("username", ["alpha-officer", "alpha-manager", "alpha-risk"])
@pytest.mark.parametrize("query", [JOB_RUNS, JOBS_QUERY])
async def test_other_staff_are_forbidden(stack: Stack, username: str, query: str) -> None:
    body = await stack.gql(query, {"first": 5}, token=await stack.token(username))

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("query", [JOB_RUNS, JOBS_QUERY])
async def test_nobody_signed_in_is_unauthenticated(stack: Stack, query: str) -> None:
    body = await stack.gql(query, {"first": 5})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_run_by_global_id_is_for_admins_and_not_found_for_others(stack: Stack) -> None:
    name = await five_days(stack)
    run_id = (await job_runs(stack, "alpha-admin", job=name, first=1))["edges"][0]["node"]["id"]

    seen = await stack.gql(NODE, {"id": run_id}, token=await stack.token("prov-admin"))
    hidden = await stack.gql(NODE, {"id": run_id}, token=await stack.token("alpha-officer"))

    assert seen["data"]["node"] == {
        "job": name,
        "businessDate": "2030-04-05",
        "status": "SUCCEEDED",
    }
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_jobs_lists_the_registry_with_each_jobs_latest_run(stack: Stack) -> None:
    calls = Calls()
    latest = date(2099, 12, 31)
    # A run recorded under a registry job's name (with a stand-in for its work), later than any.
    stand_in = Job("reencrypt", "stand-in", Daily(time(2, 30), CatchUp.LATEST_DAY), calls.job("x"))
    await runner(stack, at=utc("2099-12-31T02:30:00")).run(stand_in, latest, rule=AUTOMATIC)

    body = await stack.gql(JOBS_QUERY, token=await stack.token("alpha-admin"))

    listed = {job["name"]: job for job in body["data"]["jobs"]}
    assert list(listed) == [job.name for job in JOBS]
    assert listed["performance-positions"] | {"description": "", "lastRun": None} == {
        "name": "performance-positions",
        "description": "",
        "schedule": "50 23 * * *",
        "lagDays": 0,
        "after": ["credit-daily"],
        "catchUp": "LATEST_DAY",
        "lastRun": None,
    }
    assert (listed["merchant-settlement"]["lagDays"], listed["points-lapse"]["catchUp"]) == (
        1,
        None,
    )
    assert listed["reencrypt"]["lastRun"] == {
        "job": "reencrypt",
        "businessDate": "2099-12-31",
        "status": "SUCCEEDED",
    }
    assert "重新加密" in listed["reencrypt"]["description"]

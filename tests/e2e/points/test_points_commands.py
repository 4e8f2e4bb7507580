"""The operator's commands for points: service accounts (`jikuai clients create`) and the jobs of
a business date (`jikuai jobs run points-expiry|points-release|merchant-settlement`), run
against the test stack's own database."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from jikuai.domain.points.earning import RecordEvent, record_event
from jikuai.domain.points.model import EventType
from jikuai.domain.points.rules import add_months
from tests.support.cli import run_cli
from tests.support.credit import customer_token, local_uuid
from tests.support.merchants import approved_merchant
from tests.support.points import (
    CLIENT_LOGIN,
    SETTLEMENTS,
    account,
    assert_ledger_balances,
    business_today,
    db_session,
    record,
    redeem_on,
    rich_customer,
    service_actor,
    set_rules,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.usefixtures("restore_logging")


async def _earn_on(stack: Stack, customer_id: str, event_type: EventType, day: date) -> None:
    """An event the bank's systems reported on an earlier business date."""
    async with db_session(stack) as session:
        await record_event(
            RecordEvent(uuid.UUID(local_uuid(customer_id)), event_type, uuid.uuid4().hex),
            actor=service_actor(stack),
            uow=session.unit_of_work(),
            now=datetime.now(UTC),
            today=day,
        )


# Service accounts ------------------------------------------------------------------------------


@pytest.mark.usefixtures("stack_environment")
async def test_a_created_service_account_signs_in_with_the_printed_secret(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    await set_rules(stack)
    name = f"yushu-core-{uuid.uuid4().hex[:8]}"

    assert await run_cli("clients", "create", name, "--institution", "alpha") == 0

    out = capsys.readouterr().out
    assert f"client id:     {name}" in out
    found = re.search(r"client secret: (\S+)", out)
    assert found is not None, out
    login = (await stack.gql(CLIENT_LOGIN, {"id": name, "secret": found.group(1)}))["data"][
        "clientLogin"
    ]
    assert login["userErrors"] == []
    assert login["refreshToken"] is None
    token, customer_id = await customer_token(stack)
    recorded = await record(
        stack, login["accessToken"], customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION"
    )
    assert recorded["event"]["points"] == 200
    assert (await account(stack, token))["balance"] == 200
    wrong = (await stack.gql(CLIENT_LOGIN, {"id": name, "secret": found.group(1)[::-1]}))["data"][
        "clientLogin"
    ]
    assert [error["code"] for error in wrong["userErrors"]] == ["INVALID_CREDENTIALS"]


@pytest.mark.usefixtures("stack_environment")
async def test_a_service_account_name_is_taken_once(capsys: pytest.CaptureFixture[str]) -> None:
    name = f"card-system-{uuid.uuid4().hex[:8]}"
    assert await run_cli("clients", "create", name, "--institution", "alpha") == 0
    capsys.readouterr()

    again = await run_cli("clients", "create", name, "--institution", "beta")

    captured = capsys.readouterr()
    assert again == 2
    assert "USERNAME_TAKEN" in captured.err
    assert "client secret" not in captured.out


@pytest.mark.usefixtures("stack_environment")
@pytest.mark.parametrize("institution", ["nowhere", "prov"])
async def test_a_service_account_belongs_to_a_member_institution(
    capsys: pytest.CaptureFixture[str], institution: str
) -> None:
    name = f"core-{uuid.uuid4().hex[:8]}"

    exit_code = await run_cli("clients", "create", name, "--institution", institution)

    captured = capsys.readouterr()
    assert exit_code == 2
    assert "INVALID_INSTITUTION" in captured.err
    assert "client secret" not in captured.out


# Jobs ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("stack_environment")
async def test_the_expiry_job_runs_for_today_and_a_second_run_finds_nothing(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    await set_rules(stack)
    token, customer_id = await customer_token(stack)
    today = business_today()
    earned_on = today - timedelta(days=62)
    assert add_months(earned_on, 1) <= today  # its last day is over
    await _earn_on(stack, customer_id, EventType.SOCIAL_SECURITY_CARD_ACTIVATION, earned_on)
    await _earn_on(stack, customer_id, EventType.ON_TIME_REPAYMENT, earned_on)  # 12 months
    assert (await account(stack, token))["balance"] == 250

    first = await run_cli("jobs", "run", "points-expiry", "--date", today.isoformat())
    first_out = capsys.readouterr().out
    # Today by default; the date succeeded, so only --force runs it again.
    second = await run_cli("jobs", "run", "points-expiry", "--force")
    second_out = capsys.readouterr().out

    assert (first, second) == (0, 0)
    found = re.search(rf"points-expiry {today}: (\d+) points of (\d+) customers expired", first_out)
    assert found is not None, first_out
    assert int(found.group(1)) >= 200
    assert int(found.group(2)) >= 1
    assert f"points-expiry {today}: 0 points of 0 customers expired" in second_out
    assert (await account(stack, token))["balance"] == 50
    await assert_ledger_balances(stack)


@pytest.mark.usefixtures("stack_environment")
async def test_the_release_job_makes_due_points_spendable(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    await set_rules(stack)
    token, customer_id = await customer_token(stack)
    today = business_today()
    await _earn_on(stack, customer_id, EventType.REFERRAL, today - timedelta(days=7))
    await _earn_on(stack, customer_id, EventType.REFERRAL, today - timedelta(days=6))

    exit_code = await run_cli("jobs", "run", "points-release", "--date", today.isoformat())

    assert exit_code == 0
    found = re.search(
        rf"points-release {today}: (\d+) points of (\d+) customers released",
        capsys.readouterr().out,
    )
    assert found is not None
    assert int(found.group(1)) >= 300
    balances = await account(stack, token)
    assert (balances["balance"], balances["pending"]) == (300, 300)
    await assert_ledger_balances(stack)


@pytest.mark.usefixtures("stack_environment")
async def test_the_lapse_job_gives_back_the_points_of_redemptions_left_unconfirmed(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    await set_rules(stack)
    token, customer_id = await rich_customer(stack, 8000)
    merchant = await approved_merchant(stack)
    five_minutes_ago = datetime.now(UTC) - timedelta(minutes=5)
    held = await redeem_on(
        stack, merchant, customer_id, day=business_today(), points=7000, now=five_minutes_ago
    )
    before = await account(stack, token)

    exit_code = await run_cli("jobs", "run", "points-lapse")
    again = await run_cli("jobs", "run", "points-lapse")

    assert held.status.value == "AWAITING_CONFIRMATION"
    assert (before["balance"], before["held"]) == (1000, 7000)
    assert (exit_code, again) == (0, 0)
    lapsed = re.findall(r"points-lapse \S+: (\d+) redemptions lapsed", capsys.readouterr().out)
    assert int(lapsed[0]) >= 1
    assert lapsed[1] == "0"
    after = await account(stack, token)
    assert (after["balance"], after["held"]) == (8000, 0)
    await assert_ledger_balances(stack)


@pytest.mark.usefixtures("stack_environment")
@pytest.mark.parametrize("job", ["points-expiry", "points-release", "merchant-settlement"])
async def test_no_job_runs_for_a_day_that_has_not_come(
    capsys: pytest.CaptureFixture[str], job: str
) -> None:
    tomorrow = (business_today() + timedelta(days=1)).isoformat()

    exit_code = await run_cli("jobs", "run", job, "--date", tomorrow)

    assert exit_code == 2
    assert "has not come yet" in capsys.readouterr().err


@pytest.mark.usefixtures("stack_environment")
async def test_settlement_runs_for_a_day_that_is_over_but_not_for_today(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    await set_rules(stack)
    _, customer_id = await rich_customer(stack, 1000)
    merchant = await approved_merchant(stack)
    yesterday = business_today() - timedelta(days=1)
    await redeem_on(stack, merchant, customer_id, day=yesterday, points=345)

    today_code = await run_cli(
        "jobs", "run", "merchant-settlement", "--date", business_today().isoformat()
    )
    today_err = capsys.readouterr().err
    yesterday_code = await run_cli(
        "jobs", "run", "merchant-settlement", "--date", yesterday.isoformat()
    )
    yesterday_out = capsys.readouterr().out
    again_code = await run_cli(
        "jobs", "run", "merchant-settlement", "--date", yesterday.isoformat(), "--force"
    )
    again_out = capsys.readouterr().out

    assert today_code == 2
    assert "cannot run for" in today_err
    assert "a day closes once it is over" in today_err
    assert yesterday_code == 0
    found = re.search(
        rf"merchant-settlement {yesterday}: (\d+) batches, (\d+) points, CNY (\S+)", yesterday_out
    )
    assert found is not None, yesterday_out
    assert int(found.group(1)) >= 1
    assert int(found.group(2)) >= 345
    assert again_code == 0
    assert f"merchant-settlement {yesterday}: 0 batches, 0 points, CNY 0.00" in again_out
    body = await stack.gql(
        SETTLEMENTS, {"merchantId": None, "first": 10}, token=merchant.cashier_token
    )
    [batch] = [edge["node"] for edge in body["data"]["settlements"]["edges"]]
    assert (batch["businessDate"], batch["points"], batch["amount"]) == (
        yesterday.isoformat(),
        345,
        "3.45",
    )

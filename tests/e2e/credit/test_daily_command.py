"""`jikuai jobs run credit-daily`: the operator's daily pass, and the days it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jikuai.domain.shared.calendar import business_date
from tests.support.cli import run_cli


@pytest.mark.usefixtures("cli_environment", "restore_logging")
async def test_the_daily_pass_runs_for_today_and_past_days_but_not_future_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    today = business_date(datetime.now(UTC))
    assert await run_cli("db", "upgrade") == 0

    for day in (today, today - timedelta(days=3)):
        assert await run_cli("jobs", "run", "credit-daily", "--date", day.isoformat()) == 0
        assert f"credit-daily {day}: 0 loans" in capsys.readouterr().out
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert await run_cli("jobs", "run", "credit-daily", "--date", tomorrow) == 2
    assert "has not come yet" in capsys.readouterr().err

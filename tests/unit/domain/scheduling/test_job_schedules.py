"""Schedules: cron fields, and the business date a run is for, around midnight in Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from jikuai.domain.scheduling.schedules import CatchUp, Daily, Every


def shanghai(text: str) -> datetime:
    """An instant given as Asia/Shanghai wall time (UTC+8, no daylight saving)."""
    return datetime.fromisoformat(f"{text}+08:00").astimezone(UTC)


CREDIT_DAILY = Daily(time(0, 5), CatchUp.EVERY_DAY)
SETTLEMENT = Daily(time(0, 10), CatchUp.EVERY_DAY, lag_days=1)


def test_a_daily_schedule_is_one_minute_of_one_hour() -> None:
    assert str(CREDIT_DAILY.cron) == "5 0 * * *"
    assert str(Daily(time(23, 50), CatchUp.LATEST_DAY).cron) == "50 23 * * *"


@pytest.mark.parametrize(
    ("minutes", "fields"), [(1, "* * * * *"), (5, "*/5 * * * *"), (15, "*/15 * * * *")]
)
def test_a_frequent_schedule_divides_the_hour(minutes: int, fields: str) -> None:
    assert str(Every(minutes).cron) == fields


@pytest.mark.parametrize("minutes", [0, 7, 90])
def test_a_frequent_schedule_that_does_not_divide_the_hour_is_refused(minutes: int) -> None:
    with pytest.raises(ValueError, match="does not divide the hour"):
        Every(minutes)


def test_the_latest_date_due_turns_at_the_run_time_in_shanghai_not_at_utc_midnight() -> None:
    before = shanghai("2026-12-01T00:04:59")  # 16:04 UTC on 30 November
    at = shanghai("2026-12-01T00:05:00")

    assert CREDIT_DAILY.latest_due(before) == date(2026, 11, 30)
    assert CREDIT_DAILY.latest_due(at) == date(2026, 12, 1)


def test_settlement_is_due_for_the_day_before_the_one_it_runs_on() -> None:
    assert SETTLEMENT.latest_due(shanghai("2026-12-01T00:09:00")) == date(2026, 11, 29)
    assert SETTLEMENT.latest_due(shanghai("2026-12-01T00:10:00")) == date(2026, 11, 30)
    assert SETTLEMENT.date_of_run(shanghai("2026-12-01T00:10:00")) == date(2026, 11, 30)
    assert SETTLEMENT.latest_allowed(date(2026, 12, 1)) == date(2026, 11, 30)


def test_a_frequent_run_is_for_the_business_date_of_its_moment() -> None:
    assert Every(1).date_of_run(shanghai("2026-12-01T00:00:30")) == date(2026, 12, 1)
    assert Every(1).latest_allowed(date(2026, 12, 1)) == date(2026, 12, 1)

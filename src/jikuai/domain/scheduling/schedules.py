"""When a job runs, in Asia/Shanghai, and which business date a run is for.

A schedule is written as cron fields (minute, hour, day of month, month, day of week), so the
worker hands it to its scheduler as it is and an operator reads it in the familiar form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from jikuai.domain.shared.calendar import BUSINESS_TIMEZONE, business_date


@dataclass(frozen=True, slots=True)
class CronFields:
    minute: str
    hour: str = "*"
    day: str = "*"
    month: str = "*"
    day_of_week: str = "*"

    def __str__(self) -> str:
        return f"{self.minute} {self.hour} {self.day} {self.month} {self.day_of_week}"


class CatchUp(StrEnum):
    """Which missed business dates a daily job runs for when the worker comes back."""

    EVERY_DAY = "EVERY_DAY"  # each one, in order: a date's work is that date's alone
    LATEST_DAY = (
        "LATEST_DAY"  # the latest only: a run covers the days before it, or reads the present
    )


@dataclass(frozen=True, slots=True)
class Daily:
    """Once a day at `at`, for the business date `lag_days` before the day it runs."""

    at: time
    catch_up: CatchUp
    lag_days: int = 0

    @property
    def cron(self) -> CronFields:
        return CronFields(minute=str(self.at.minute), hour=str(self.at.hour))

    def date_of_run(self, at: datetime) -> date:
        """The business date a run started at `at` is for."""
        return business_date(at) - timedelta(days=self.lag_days)

    def latest_due(self, now: datetime) -> date:
        """The latest business date whose run time has come by `now`."""
        local = now.astimezone(BUSINESS_TIMEZONE)
        day = local.date() if local.time() >= self.at else local.date() - timedelta(days=1)
        return day - timedelta(days=self.lag_days)

    def latest_allowed(self, today: date) -> date:
        """The latest business date a run may be for on `today`."""
        return today - timedelta(days=self.lag_days)


@dataclass(frozen=True, slots=True)
class Every:
    """Every `minutes` minutes (a divisor of 60), for the business date of the moment it runs."""

    minutes: int

    def __post_init__(self) -> None:
        if self.minutes < 1 or 60 % self.minutes:
            raise ValueError(f"every {self.minutes} minutes does not divide the hour")

    @property
    def cron(self) -> CronFields:
        return CronFields(minute="*" if self.minutes == 1 else f"*/{self.minutes}")

    def date_of_run(self, at: datetime) -> date:
        return business_date(at)

    def latest_allowed(self, today: date) -> date:
        return today


Schedule = Daily | Every

"""Business dates: the bank's day is the day in Asia/Shanghai, whatever the server's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

BUSINESS_TIMEZONE = ZoneInfo("Asia/Shanghai")


def business_date(now: datetime) -> date:
    """The business date at the instant `now` (an aware datetime)."""
    return now.astimezone(BUSINESS_TIMEZONE).date()

"""Assessment periods: a month ("2026-11"), a quarter ("2026-Q4") or a year ("2026")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from jikuai.domain.shared.errors import DomainError, ErrorCode


class PeriodKind(StrEnum):
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


_MONTHS_IN = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}
_FORMS = (
    (re.compile(r"([0-9]{4})-([0-9]{2})"), PeriodKind.MONTH),
    (re.compile(r"([0-9]{4})-Q([1-4])"), PeriodKind.QUARTER),
    (re.compile(r"([0-9]{4})"), PeriodKind.YEAR),
)
EARLIEST_YEAR = 2000
LATEST_YEAR = 2099


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """`number` is the month (1–12), the quarter (1–4) or 1 for a year."""

    year: int
    kind: PeriodKind
    number: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read a period's name; anything else is INVALID_PERIOD."""
        for pattern, kind in _FORMS:
            match = pattern.fullmatch(text.strip())
            if match is None:
                continue
            year = int(match.group(1))
            number = int(match.group(2)) if kind is not PeriodKind.YEAR else 1
            if EARLIEST_YEAR <= year <= LATEST_YEAR and 1 <= number <= 12 // _MONTHS_IN[kind]:
                return cls(year, kind, number)
        raise DomainError(ErrorCode.INVALID_PERIOD, field=("period",))

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls(day.year, PeriodKind.MONTH, day.month)

    @classmethod
    def containing(cls, day: date, kind: PeriodKind) -> Period:
        """The period of `kind` that `day` falls in."""
        return cls(day.year, kind, (day.month - 1) // _MONTHS_IN[kind] + 1)

    @property
    def name(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def start(self) -> date:
        return date(self.year, (self.number - 1) * _MONTHS_IN[self.kind] + 1, 1)

    @property
    def end(self) -> date:
        """The period's last day."""
        return self.next().start - timedelta(days=1)

    def next(self) -> Period:
        if self.number * _MONTHS_IN[self.kind] >= 12:
            return Period(self.year + 1, self.kind, 1)
        return Period(self.year, self.kind, self.number + 1)

    def previous(self) -> Period:
        if self.number == 1:
            return Period(self.year - 1, self.kind, 12 // _MONTHS_IN[self.kind])
        return Period(self.year, self.kind, self.number - 1)

    def months(self) -> list[Period]:
        """The months the period spans, in order."""
        first = Period.month_of(self.start)
        return [first] + [first := first.next() for _ in range(_MONTHS_IN[self.kind] - 1)]

    def as_of(self, today: date) -> date:
        """The last day the period's figures cover: its end, or today while it runs."""
        return min(self.end, today)

    def __str__(self) -> str:
        return self.name

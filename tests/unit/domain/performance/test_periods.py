"""Assessment periods: how their names are read, the days they span, and the ones around them."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jikuai.domain.performance.periods import Period, PeriodKind
from jikuai.domain.shared.errors import DomainError, ErrorCode

MONTH, QUARTER, YEAR = PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR


# Names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2026-11", Period(2026, MONTH, 11)),
        ("2026-01", Period(2026, MONTH, 1)),
        ("2026-Q4", Period(2026, QUARTER, 4)),
        ("2026-Q1", Period(2026, QUARTER, 1)),
        ("2026", Period(2026, YEAR, 1)),
        (" 2026-03 ", Period(2026, MONTH, 3)),
        ("2000-01", Period(2000, MONTH, 1)),
        ("2099-12", Period(2099, MONTH, 12)),
    ],
)
def test_a_month_a_quarter_and_a_year_are_read_from_their_names(text: str, period: Period) -> None:
    assert Period.parse(text) == period


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-13",
        "2026-00",
        "2026-1",
        "2026-011",
        "2026-Q0",
        "2026-Q5",
        "2026-q4",
        "2026Q4",
        "2026/11",
        "2026-11-01",
        "26-11",
        "1999",
        "1999-12",
        "2100",
        "2100-01",
        "this month",
    ],
)
def test_anything_else_is_an_invalid_period_of_the_period_field(text: str) -> None:
    with pytest.raises(DomainError) as raised:
        Period.parse(text)

    assert raised.value.code is ErrorCode.INVALID_PERIOD
    assert raised.value.field == ("period",)


@pytest.mark.parametrize("text", ["２０２６-１１", "٢٠٢٦", "２０２６-Q４"])
def test_digits_other_than_ascii_are_not_a_period(text: str) -> None:
    with pytest.raises(DomainError) as raised:
        Period.parse(text)

    assert raised.value.code is ErrorCode.INVALID_PERIOD


def test_a_period_is_named_as_it_is_written() -> None:
    assert Period(2026, MONTH, 3).name == "2026-03"
    assert Period(2026, QUARTER, 2).name == "2026-Q2"
    assert Period(2026, YEAR, 1).name == "2026"
    assert str(Period(2026, MONTH, 11)) == "2026-11"


@given(
    st.one_of(
        st.builds(Period, st.integers(2000, 2099), st.just(MONTH), st.integers(1, 12)),
        st.builds(Period, st.integers(2000, 2099), st.just(QUARTER), st.integers(1, 4)),
        st.builds(Period, st.integers(2000, 2099), st.just(YEAR), st.just(1)),
    )
)
def test_every_period_reads_back_from_its_name(period: Period) -> None:
    assert Period.parse(period.name) == period


def test_the_month_of_a_day() -> None:
    assert Period.month_of(date(2026, 2, 28)) == Period(2026, MONTH, 2)


# Days -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_a_period_runs_from_its_first_day_to_its_last(name: str, start: date, end: date) -> None:
    period = Period.parse(name)

    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    ("name", "following"),
    [
        ("2026-11", "2026-12"),
        ("2026-12", "2027-01"),
        ("2026-Q3", "2026-Q4"),
        ("2026-Q4", "2027-Q1"),
        ("2026", "2027"),
    ],
)
def test_the_next_period_follows_across_the_year_end_and_previous_goes_back(
    name: str, following: str
) -> None:
    period, after = Period.parse(name), Period.parse(following)

    assert period.next() == after
    assert after.previous() == period
    assert after.start == date.fromordinal(period.end.toordinal() + 1)


@given(st.builds(Period, st.integers(2001, 2098), st.just(MONTH), st.integers(1, 12)))
def test_consecutive_months_leave_no_gap_and_no_overlap(period: Period) -> None:
    assert period.next().start.toordinal() == period.end.toordinal() + 1
    assert period.previous().end.toordinal() == period.start.toordinal() - 1
    assert period.next().previous() == period


def test_a_period_spans_its_months_in_order() -> None:
    assert Period.parse("2026-11").months() == [Period(2026, MONTH, 11)]
    assert [month.name for month in Period.parse("2026-Q4").months()] == [
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert [month.name for month in Period.parse("2026").months()] == [
        f"2026-{number:02d}" for number in range(1, 13)
    ]


def test_figures_of_a_running_period_cover_up_to_today_and_of_a_past_one_up_to_its_end() -> None:
    november = Period.parse("2026-11")

    assert november.as_of(date(2026, 11, 17)) == date(2026, 11, 17)
    assert november.as_of(date(2026, 11, 30)) == date(2026, 11, 30)
    assert november.as_of(date(2027, 1, 5)) == date(2026, 11, 30)
    assert Period.parse("2026-Q4").as_of(date(2026, 11, 17)) == date(2026, 11, 17)
    assert Period.parse("2025").as_of(date(2026, 11, 17)) == date(2025, 12, 31)

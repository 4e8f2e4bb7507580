"""The institution dashboard is cached like a scoreboard and computed afresh when facts arrive."""

from __future__ import annotations

from typing import Any

from jikuai.domain.performance.indicators import Measure
from tests.support.performance import Bank, new_bank, save_facts
from tests.support.points import business_today
from tests.support.stack import Stack

DASHBOARD = """
{ institutionDashboard {
    period
    headlines { indicator { code } value series { month value } }
} }
"""


async def _deposit_growth(stack: Stack, bank: Bank) -> dict[str, Any]:
    body = await stack.gql(DASHBOARD, token=await stack.token(bank.username("admin")))
    assert "errors" not in body, body
    headlines = body["data"]["institutionDashboard"]["headlines"]
    growth: dict[str, Any] = next(
        each for each in headlines if each["indicator"]["code"] == "DEPOSIT_GROWTH"
    )
    return growth


async def test_the_dashboard_shows_new_facts_at_once(stack: Stack) -> None:
    bank = await new_bank(stack)
    today = business_today()
    await save_facts(stack, bank, (today, Measure.DEPOSIT_BALANCE, "o1", "300000.00"))
    first = await _deposit_growth(stack, bank)
    cached = await _deposit_growth(stack, bank)

    await save_facts(stack, bank, (today, Measure.DEPOSIT_BALANCE, "o2", "200000.00"))
    after = await _deposit_growth(stack, bank)

    assert first == cached
    assert first["value"] == "300000.00"
    assert after["value"] == "500000.00"
    assert after["series"][-1] == {"month": today.strftime("%Y-%m"), "value": "500000.00"}
    assert len(after["series"]) == 12


async def test_a_dashboard_whose_series_reaches_before_2000_reads_back_from_the_cache(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    query = '{ institutionDashboard(period: "2000-03") { headlines { series { month } } } }'
    token = await stack.token(bank.username("admin"))

    first = await stack.gql(query, token=token)
    cached = await stack.gql(query, token=token)

    assert "errors" not in first, first
    assert cached == first
    series = first["data"]["institutionDashboard"]["headlines"][0]["series"]
    assert [point["month"] for point in series][:2] == ["1999-04", "1999-05"]

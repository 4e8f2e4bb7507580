"""End-of-day positions (日终): the `performance-positions` job records each manager's balances,
limits and households as the day's facts, and the position indicators and their ratios are read
from them; the institution's figures count everything, managed or not; the province's league."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from jikuai.domain.performance.periods import Period
from jikuai.domain.performance.positions import PositionsRecorded, record_positions
from tests.support.cli import run_cli
from tests.support.credit import (
    AGE_RULE,
    DISBURSE,
    NOT_BLACKLISTED,
    SIGN,
    WHITELISTED,
    add_list_entry,
    create_product,
    customer_token,
    daily_pass,
    fixed,
    lpr,
    mutate,
    publish_lpr,
    submit,
)
from tests.support.performance import (
    Bank,
    create_scheme,
    disbursed_loan,
    entries,
    gid,
    new_bank,
    reassign,
    scoreboard,
)
from tests.support.points import business_today, db_session, sql
from tests.support.stack import Stack

RISK_SCHEME = [
    {"code": "OUTSTANDING_BALANCE", "weight": "40", "target": "40000"},
    {"code": "OVERDUE_RATE", "weight": "30", "target": "0.02"},
    {"code": "NON_PERFORMING_RATIO", "weight": "30", "target": "0.01"},
]
CLASSIFY = """
mutation($id: ID!) {
  classifyLoan(input: {loanId: $id, classification: SUBSTANDARD, reason: "farm flooded"}) {
    loan { classification } userErrors { code }
  }
}
"""
POSITION_PARTS = """
query {
  myPerformance {
    indicators {
      indicator { code } actual
      parts { measure figuresOn value
              contributions { edges { node { date kind referenceId source key value } } } }
    }
  }
}
"""
DASHBOARD = """
query($institutionId: ID, $period: String) {
  institutionDashboard(institutionId: $institutionId, period: $period) {
    period institution { code }
    headlines { indicator { code } value series { month value } }
  }
}
"""
LEAGUE = """
query($orderBy: String!, $period: String) {
  institutionLeague(orderBy: $orderBy, period: $period) {
    rank institution { code } figures { indicator { code } value }
  }
}
"""


async def positions(stack: Stack, on: date | None = None) -> PositionsRecorded:
    """The `performance-positions` job for a day (today by default), against the test stack."""
    async with db_session(stack) as session:
        return await record_positions(
            session.unit_of_work,
            stack.services.cache,
            on or business_today(),
            now=datetime.now(UTC),
        )


def result_of(board: dict[str, Any], suffix: str) -> dict[str, dict[str, Any]]:
    """One staff member's indicators by code, and their total under "total"."""
    entry = next(e for e in entries(board) if e["staff"]["username"].endswith(f"-{suffix}"))
    return {item["indicator"]["code"]: item for item in entry["indicators"]} | {
        "total": {"score": entry["totalScore"]}
    }


def shown(item: dict[str, Any]) -> tuple[str | None, str, str]:
    return item["actual"], item["attainment"], item["score"]


async def own_loan(stack: Stack, bank: Bank, amount: str) -> dict[str, Any]:
    """A loan a customer applied for themself, disbursed by o1: nobody manages the customer."""
    product = await create_product(
        stack,
        username=bank.username("admin"),
        methods=["EQUAL_INSTALLMENT"],
        term_months=[12],
        pricing=fixed("0.0435"),
        auto_approval_max="100000",
    )
    token, customer_id = await customer_token(stack, institution=bank.code)
    applied = await submit(
        stack, token, customer_id=customer_id, product_id=product["id"], amount=amount
    )
    assert applied["application"]["state"] == "APPROVED", applied
    signed = await mutate(stack, SIGN, "signLoanContract", token, id=applied["application"]["id"])
    assert signed["userErrors"] == [], signed
    disbursed = await mutate(
        stack,
        DISBURSE,
        "disburseLoan",
        await stack.token(bank.username("o1")),
        id=applied["application"]["id"],
    )
    assert disbursed["userErrors"] == [], disbursed
    loan: dict[str, Any] = disbursed["loan"]
    return loan


async def credit_line(stack: Stack, bank: Bank, limit: str) -> str:
    """A whitelisted farmer of the bank whose revolving line of `limit` is open; their ID."""
    await publish_lpr(stack, "ONE_YEAR", rate="0.0345")
    product = await create_product(
        stack,
        username=bank.username("admin"),
        methods=["REVOLVING"],
        term_months=[],
        pricing=lpr(50),
        auto_approval_max="100000",
        rules=[AGE_RULE, NOT_BLACKLISTED, WHITELISTED],
    )
    id_number = stack.new_id_number()
    token, customer_id = await customer_token(stack, institution=bank.code, id_number=id_number)
    await add_list_entry(stack, id_number, limit=limit, username=bank.username("risk"))
    applied = await submit(
        stack,
        token,
        customer_id=customer_id,
        product_id=product["id"],
        amount=limit,
        method="REVOLVING",
        term_months=None,
    )
    assert applied["application"]["state"] == "APPROVED", applied
    return customer_id


# A manager's positions --------------------------------------------------------------------------


async def test_balances_are_read_from_the_positions_the_job_recorded(stack: Stack) -> None:
    bank = await new_bank(stack)
    await create_scheme(stack, bank, RISK_SCHEME)
    await disbursed_loan(stack, bank, "o1", "20000")
    before = await scoreboard(stack, bank.username("admin"))

    recorded = await positions(stack)
    after = await scoreboard(stack, bank.username("admin"))

    # No position recorded yet: nothing outstanding, so no basis for the ratios.
    assert shown(result_of(before, "o1")["OUTSTANDING_BALANCE"]) == ("0.00", "0.0000", "0.00")
    assert shown(result_of(before, "o1")["OVERDUE_RATE"]) == (None, "0.0000", "0.00")
    assert recorded.institutions >= 1
    assert recorded.facts >= 1
    o1, o2 = result_of(after, "o1"), result_of(after, "o2")
    assert shown(o1["OUTSTANDING_BALANCE"]) == ("20000.00", "0.5000", "20.00")
    # Nothing overdue or non-performing: lower is better, so a zero attains the ceiling.
    assert shown(o1["OVERDUE_RATE"]) == ("0.0000", "1.2000", "36.00")
    assert shown(o1["NON_PERFORMING_RATIO"]) == ("0.0000", "1.2000", "36.00")
    assert o1["total"]["score"] == "92.00"
    # o2 has nothing outstanding: their ratios have no basis and attain nothing.
    assert shown(o2["OUTSTANDING_BALANCE"]) == ("0.00", "0.0000", "0.00")
    assert shown(o2["OVERDUE_RATE"]) == (None, "0.0000", "0.00")
    assert shown(o2["NON_PERFORMING_RATIO"]) == (None, "0.0000", "0.00")


async def test_a_position_is_explained_by_the_fact_the_job_recorded(stack: Stack) -> None:
    bank = await new_bank(stack)
    today = business_today()
    await create_scheme(stack, bank, RISK_SCHEME)
    await disbursed_loan(stack, bank, "o1", "20000")
    await positions(stack)

    body = await stack.gql(POSITION_PARTS, token=await stack.token(bank.username("o1")))

    assert "errors" not in body, body
    outstanding = next(
        item
        for item in body["data"]["myPerformance"]["indicators"]
        if item["indicator"]["code"] == "OUTSTANDING_BALANCE"
    )
    (part,) = outstanding["parts"]
    assert (part["measure"], part["figuresOn"], part["value"]) == (
        "OUTSTANDING_BALANCE",
        today.isoformat(),
        "20000.00",
    )
    assert [edge["node"] for edge in part["contributions"]["edges"]] == [
        {
            "date": today.isoformat(),
            "kind": "FACT",
            "referenceId": None,
            "source": "PLATFORM",
            "key": f"OUTSTANDING_BALANCE:{bank.staff_id('o1').hex}",
            "value": "20000.00",
        }
    ]


async def platform_facts(stack: Stack, bank: Bank, on: date) -> list[tuple[str, str, Any]]:
    rows = await sql(
        stack,
        "SELECT metric, key, value FROM performance_facts WHERE institution_id = :institution"
        " AND fact_date = :on AND source = 'PLATFORM'",
        institution=bank.institution.id,
        on=on,
    )
    return sorted((row[0], row[1], Decimal(row[2])) for row in rows)


@pytest.mark.usefixtures("stack_environment", "restore_logging")
async def test_the_job_run_again_for_a_day_replaces_its_positions(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = await new_bank(stack)
    today = business_today()
    await create_scheme(stack, bank, RISK_SCHEME)
    await disbursed_loan(stack, bank, "o1", "20000")
    await own_loan(stack, bank, "30000")

    await positions(stack)
    first = await platform_facts(stack, bank, today)
    exit_code = await run_cli("jobs", "run", "performance-positions", "--date", today.isoformat())
    output = capsys.readouterr().out
    second = await platform_facts(stack, bank, today)
    board = await scoreboard(stack, bank.username("admin"))

    assert exit_code == 0
    assert re.search(
        rf"performance-positions {today}: \d+ positions of \d+ institutions recorded", output
    )
    assert second == first
    o1, unmanaged = bank.staff_id("o1").hex, "-"
    assert [(metric, key) for metric, key, _value in first if metric == "OUTSTANDING_BALANCE"] == [
        ("OUTSTANDING_BALANCE", f"OUTSTANDING_BALANCE:{unmanaged}"),
        ("OUTSTANDING_BALANCE", f"OUTSTANDING_BALANCE:{o1}"),
    ]
    assert result_of(board, "o1")["OUTSTANDING_BALANCE"]["actual"] == "20000.00"


@pytest.mark.usefixtures("stack_environment", "restore_logging")
async def test_the_job_does_not_run_for_a_day_that_has_not_come(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tomorrow = business_today() + timedelta(days=1)

    exit_code = await run_cli(
        "jobs", "run", "performance-positions", "--date", tomorrow.isoformat()
    )

    assert exit_code == 2
    assert "has not come yet" in capsys.readouterr().err


async def test_overdue_and_non_performing_loans_raise_their_ratios(stack: Stack) -> None:
    bank = await new_bank(stack)
    await create_scheme(stack, bank, RISK_SCHEME)
    overdue = await disbursed_loan(stack, bank, "o1", "30000")
    bad = await disbursed_loan(stack, bank, "o1", "10000")
    classified = await stack.gql(
        CLASSIFY, {"id": bad["id"]}, token=await stack.token(bank.username("risk"))
    )
    assert classified["data"]["classifyLoan"]["userErrors"] == [], classified
    # The credit pass five days after the first instalment fell due: both loans are overdue.
    await daily_pass(
        stack, date.fromisoformat(overdue["installments"][0]["dueDate"]) + timedelta(days=5)
    )

    await positions(stack)
    o1 = result_of(await scoreboard(stack, bank.username("admin")), "o1")

    assert shown(o1["OUTSTANDING_BALANCE"]) == ("40000.00", "1.0000", "40.00")
    # 40,000 overdue of 40,000: 0.02 / 1 attained.
    assert shown(o1["OVERDUE_RATE"]) == ("1.0000", "0.0200", "0.60")
    # 10,000 classified substandard of 40,000: 0.01 / 0.25.
    assert shown(o1["NON_PERFORMING_RATIO"]) == ("0.2500", "0.0400", "1.20")


async def test_utilization_is_the_outstanding_balance_over_the_limits_in_force(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    await create_scheme(
        stack,
        bank,
        [
            {"code": "CREDIT_UTILIZATION", "weight": "50", "target": "0.8"},
            {"code": "NEW_CREDIT_LINES", "weight": "25", "target": "1"},
            {"code": "HOUSEHOLDS_SERVED", "weight": "25", "target": "4"},
        ],
    )
    borrower = await credit_line(stack, bank, "50000")
    handed = await reassign(stack, bank, [borrower], "o1")
    assert handed["userErrors"] == [], handed
    await disbursed_loan(stack, bank, "o1", "20000")

    await positions(stack)
    board = await scoreboard(stack, bank.username("admin"))

    o1, o2 = result_of(board, "o1"), result_of(board, "o2")
    assert shown(o1["CREDIT_UTILIZATION"]) == ("0.4000", "0.5000", "25.00")
    assert shown(o1["NEW_CREDIT_LINES"]) == ("1", "1.0000", "25.00")
    assert shown(o1["HOUSEHOLDS_SERVED"]) == ("2", "0.5000", "12.50")
    assert shown(o2["CREDIT_UTILIZATION"]) == (None, "0.0000", "0.00")


# The institution's figures ----------------------------------------------------------------------


def headlines(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["indicator"]["code"]: item for item in dashboard["headlines"]}


async def test_the_dashboard_counts_what_nobody_manages_too(stack: Stack) -> None:
    bank = await new_bank(stack)
    month = Period.month_of(business_today())
    await create_scheme(stack, bank, RISK_SCHEME)
    await disbursed_loan(stack, bank, "o1", "20000")
    await own_loan(stack, bank, "30000")
    await positions(stack)

    body = await stack.gql(DASHBOARD, token=await stack.token(bank.username("admin")))
    board = await scoreboard(stack, bank.username("admin"))

    assert "errors" not in body, body
    dashboard = body["data"]["institutionDashboard"]
    assert (dashboard["period"], dashboard["institution"]) == (month.name, {"code": bank.code})
    figures = headlines(dashboard)
    assert list(figures) == [
        "DEPOSIT_GROWTH",
        "LOW_COST_DEPOSIT_SHARE",
        "SOCIAL_SECURITY_ACTIVATION_RATE",
        "MERCHANTS_MAINTAINED",
        "CUMULATIVE_LOANS_DISBURSED",
        "OUTSTANDING_BALANCE",
        "HOUSEHOLDS_SERVED",
    ]
    assert {code: item["value"] for code, item in figures.items()} == {
        "DEPOSIT_GROWTH": "0.00",
        "LOW_COST_DEPOSIT_SHARE": None,
        "SOCIAL_SECURITY_ACTIVATION_RATE": None,
        "MERCHANTS_MAINTAINED": "0",
        "CUMULATIVE_LOANS_DISBURSED": "50000.00",
        "OUTSTANDING_BALANCE": "50000.00",
        "HOUSEHOLDS_SERVED": "2",
    }
    # o1 manages only the first borrower.
    assert result_of(board, "o1")["OUTSTANDING_BALANCE"]["actual"] == "20000.00"
    months = [month]
    while len(months) < 12:
        months.insert(0, months[0].previous())
    outstanding = figures["OUTSTANDING_BALANCE"]["series"]
    assert outstanding == [{"month": each.name, "value": "0.00"} for each in months[:-1]] + [
        {"month": month.name, "value": "50000.00"}
    ]
    assert figures["CUMULATIVE_LOANS_DISBURSED"]["series"][-1] == {
        "month": month.name,
        "value": "50000.00",
    }
    assert figures["LOW_COST_DEPOSIT_SHARE"]["series"][0] == {
        "month": months[0].name,
        "value": None,
    }


async def test_the_dashboard_of_a_past_period_ends_with_that_period(stack: Stack) -> None:
    bank = await new_bank(stack)
    last_month = Period.month_of(business_today()).previous()
    await disbursed_loan(stack, bank, "o1", "20000")

    body = await stack.gql(
        DASHBOARD, {"period": last_month.name}, token=await stack.token(bank.username("admin"))
    )

    assert "errors" not in body, body
    cumulative = headlines(body["data"]["institutionDashboard"])["CUMULATIVE_LOANS_DISBURSED"]
    assert cumulative["value"] == "0.00"
    assert cumulative["series"][-1] == {"month": last_month.name, "value": "0.00"}
    assert len(cumulative["series"]) == 12


async def test_the_dashboard_is_for_the_banks_admins_and_the_province(stack: Stack) -> None:
    bank = await new_bank(stack)
    await own_loan(stack, bank, "30000")
    await positions(stack)
    ours = {"institutionId": gid("Institution", bank.institution.id)}

    by_province = await stack.gql(DASHBOARD, ours, token=await stack.token("prov-admin"))
    by_officer = await stack.gql(DASHBOARD, token=await stack.token(bank.username("o1")))
    by_manager = await stack.gql(DASHBOARD, token=await stack.token(bank.username("m1")))
    by_stranger = await stack.gql(DASHBOARD, ours, token=await stack.token("alpha-admin"))

    assert "errors" not in by_province, by_province
    province_view = by_province["data"]["institutionDashboard"]
    assert province_view["institution"] == {"code": bank.code}
    assert headlines(province_view)["OUTSTANDING_BALANCE"]["value"] == "30000.00"
    assert by_officer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert by_manager["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert by_stranger["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def league_value(entry: dict[str, Any], code: str) -> str | None:
    value: str | None = next(f["value"] for f in entry["figures"] if f["indicator"]["code"] == code)
    return value


async def test_the_league_ranks_every_member_institution_by_the_chosen_indicator(
    stack: Stack,
) -> None:
    larger, smaller = await new_bank(stack), await new_bank(stack)
    await own_loan(stack, larger, "30000")
    await own_loan(stack, smaller, "20000")
    await positions(stack)

    body = await stack.gql(
        LEAGUE, {"orderBy": "OUTSTANDING_BALANCE"}, token=await stack.token("prov-admin")
    )

    assert "errors" not in body, body
    league = body["data"]["institutionLeague"]
    assert [entry["rank"] for entry in league] == list(range(1, len(league) + 1))
    codes = [entry["institution"]["code"] for entry in league]
    assert {"alpha", "beta", larger.code, smaller.code} <= set(codes)
    assert "prov" not in codes
    values = [league_value(entry, "OUTSTANDING_BALANCE") for entry in league]
    assert all(value is not None for value in values)
    numbers = [Decimal(value) for value in values if value is not None]
    assert numbers == sorted(numbers, reverse=True)
    assert codes.index(larger.code) < codes.index(smaller.code)
    by_code = {entry["institution"]["code"]: entry for entry in league}
    assert [f["indicator"]["code"] for f in by_code[larger.code]["figures"]] == [
        "DEPOSIT_GROWTH",
        "LOW_COST_DEPOSIT_SHARE",
        "SOCIAL_SECURITY_ACTIVATION_RATE",
        "MERCHANTS_MAINTAINED",
        "CUMULATIVE_LOANS_DISBURSED",
        "OUTSTANDING_BALANCE",
        "HOUSEHOLDS_SERVED",
    ]
    assert league_value(by_code[larger.code], "OUTSTANDING_BALANCE") == "30000.00"
    assert league_value(by_code[smaller.code], "CUMULATIVE_LOANS_DISBURSED") == "20000.00"


async def test_a_lower_is_better_league_puts_the_lowest_first_and_those_without_a_basis_last(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    await own_loan(stack, bank, "30000")
    await positions(stack)

    body = await stack.gql(
        LEAGUE, {"orderBy": "OVERDUE_RATE"}, token=await stack.token("prov-admin")
    )

    assert "errors" not in body, body
    league = body["data"]["institutionLeague"]
    rates = [league_value(entry, "OVERDUE_RATE") for entry in league]
    known = [Decimal(rate) for rate in rates if rate is not None]
    assert rates == [
        *(rate for rate in rates if rate is not None),
        *([None] * (len(rates) - len(known))),
    ]
    assert known == sorted(known)
    ours = next(entry for entry in league if entry["institution"]["code"] == bank.code)
    assert league_value(ours, "OVERDUE_RATE") == "0.0000"


async def test_the_league_is_for_the_province_and_ranks_by_a_known_indicator(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)

    by_admin = await stack.gql(
        LEAGUE, {"orderBy": "OUTSTANDING_BALANCE"}, token=await stack.token(bank.username("admin"))
    )
    unknown = await stack.gql(LEAGUE, {"orderBy": "PROFIT"}, token=await stack.token("prov-admin"))
    unknown_by_admin = await stack.gql(
        LEAGUE, {"orderBy": "PROFIT"}, token=await stack.token(bank.username("admin"))
    )

    assert by_admin["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert unknown_by_admin["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert unknown["errors"][0]["extensions"] == {"code": "INVALID_INDICATOR", "field": ["orderBy"]}

"""A person's result explained (我的绩效): every indicator down to the readings it is made of and
the rows behind each reading; who may look at whose; their place on the board."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from jikuai.domain.performance.indicators import Measure
from jikuai.domain.performance.periods import Period
from jikuai.schema.relay import to_cursor
from tests.support.performance import (
    Bank,
    create_scheme,
    disbursed_loan,
    gid,
    new_bank,
    register_for,
    save_facts,
)
from tests.support.points import business_today
from tests.support.stack import Stack

MY_PERFORMANCE = """
query($period: String, $staffId: ID, $first: Int, $after: String) {
  myPerformance(period: $period, staffId: $staffId) {
    period asOf closed scored rank rankChange ranked totalScore bonusShare
    staff { username } scheme { name version }
    indicators {
      indicator { code } weight actual target attainment score
      parts {
        measure kind start end figuresOn value
        contributions(first: $first, after: $after) {
          edges { cursor node { date kind referenceId source key value } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
  }
}
"""
NODE = """
query($id: ID!) {
  node(id: $id) { id ... on Loan { principal } ... on Customer { nameMasked } }
}
"""
# Every indicator shape: a sum over the period, a growth of a position, a ratio of positions.
SCHEME = [
    {"code": "NEW_CUSTOMERS", "weight": "25", "target": "3"},
    {"code": "LOANS_DISBURSED_AMOUNT", "weight": "25", "target": "20000"},
    {"code": "DEPOSIT_GROWTH", "weight": "25", "target": "100000"},
    {"code": "LOW_COST_DEPOSIT_SHARE", "weight": "25", "target": "0.5"},
]


async def my_performance(stack: Stack, bank: Bank, viewer: str, **variables: Any) -> dict[str, Any]:
    body = await stack.gql(
        MY_PERFORMANCE, variables, token=await stack.token(bank.username(viewer))
    )
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["myPerformance"]
    return found


def indicator(result: dict[str, Any], code: str) -> dict[str, Any]:
    return next(item for item in result["indicators"] if item["indicator"]["code"] == code)


def rows(part: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in part["contributions"]["edges"]]


async def officer_with_a_month_of_work(stack: Stack) -> tuple[Bank, dict[str, Any], list[str]]:
    """o1 registered two customers and lent 20,000 to a third this month; their deposits grew
    from 800,000 at the end of last month to 1,000,000, a quarter of it low-cost. Last month o2
    led the board on deposits."""
    bank = await new_bank(stack)
    today = business_today()
    last_month_end = Period.month_of(today).start - timedelta(days=1)
    await create_scheme(stack, bank, SCHEME, bonusPool="1000.00")
    registered = [await register_for(stack, bank, "o1") for _ in range(2)]
    loan = await disbursed_loan(stack, bank, "o1", "20000")
    await save_facts(
        stack,
        bank,
        (last_month_end, Measure.DEPOSIT_BALANCE, "o1", "800000.00"),
        (last_month_end, Measure.DEPOSIT_BALANCE, "o2", "2000000.00"),
        (last_month_end, Measure.LOW_COST_DEPOSIT_BALANCE, "o2", "1500000.00"),
        (today, Measure.DEPOSIT_BALANCE, "o1", "1000000.00"),
        (today, Measure.LOW_COST_DEPOSIT_BALANCE, "o1", "250000.00"),
        (today, Measure.DEPOSIT_BALANCE, "o2", "2000000.00"),
    )
    return bank, loan, [*registered, loan["customerId"]]


async def test_an_officers_result_explains_every_indicator_by_its_readings(stack: Stack) -> None:
    bank, _loan, _customers = await officer_with_a_month_of_work(stack)
    today = business_today()
    month = Period.month_of(today)
    last_month_end = month.start - timedelta(days=1)

    mine = await my_performance(stack, bank, "o1")

    assert mine["period"] == month.name
    assert (mine["asOf"], mine["closed"], mine["scored"]) == (today.isoformat(), False, True)
    assert mine["staff"] == {"username": bank.username("o1")}
    assert mine["scheme"] == {"name": "客户经理月度考核", "version": 1}
    assert [item["indicator"]["code"] for item in mine["indicators"]] == [
        item["code"] for item in SCHEME
    ]
    customers = indicator(mine, "NEW_CUSTOMERS")
    assert {key: customers[key] for key in ("actual", "target", "attainment", "score")} == {
        "actual": "3",
        "target": "3",
        "attainment": "1.0000",
        "score": "25.00",
    }
    assert [
        {key: part[key] for key in ("measure", "kind", "start", "end", "figuresOn", "value")}
        for part in customers["parts"]
    ] == [
        {
            "measure": "NEW_CUSTOMERS",
            "kind": "WINDOW",
            "start": month.start.isoformat(),
            "end": today.isoformat(),
            "figuresOn": None,
            "value": "3.00",
        }
    ]
    loans = indicator(mine, "LOANS_DISBURSED_AMOUNT")
    assert (loans["actual"], loans["score"]) == ("20000.00", "25.00")
    assert loans["parts"][0]["value"] == "20000.00"
    # A growth: the position at the end of the period so far, less the one before it began.
    growth = indicator(mine, "DEPOSIT_GROWTH")
    assert (growth["actual"], growth["attainment"], growth["score"]) == (
        "200000.00",
        "1.2000",
        "30.00",
    )
    assert [
        (
            part["measure"],
            part["kind"],
            part["start"],
            part["end"],
            part["figuresOn"],
            part["value"],
        )
        for part in growth["parts"]
    ] == [
        ("DEPOSIT_BALANCE", "POSITION", None, today.isoformat(), today.isoformat(), "1000000.00"),
        (
            "DEPOSIT_BALANCE",
            "POSITION",
            None,
            last_month_end.isoformat(),
            last_month_end.isoformat(),
            "800000.00",
        ),
    ]
    # A ratio: its numerator, then its denominator.
    share = indicator(mine, "LOW_COST_DEPOSIT_SHARE")
    assert (share["actual"], share["target"], share["attainment"], share["score"]) == (
        "0.2500",
        "0.5",
        "0.5000",
        "12.50",
    )
    assert [(part["measure"], part["figuresOn"], part["value"]) for part in share["parts"]] == [
        ("LOW_COST_DEPOSIT_BALANCE", today.isoformat(), "250000.00"),
        ("DEPOSIT_BALANCE", today.isoformat(), "1000000.00"),
    ]
    assert mine["totalScore"] == "92.50"
    # o1 is the only one of the three who scored this month: the whole pool is theirs.
    assert mine["bonusShare"] == "1000.00"


async def test_the_rows_behind_a_figure_are_listed_and_lead_to_what_they_are(
    stack: Stack,
) -> None:
    bank, loan, customers = await officer_with_a_month_of_work(stack)
    today = business_today()
    last_month_end = Period.month_of(today).start - timedelta(days=1)

    mine = await my_performance(stack, bank, "o1", first=100)

    registered = rows(indicator(mine, "NEW_CUSTOMERS")["parts"][0])
    assert sorted(row["referenceId"] for row in registered) == sorted(customers)
    assert {
        (row["date"], row["kind"], row["source"], row["key"], row["value"]) for row in registered
    } == {(today.isoformat(), "CUSTOMER", None, None, "1.00")}
    lent = rows(indicator(mine, "LOANS_DISBURSED_AMOUNT")["parts"][0])
    assert lent == [
        {
            "date": today.isoformat(),
            "kind": "LOAN",
            "referenceId": loan["id"],
            "source": None,
            "key": None,
            "value": "20000.00",
        }
    ]
    end, start = indicator(mine, "DEPOSIT_GROWTH")["parts"]
    assert rows(end) == [
        {
            "date": today.isoformat(),
            "kind": "FACT",
            "referenceId": None,
            "source": "CORE",
            "key": f"DEPOSIT_BALANCE:o1:{today}",
            "value": "1000000.00",
        }
    ]
    assert [(row["date"], row["key"], row["value"]) for row in rows(start)] == [
        (last_month_end.isoformat(), f"DEPOSIT_BALANCE:o1:{last_month_end}", "800000.00")
    ]
    admin = await stack.token(bank.username("admin"))
    found_loan = await stack.gql(NODE, {"id": loan["id"]}, token=admin)
    assert found_loan["data"]["node"] == {"id": loan["id"], "principal": "20000.00"}
    found_customer = await stack.gql(NODE, {"id": registered[0]["referenceId"]}, token=admin)
    assert found_customer["data"]["node"]["id"] == registered[0]["referenceId"]


async def test_the_rows_behind_a_figure_come_in_pages(stack: Stack) -> None:
    bank, _loan, customers = await officer_with_a_month_of_work(stack)

    first = indicator(await my_performance(stack, bank, "o1", first=2), "NEW_CUSTOMERS")
    page = first["parts"][0]["contributions"]
    rest = indicator(
        await my_performance(stack, bank, "o1", first=2, after=page["pageInfo"]["endCursor"]),
        "NEW_CUSTOMERS",
    )["parts"][0]["contributions"]

    assert (len(page["edges"]), page["pageInfo"]["hasNextPage"]) == (2, True)
    assert (len(rest["edges"]), rest["pageInfo"]["hasNextPage"]) == (1, False)
    seen = [edge["node"]["referenceId"] for edge in page["edges"] + rest["edges"]]
    assert sorted(seen) == sorted(customers)


async def test_an_officer_sees_their_place_and_the_places_gained_since_last_month(
    stack: Stack,
) -> None:
    bank, _loan, _customers = await officer_with_a_month_of_work(stack)
    last_month = Period.month_of(business_today()).previous().name

    mine = await my_performance(stack, bank, "o1")
    theirs = await my_performance(stack, bank, "o2")
    before = await my_performance(stack, bank, "o1", period=last_month)

    # Last month: o2 60 (deposit growth and low-cost share), o1 30, o3 nothing.
    assert (before["totalScore"], before["rank"], before["ranked"]) == ("30.00", 2, 3)
    # This month: o1 92.50 first; o2 and o3 level on nothing, second.
    assert (mine["rank"], mine["rankChange"], mine["ranked"]) == (1, 1, 3)
    assert (theirs["totalScore"], theirs["rank"], theirs["rankChange"]) == ("0.00", 2, -1)


async def test_a_branch_manager_sees_their_officers_result_but_not_another_branchs(
    stack: Stack,
) -> None:
    bank, _loan, _customers = await officer_with_a_month_of_work(stack)

    seen = await my_performance(stack, bank, "m1", staffId=gid("Staff", bank.staff_id("o1")))
    other_branch = await stack.gql(
        MY_PERFORMANCE,
        {"staffId": gid("Staff", bank.staff_id("o3"))},
        token=await stack.token(bank.username("m1")),
    )
    by_colleague = await stack.gql(
        MY_PERFORMANCE,
        {"staffId": gid("Staff", bank.staff_id("o1"))},
        token=await stack.token(bank.username("o2")),
    )

    assert seen["staff"] == {"username": bank.username("o1")}
    assert seen["totalScore"] == "92.50"
    assert other_branch["data"]["myPerformance"] is None
    assert other_branch["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert by_colleague["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_admin_sees_anyone_of_the_bank_and_another_bank_sees_nothing(
    stack: Stack,
) -> None:
    bank, _loan, _customers = await officer_with_a_month_of_work(stack)
    o1 = gid("Staff", bank.staff_id("o1"))

    by_admin = await my_performance(stack, bank, "admin", staffId=o1)
    stranger = await stack.gql(
        MY_PERFORMANCE, {"staffId": o1}, token=await stack.token("alpha-admin")
    )

    assert by_admin["totalScore"] == "92.50"
    assert "errors" not in stranger
    assert stranger["data"]["myPerformance"] is None


async def test_someone_no_scheme_applies_to_is_not_scored(stack: Stack) -> None:
    bank = await new_bank(stack)
    await register_for(stack, bank, "o1")

    mine = await my_performance(stack, bank, "o1")

    assert (mine["scored"], mine["rank"], mine["ranked"]) == (False, None, 0)
    assert (mine["totalScore"], mine["bonusShare"], mine["scheme"]) == (None, None, None)
    assert mine["indicators"] == []


async def test_a_cursor_the_server_did_not_give_is_bad_input(stack: Stack) -> None:
    bank = await new_bank(stack)
    await create_scheme(stack, bank, SCHEME)
    foreign = to_cursor(uuid.uuid4())  # a well-formed cursor, far past any page

    body = await stack.gql(
        MY_PERFORMANCE, {"after": foreign}, token=await stack.token(bank.username("o1"))
    )

    assert body["data"] == {"myPerformance": None}
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_USER_INPUT"}
    assert body["errors"][0]["extensions"]["field"] == ["after"]

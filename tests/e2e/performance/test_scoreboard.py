"""The scoreboard (绩效排行): staff scored under their scheme from the platform's own data and
imported facts, ranked, with bonus shares; who may see it."""

from __future__ import annotations

from decimal import Decimal

from jikuai.domain.performance.indicators import Measure
from jikuai.domain.performance.periods import Period
from tests.support.performance import (
    create_scheme,
    disbursed_loan,
    entries,
    gid,
    new_bank,
    register_for,
    save_facts,
    scoreboard,
)
from tests.support.points import business_today
from tests.support.stack import Stack


def _by_user(board: dict) -> dict[str, dict]:
    return {entry["staff"]["username"].split("-")[1]: entry for entry in entries(board)}


def _indicator(entry: dict, code: str) -> dict:
    return next(item for item in entry["indicators"] if item["indicator"]["code"] == code)


async def test_officers_are_scored_on_customers_loans_and_deposits_and_ranked(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    today = business_today()
    await create_scheme(
        stack,
        bank,
        [
            {"code": "NEW_CUSTOMERS", "weight": "30", "target": "2"},
            {"code": "LOANS_DISBURSED_AMOUNT", "weight": "30", "target": "40000"},
            {"code": "DEPOSIT_BALANCE", "weight": "40", "target": "1000000", "ceiling": "1.5"},
        ],
        bonusPool="10000.00",
    )
    for _ in range(2):
        await register_for(stack, bank, "o1")
    await register_for(stack, bank, "o2")
    await disbursed_loan(stack, bank, "o2", "20000")
    await save_facts(
        stack,
        bank,
        (today, Measure.DEPOSIT_BALANCE, "o1", "500000.00"),
        (today, Measure.DEPOSIT_BALANCE, "o2", "2000000.00"),
    )

    board = await scoreboard(stack, bank.username("admin"))

    assert board["period"] == Period.month_of(today).name
    assert (board["asOf"], board["closed"]) == (today.isoformat(), False)
    staff = _by_user(board)
    assert set(staff) == {"o1", "o2", "o3"}
    o1, o2, o3 = staff["o1"], staff["o2"], staff["o3"]
    # o1: 2 of 2 customers (30), no loans (0), half the deposit target (20)
    assert _indicator(o1, "NEW_CUSTOMERS") == {
        "indicator": {"code": "NEW_CUSTOMERS"},
        "weight": "30",
        "actual": "2",
        "target": "2",
        "attainment": "1.0000",
        "score": "30.00",
    }
    assert _indicator(o1, "DEPOSIT_BALANCE")["attainment"] == "0.5000"
    assert o1["totalScore"] == "50.00"
    # o2: the customer they registered and the borrower handed to them on the day the borrower
    # registered (30), 20000 of 40000 (15), deposits twice the target, capped at 1.5 (60)
    assert _indicator(o2, "NEW_CUSTOMERS")["actual"] == "2"
    assert _indicator(o2, "LOANS_DISBURSED_AMOUNT")["actual"] == "20000.00"
    assert _indicator(o2, "DEPOSIT_BALANCE")["attainment"] == "1.5000"
    assert o2["totalScore"] == "105.00"
    assert o3["totalScore"] == "0.00"
    assert [entry["staff"]["username"] for entry in entries(board)] == [
        bank.username("o2"),
        bank.username("o1"),
        bank.username("o3"),
    ]
    assert [entry["rank"] for entry in entries(board)] == [1, 2, 3]
    # The pool is shared 105 : 50 to the fen; the fen left over goes to the larger remainder.
    assert (o2["bonusShare"], o1["bonusShare"]) == ("6774.19", "3225.81")
    assert o3["bonusShare"] == "0.00"
    assert Decimal(board["totalBonus"]) == Decimal("10000.00")


async def test_a_branch_manager_sees_their_branch_and_an_officer_sees_no_board(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    await create_scheme(stack, bank, [{"code": "NEW_CUSTOMERS", "weight": "100", "target": "1"}])
    await register_for(stack, bank, "o3")

    branch_board = await scoreboard(stack, bank.username("m1"))
    assert {e["staff"]["username"] for e in entries(branch_board)} == {
        bank.username("o1"),
        bank.username("o2"),
    }
    other_branch = await stack.gql(
        "query($b: ID) { performanceScoreboard(branchId: $b) { period } }",
        {"b": gid("Branch", bank.branches[1].id)},
        token=await stack.token(bank.username("m1")),
    )
    assert other_branch["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    officer = await stack.gql(
        "{ performanceScoreboard { period } }", token=await stack.token(bank.username("o1"))
    )
    assert officer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    stranger = await stack.gql(
        "query($i: ID) { performanceScoreboard(institutionId: $i) { period } }",
        {"i": gid("Institution", bank.institution.id)},
        token=await stack.token("alpha-admin"),
    )
    assert "errors" not in stranger
    assert stranger["data"]["performanceScoreboard"] is None


async def test_a_bad_period_is_bad_input(stack: Stack) -> None:
    bank = await new_bank(stack)
    body = await stack.gql(
        '{ performanceScoreboard(period: "2026-13") { period } }',
        token=await stack.token(bank.username("admin")),
    )
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_PERIOD",
        "field": ["period"],
    }


async def test_pages_of_the_board_follow_the_ranking(stack: Stack) -> None:
    bank = await new_bank(stack)
    await create_scheme(stack, bank, [{"code": "NEW_CUSTOMERS", "weight": "100", "target": "1"}])
    await register_for(stack, bank, "o3")

    first = await scoreboard(stack, bank.username("admin"), first=2)
    assert first["entries"]["pageInfo"]["hasNextPage"] is True
    rest = await scoreboard(
        stack, bank.username("admin"), first=2, after=first["entries"]["pageInfo"]["endCursor"]
    )
    names = [e["staff"]["username"] for e in entries(first) + entries(rest)]
    assert names[0] == bank.username("o3")
    assert len(names) == 3 == len(set(names))
    assert rest["entries"]["pageInfo"]["hasNextPage"] is False

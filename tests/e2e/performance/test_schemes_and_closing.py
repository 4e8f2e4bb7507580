"""Assessment schemes (考核方案): made and revised by the institution's admin, the newest version
scoring the open periods; closing a period (关账) freezes its results with the version they were
scored with; a changed figure or scheme is seen at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from jikuai.domain.performance.indicators import Measure
from jikuai.domain.performance.periods import Period
from tests.support.credit import audit_actions
from tests.support.performance import (
    CLOSE,
    CREATE_SCHEME,
    REVISE_SCHEME,
    Bank,
    create_scheme,
    entries,
    gid,
    new_bank,
    reassign,
    register_for,
    save_facts,
    scoreboard,
)
from tests.support.points import business_today
from tests.support.stack import Stack

DEPOSITS = [{"code": "DEPOSIT_BALANCE", "weight": "100", "target": "1000000"}]
SCHEMES = """
query($role: Role) {
  assessmentSchemes(role: $role) {
    id name version role periodKind bonusPool active
    branch { code } staff { username }
    versions { version bonusPool indicators { indicator { code } target } }
  }
}
"""
BOARD_SCHEMES = """
query($period: String) {
  performanceScoreboard(period: $period) {
    closed asOf
    entries { edges { node { rank rankChange totalScore staff { username }
      scheme { id version } indicators { actual target } } } }
  }
}
"""
MY_PERFORMANCE = """
query($period: String) {
  myPerformance(period: $period) {
    closed totalScore rank scheme { version }
    indicators { actual target score parts { value } }
  }
}
"""


def scheme_input(**fields: Any) -> dict[str, Any]:
    return {
        "name": "客户经理月度考核",
        "role": "LOAN_OFFICER",
        "periodKind": "MONTH",
        "indicators": DEPOSITS,
    } | fields


async def create_as(stack: Stack, username: str, **fields: Any) -> dict[str, Any]:
    """The whole response of a `createAssessmentScheme` by `username`."""
    return await stack.gql(
        CREATE_SCHEME, {"input": scheme_input(**fields)}, token=await stack.token(username)
    )


async def revise(stack: Stack, bank: Bank, scheme_id: str, **fields: Any) -> dict[str, Any]:
    body = await stack.gql(
        REVISE_SCHEME,
        {"input": {"schemeId": scheme_id, "name": "客户经理月度考核", "indicators": DEPOSITS}
         | fields},
        token=await stack.token(bank.username("admin")),
    )  # fmt: skip
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["reviseAssessmentScheme"]
    return payload


async def close(stack: Stack, bank: Bank, period: str, by: str = "admin") -> dict[str, Any]:
    return await stack.gql(
        CLOSE, {"input": {"period": period}}, token=await stack.token(bank.username(by))
    )


async def board_of(stack: Stack, bank: Bank, period: str | None = None) -> dict[str, Any]:
    body = await stack.gql(
        BOARD_SCHEMES, {"period": period}, token=await stack.token(bank.username("admin"))
    )
    assert "errors" not in body, body
    board: dict[str, Any] = body["data"]["performanceScoreboard"]
    return board


def lines(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        edge["node"]["staff"]["username"].split("-")[1]: edge["node"]
        for edge in board["entries"]["edges"]
    }


def totals(board: dict[str, Any]) -> dict[str, str]:
    return {suffix: line["totalScore"] for suffix, line in lines(board).items()}


# Creating and revising --------------------------------------------------------------------------


async def test_the_admin_creates_a_scheme_with_branch_and_personal_targets(stack: Stack) -> None:
    bank = await new_bank(stack)
    branch, o1 = gid("Branch", bank.branches[1].id), gid("Staff", bank.staff_id("o1"))

    created = await create_scheme(
        stack,
        bank,
        [
            {"code": "DEPOSIT_BALANCE", "weight": "60", "target": "1000000", "ceiling": "1.5"},
            {"code": "NEW_CUSTOMERS", "weight": "40", "target": "10", "floor": "0.5"},
        ],
        bonusPool="5000",
        targets=[
            {"code": "DEPOSIT_BALANCE", "value": "600000", "branchId": branch},
            {"code": "NEW_CUSTOMERS", "value": "4", "staffId": o1},
        ],
    )
    body = await stack.gql(SCHEMES, token=await stack.token(bank.username("admin")))

    assert {key: created[key] for key in ("name", "version", "role", "periodKind", "active")} == {
        "name": "客户经理月度考核",
        "version": 1,
        "role": "LOAN_OFFICER",
        "periodKind": "MONTH",
        "active": True,
    }
    assert created["bonusPool"] == "5000.00"
    assert created["indicators"] == [
        {
            "indicator": {"code": "DEPOSIT_BALANCE"},
            "weight": "60",
            "target": "1000000",
            "ceiling": "1.5",
            "floor": "0",
        },
        {
            "indicator": {"code": "NEW_CUSTOMERS"},
            "weight": "40",
            "target": "10",
            "ceiling": "1.2",
            "floor": "0.5",
        },
    ]
    assert created["targets"] == [
        {
            "indicator": {"code": "DEPOSIT_BALANCE"},
            "value": "600000",
            "branchId": branch,
            "staffId": None,
        },
        {"indicator": {"code": "NEW_CUSTOMERS"}, "value": "4", "staffId": o1, "branchId": None},
    ]
    (listed,) = body["data"]["assessmentSchemes"]
    assert (listed["id"], listed["bonusPool"], listed["branch"], listed["staff"]) == (
        created["id"],
        "5000.00",
        None,
        None,
    )


async def test_personal_and_branch_targets_apply_in_place_of_the_default(stack: Stack) -> None:
    bank = await new_bank(stack)
    await create_scheme(
        stack,
        bank,
        [{"code": "NEW_CUSTOMERS", "weight": "100", "target": "10"}],
        targets=[
            {"code": "NEW_CUSTOMERS", "value": "2", "branchId": gid("Branch", bank.branches[0].id)},
            {"code": "NEW_CUSTOMERS", "value": "1", "staffId": gid("Staff", bank.staff_id("o1"))},
        ],
    )
    for suffix in ("o1", "o2", "o3"):
        await register_for(stack, bank, suffix)

    board = await scoreboard(stack, bank.username("admin"))

    targets = {
        entry["staff"]["username"].split("-")[1]: entry["indicators"][0]["target"]
        for entry in entries(board)
    }
    assert targets == {"o1": "1", "o2": "2", "o3": "10"}
    assert {e["staff"]["username"].split("-")[1]: e["totalScore"] for e in entries(board)} == {
        "o1": "100.00",
        "o2": "50.00",
        "o3": "10.00",
    }


async def test_a_branchs_own_scheme_scores_its_staff_in_place_of_the_banks(stack: Stack) -> None:
    bank = await new_bank(stack)
    banks = await create_scheme(
        stack, bank, [{"code": "NEW_CUSTOMERS", "weight": "100", "target": "4"}], bonusPool="300"
    )
    branchs = await create_scheme(
        stack,
        bank,
        [{"code": "NEW_CUSTOMERS", "weight": "100", "target": "1"}],
        bonusPool="100",
        branchId=gid("Branch", bank.branches[1].id),
        name="二网点考核",
    )
    for suffix in ("o1", "o2", "o3"):
        await register_for(stack, bank, suffix)

    board = await board_of(stack, bank)

    assert {suffix: line["scheme"]["id"] for suffix, line in lines(board).items()} == {
        "o1": banks["id"],
        "o2": banks["id"],
        "o3": branchs["id"],
    }
    assert totals(board) == {"o3": "100.00", "o1": "25.00", "o2": "25.00"}
    # Each scheme's pool is shared among the staff it scores.
    shared = await scoreboard(stack, bank.username("admin"))
    assert {e["staff"]["username"].split("-")[1]: e["bonusShare"] for e in entries(shared)} == {
        "o3": "100.00",
        "o1": "150.00",
        "o2": "150.00",
    }


async def test_a_quarterly_scheme_scores_quarters_and_not_months(stack: Stack) -> None:
    bank = await new_bank(stack)
    today = business_today()
    quarter = next(
        period
        for period in (Period.parse(f"{today.year}-Q{n}") for n in range(1, 5))
        if period.start <= today <= period.end
    )
    await create_scheme(
        stack,
        bank,
        [{"code": "NEW_CUSTOMERS", "weight": "100", "target": "2"}],
        periodKind="QUARTER",
        name="客户经理季度考核",
    )
    await register_for(stack, bank, "o1")

    by_quarter = await board_of(stack, bank, quarter.name)
    by_month = await board_of(stack, bank)

    assert totals(by_quarter) == {"o1": "50.00", "o2": "0.00", "o3": "0.00"}
    assert by_month["entries"]["edges"] == []


async def test_only_an_admin_makes_schemes(stack: Stack) -> None:
    bank = await new_bank(stack)

    by_officer = await create_as(stack, bank.username("o1"))
    by_manager = await create_as(stack, bank.username("m1"))

    assert by_officer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert by_manager["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await stack.gql(SCHEMES, token=await stack.token(bank.username("admin")))
    assert body["data"]["assessmentSchemes"] == []


async def test_a_scheme_names_only_branches_and_staff_of_its_own_bank(stack: Stack) -> None:
    bank, other = await new_bank(stack), await new_bank(stack)
    admin = bank.username("admin")

    their_branch = await create_as(stack, admin, branchId=gid("Branch", other.branches[0].id))
    their_officer = await create_as(stack, admin, staffId=gid("Staff", other.staff_id("o1")))
    their_target = await create_as(
        stack,
        admin,
        targets=[
            {"code": "DEPOSIT_BALANCE", "value": "1", "staffId": gid("Staff", other.staff_id("o1"))}
        ],
    )
    a_manager = await create_as(stack, admin, staffId=gid("Staff", bank.staff_id("m1")))
    an_admin_role = await create_as(stack, admin, role="INSTITUTION_ADMIN")
    both = await create_as(
        stack,
        admin,
        branchId=gid("Branch", bank.branches[0].id),
        staffId=gid("Staff", bank.staff_id("o1")),
    )

    def errors(body: dict[str, Any]) -> list[dict[str, Any]]:
        assert "errors" not in body, body
        payload = body["data"]["createAssessmentScheme"]
        assert payload["scheme"] is None
        found: list[dict[str, Any]] = payload["userErrors"]
        return found

    assert errors(their_branch) == [{"field": ["branchId"], "code": "NOT_FOUND"}]
    assert errors(their_officer) == [{"field": ["staffId"], "code": "NOT_FOUND"}]
    assert errors(their_target) == [{"field": ["targets", "0", "staffId"], "code": "NOT_FOUND"}]
    assert errors(a_manager) == [{"field": ["staffId"], "code": "INVALID_ROLE"}]
    assert errors(an_admin_role) == [{"field": ["role"], "code": "INVALID_ROLE"}]
    assert errors(both) == [{"field": ["staffId"], "code": "INVALID_SUBJECT"}]


async def test_every_fault_of_a_scheme_comes_back_as_a_user_error_at_its_field(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)

    body = await create_as(
        stack,
        bank.username("admin"),
        name=" ",
        indicators=[
            {"code": "DEPOSIT_BALANCE", "weight": "50", "target": "0"},
            {"code": "DEPOSIT_BALANCE", "weight": "30", "target": "5", "ceiling": "0.5"},
        ],
        targets=[
            {"code": "NEW_CUSTOMERS", "value": "3", "branchId": gid("Branch", bank.branches[0].id)}
        ],
        bonusPool="100.001",
    )

    assert "errors" not in body, body
    assert body["data"]["createAssessmentScheme"] == {
        "scheme": None,
        "userErrors": [
            {"field": ["indicators", "0", "target"], "code": "INVALID_TARGET"},
            {"field": ["indicators", "1", "code"], "code": "INVALID_INDICATOR"},
            {"field": ["indicators", "1", "ceiling"], "code": "INVALID_BOUNDS"},
            {"field": ["indicators"], "code": "INVALID_WEIGHTS"},
        ],
    }
    terms = await create_as(
        stack,
        bank.username("admin"),
        name=" ",
        targets=[
            {"code": "NEW_CUSTOMERS", "value": "3", "branchId": gid("Branch", bank.branches[0].id)}
        ],
        bonusPool="100.001",
    )
    assert terms["data"]["createAssessmentScheme"]["userErrors"] == [
        {"field": ["name"], "code": "INVALID_LENGTH"},
        {"field": ["bonusPool"], "code": "INVALID_AMOUNT"},
        {"field": ["targets", "0", "code"], "code": "INVALID_INDICATOR"},
    ]


async def test_a_revision_is_a_new_version_that_scores_the_open_periods(stack: Stack) -> None:
    bank = await new_bank(stack)
    created = await create_scheme(stack, bank, DEPOSITS, bonusPool="1000.00")
    await save_facts(stack, bank, (business_today(), Measure.DEPOSIT_BALANCE, "o1", "500000.00"))
    before = await board_of(stack, bank)

    revised = await revise(
        stack,
        bank,
        created["id"],
        indicators=[{"code": "DEPOSIT_BALANCE", "weight": "100", "target": "500000"}],
        bonusPool="2000.00",
    )
    after = await board_of(stack, bank)
    body = await stack.gql(SCHEMES, token=await stack.token(bank.username("admin")))

    assert revised["userErrors"] == []
    new = revised["scheme"]
    assert (new["version"], new["bonusPool"], new["id"] != created["id"]) == (2, "2000.00", True)
    assert lines(before)["o1"]["scheme"] == {"id": created["id"], "version": 1}
    assert (lines(before)["o1"]["totalScore"], lines(after)["o1"]["totalScore"]) == (
        "50.00",
        "100.00",
    )
    assert lines(after)["o1"]["scheme"] == {"id": new["id"], "version": 2}
    (listed,) = body["data"]["assessmentSchemes"]
    assert listed["id"] == new["id"]
    assert [
        (v["version"], v["bonusPool"], v["indicators"][0]["target"]) for v in listed["versions"]
    ] == [
        (2, "2000.00", "500000"),
        (1, "1000.00", "1000000"),
    ]


async def test_a_revision_of_an_old_version_follows_the_newest(stack: Stack) -> None:
    bank = await new_bank(stack)
    created = await create_scheme(stack, bank, DEPOSITS)
    second = await revise(stack, bank, created["id"], name="第二版")

    third = await revise(stack, bank, created["id"], name="第三版")

    assert second["scheme"]["version"] == 2
    assert (third["scheme"]["version"], third["scheme"]["name"]) == (3, "第三版")


async def test_a_retired_scheme_scores_nobody(stack: Stack) -> None:
    bank = await new_bank(stack)
    created = await create_scheme(stack, bank, DEPOSITS)

    retired = await revise(stack, bank, created["id"], active=False)
    board = await board_of(stack, bank)
    body = await stack.gql(SCHEMES, token=await stack.token(bank.username("admin")))

    assert retired["scheme"]["active"] is False
    assert board["entries"]["edges"] == []
    assert body["data"]["assessmentSchemes"] == []


async def test_one_scheme_is_in_force_per_role_scope_and_period_kind(stack: Stack) -> None:
    bank = await new_bank(stack)
    created = await create_scheme(stack, bank, DEPOSITS)
    admin = bank.username("admin")

    second = await create_as(stack, admin)
    quarterly = await create_as(stack, admin, periodKind="QUARTER")
    await revise(stack, bank, created["id"], active=False)
    after_retiring = await create_as(stack, admin)

    assert second["data"]["createAssessmentScheme"] == {
        "scheme": None,
        "userErrors": [{"field": None, "code": "SCHEME_EXISTS"}],
    }
    assert quarterly["data"]["createAssessmentScheme"]["userErrors"] == []
    assert after_retiring["data"]["createAssessmentScheme"]["userErrors"] == []


async def test_only_the_banks_admin_revises_its_scheme(stack: Stack) -> None:
    bank = await new_bank(stack)
    created = await create_scheme(stack, bank, DEPOSITS)
    revision = {"schemeId": created["id"], "name": "改", "indicators": DEPOSITS}

    by_officer = await stack.gql(
        REVISE_SCHEME, {"input": revision}, token=await stack.token(bank.username("o1"))
    )
    by_stranger = await stack.gql(
        REVISE_SCHEME, {"input": revision}, token=await stack.token("alpha-admin")
    )

    assert by_officer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert by_stranger["data"]["reviseAssessmentScheme"]["userErrors"] == [
        {"field": ["schemeId"], "code": "NOT_FOUND"}
    ]


# Closing ----------------------------------------------------------------------------------------


async def test_a_period_closes_only_once_it_is_over_and_only_once(stack: Stack) -> None:
    bank = await new_bank(stack)
    await create_scheme(stack, bank, DEPOSITS)
    this_month = Period.month_of(business_today())

    running = await close(stack, bank, this_month.name)
    by_officer = await close(stack, bank, this_month.previous().name, by="o1")
    misnamed = await close(stack, bank, "2026-13")
    closed = await close(stack, bank, this_month.previous().name)
    again = await close(stack, bank, this_month.previous().name)

    assert running["data"]["closePerformancePeriod"] == {
        "period": None,
        "results": None,
        "userErrors": [{"field": ["period"], "code": "PERIOD_NOT_OVER"}],
    }
    assert by_officer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert misnamed["data"]["closePerformancePeriod"]["userErrors"] == [
        {"field": ["period"], "code": "INVALID_PERIOD"}
    ]
    # The three officers the scheme scores; no scheme scores the managers or the risk officer.
    assert closed["data"]["closePerformancePeriod"] == {
        "period": this_month.previous().name,
        "results": 3,
        "userErrors": [],
    }
    assert again["data"]["closePerformancePeriod"]["userErrors"] == [
        {"field": ["period"], "code": "PERIOD_CLOSED"}
    ]


async def test_a_closed_period_keeps_its_results_and_the_scheme_version_they_were_scored_with(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    last_month = Period.month_of(business_today()).previous()
    created = await create_scheme(stack, bank, DEPOSITS)
    await save_facts(stack, bank, (last_month.end, Measure.DEPOSIT_BALANCE, "o1", "500000.00"))
    await close(stack, bank, last_month.name)

    # Core banking corrects the figure, and the scheme is revised: the closed month stays.
    await save_facts(stack, bank, (last_month.end, Measure.DEPOSIT_BALANCE, "o1", "2000000.00"))
    revised = await revise(
        stack,
        bank,
        created["id"],
        indicators=[{"code": "DEPOSIT_BALANCE", "weight": "100", "target": "2000000"}],
    )
    closed = await board_of(stack, bank, last_month.name)
    running = await board_of(stack, bank)

    assert (closed["closed"], closed["asOf"]) == (True, last_month.end.isoformat())
    o1 = lines(closed)["o1"]
    assert (o1["totalScore"], o1["rank"], o1["scheme"]) == (
        "50.00",
        1,
        {"id": created["id"], "version": 1},
    )
    assert o1["indicators"] == [{"actual": "500000.00", "target": "1000000"}]
    assert totals(closed) == {"o1": "50.00", "o2": "0.00", "o3": "0.00"}
    # The month that runs reads the corrected figure with the newest version.
    assert running["closed"] is False
    assert lines(running)["o1"]["scheme"] == {"id": revised["scheme"]["id"], "version": 2}
    assert lines(running)["o1"]["indicators"] == [{"actual": "2000000.00", "target": "2000000"}]


async def test_places_gained_are_counted_from_the_closed_month(stack: Stack) -> None:
    bank = await new_bank(stack)
    today = business_today()
    last_month = Period.month_of(today).previous()
    await create_scheme(stack, bank, DEPOSITS)
    await save_facts(stack, bank, (last_month.end, Measure.DEPOSIT_BALANCE, "o1", "500000.00"))
    await close(stack, bank, last_month.name)
    await save_facts(stack, bank, (today, Measure.DEPOSIT_BALANCE, "o2", "800000.00"))

    board = await board_of(stack, bank)

    # Last month: o1 first, o2 and o3 second. Today's figures are o2's alone.
    assert {
        suffix: (line["rank"], line["rankChange"]) for suffix, line in lines(board).items()
    } == {"o2": (1, 1), "o1": (2, -1), "o3": (2, 0)}


async def test_a_closed_months_explanation_adds_up_to_its_frozen_figure(stack: Stack) -> None:
    bank = await new_bank(stack)
    last_month = Period.month_of(business_today()).previous()
    await create_scheme(stack, bank, DEPOSITS)
    await save_facts(stack, bank, (last_month.end, Measure.DEPOSIT_BALANCE, "o1", "500000.00"))
    await close(stack, bank, last_month.name)
    await save_facts(stack, bank, (last_month.end, Measure.DEPOSIT_BALANCE, "o1", "2000000.00"))

    body = await stack.gql(
        MY_PERFORMANCE, {"period": last_month.name}, token=await stack.token(bank.username("o1"))
    )

    assert "errors" not in body, body
    mine = body["data"]["myPerformance"]
    assert (mine["closed"], mine["totalScore"], mine["rank"]) == (True, "50.00", 1)
    (deposits,) = mine["indicators"]
    assert deposits["actual"] == "500000.00"
    assert deposits["parts"] == [{"value": "500000.00"}]


# Cached boards ----------------------------------------------------------------------------------


async def test_new_facts_and_a_revision_are_on_the_board_at_once(stack: Stack) -> None:
    bank = await new_bank(stack)
    today = business_today()
    created = await create_scheme(stack, bank, DEPOSITS)
    await save_facts(stack, bank, (today, Measure.DEPOSIT_BALANCE, "o1", "500000.00"))
    first = await board_of(stack, bank)
    cached = await board_of(stack, bank)

    await save_facts(stack, bank, (today, Measure.DEPOSIT_BALANCE, "o2", "700000.00"))
    with_facts = await board_of(stack, bank)
    await revise(
        stack,
        bank,
        created["id"],
        indicators=[{"code": "DEPOSIT_BALANCE", "weight": "100", "target": "700000"}],
    )
    with_revision = await board_of(stack, bank)

    assert totals(first) == totals(cached) == {"o1": "50.00", "o2": "0.00", "o3": "0.00"}
    assert totals(with_facts) == {"o2": "70.00", "o1": "50.00", "o3": "0.00"}
    assert totals(with_revision) == {"o2": "100.00", "o1": "71.43", "o3": "0.00"}


async def test_a_closing_is_on_the_board_at_once(stack: Stack) -> None:
    bank = await new_bank(stack)
    last_month = Period.month_of(business_today()).previous()
    await create_scheme(stack, bank, DEPOSITS)
    before = await board_of(stack, bank, last_month.name)

    await close(stack, bank, last_month.name)
    after = await board_of(stack, bank, last_month.name)

    assert (before["closed"], after["closed"]) == (False, True)


async def test_last_months_board_as_of_its_last_day(stack: Stack) -> None:
    bank = await new_bank(stack)
    last_month = Period.month_of(business_today()).previous()
    await create_scheme(stack, bank, DEPOSITS)
    await save_facts(
        stack,
        bank,
        (last_month.end - timedelta(days=1), Measure.DEPOSIT_BALANCE, "o1", "300000.00"),
        (last_month.end, Measure.DEPOSIT_BALANCE, "o2", "400000.00"),
    )

    board = await board_of(stack, bank, last_month.name)

    assert board["asOf"] == last_month.end.isoformat()
    # A position is the latest day with figures: the last day, on which only o2 reported.
    assert totals(board) == {"o2": "40.00", "o1": "0.00", "o3": "0.00"}


async def test_schemes_reassignments_and_closings_are_in_the_audit_trail(stack: Stack) -> None:
    bank = await new_bank(stack)
    created = await create_scheme(stack, bank, DEPOSITS)
    revised = await revise(stack, bank, created["id"])
    customer = await register_for(stack, bank, "o1")
    await reassign(stack, bank, [customer], "o2")
    await close(stack, bank, Period.month_of(business_today()).previous().name)

    assert await audit_actions(stack, created["id"]) == ["assessment_scheme.create"]
    assert await audit_actions(stack, revised["scheme"]["id"]) == ["assessment_scheme.revise"]
    assert await audit_actions(stack, gid("Staff", bank.staff_id("o2"))) == ["portfolio.reassign"]
    assert await audit_actions(stack, gid("Institution", bank.institution.id)) == [
        "performance_period.close"
    ]

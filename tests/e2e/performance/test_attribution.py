"""Whom a figure counts for: the staff member who managed its customer or merchant on its date.
Dated reassignments (移交) and who may make them; a portfolio's history; merchants counting for
the officer who brought them in."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from jikuai.domain.performance.freshness import forget_figures
from jikuai.domain.performance.indicators import Measure
from jikuai.domain.performance.model import Fact
from jikuai.domain.performance.periods import Period
from tests.support.credit import customer_token, local_uuid
from tests.support.merchants import (
    APPROVE,
    MerchantFixture,
    add_operator,
    apply,
    merchant_login,
    review,
)
from tests.support.performance import (
    CLOSE,
    REASSIGN,
    Bank,
    create_scheme,
    entries,
    gid,
    new_bank,
    reassign,
    register_for,
    scoreboard,
)
from tests.support.points import business_today, db_session, redeem_on, rich_customer, set_rules
from tests.support.stack import Stack

PORTFOLIO_HISTORY = """
query($id: ID!) {
  portfolioHistory(subjectId: $id) {
    subjectKind subjectId validFrom validUntil staff { username }
  }
}
"""


def actuals(board: dict[str, Any], code: str) -> dict[str, str | None]:
    """Each staff member's (by suffix) actual of one indicator."""
    return {
        entry["staff"]["username"].split("-")[1]: next(
            item["actual"] for item in entry["indicators"] if item["indicator"]["code"] == code
        )
        for entry in entries(board)
    }


async def customer_facts(stack: Stack, bank: Bank, *facts: tuple[date, Measure, str, str]) -> None:
    """Facts of (day, measure, customer global ID, value) about a customer, for whoever
    manages them on the day, as core banking reports them."""
    async with db_session(stack) as session, session.unit_of_work() as uow:
        await uow.performance.save_facts(
            [
                Fact(
                    bank.institution.id, day, "CORE", f"{day}:{local_uuid(customer)}", measure,
                    None, uuid.UUID(local_uuid(customer)), Decimal(value),
                )
                for day, measure, customer, value in facts
            ],
            now=datetime.now(UTC),
        )  # fmt: skip
        await uow.commit()
    await forget_figures(stack.services.cache, bank.institution.id)


async def history(stack: Stack, bank: Bank, subject_id: str, viewer: str = "admin") -> Any:
    body = await stack.gql(
        PORTFOLIO_HISTORY, {"id": subject_id}, token=await stack.token(bank.username(viewer))
    )
    assert "errors" not in body, body
    return body["data"]["portfolioHistory"]


async def reassign_as(
    stack: Stack, username: str, subject_ids: list[str], staff_id: str, **extra: Any
) -> dict[str, Any]:
    """The whole response of a `reassignPortfolio` by `username`."""
    return await stack.gql(
        REASSIGN,
        {"input": {"subjectIds": subject_ids, "staffId": staff_id} | extra},
        token=await stack.token(username),
    )


MERCHANT_ROWS = """
{ myPerformance { indicators { indicator { code }
  parts { contributions { edges { node { date kind referenceId value } } } } } } }
"""

# Dated reassignment -----------------------------------------------------------------------------


async def test_facts_before_a_reassignment_stay_with_the_previous_manager(stack: Stack) -> None:
    bank = await new_bank(stack)
    last_month = Period.month_of(business_today()).previous()
    first, handover = last_month.start, last_month.start + timedelta(days=14)
    await create_scheme(
        stack, bank, [{"code": "SOCIAL_SECURITY_CARD_ACTIVATIONS", "weight": "100", "target": "2"}]
    )
    _token, customer = await customer_token(stack, institution=bank.code)
    to_o1 = await reassign(stack, bank, [customer], "o1", effectiveOn=first.isoformat())
    to_o2 = await reassign(stack, bank, [customer], "o2", effectiveOn=handover.isoformat())
    activated = Measure.SOCIAL_SECURITY_CARDS_ACTIVATED
    await customer_facts(
        stack,
        bank,
        (first - timedelta(days=1), activated, customer, "1"),
        (first, activated, customer, "1"),
        (handover - timedelta(days=1), activated, customer, "1"),
        (handover, activated, customer, "1"),
        (last_month.end, activated, customer, "1"),
    )

    board = await scoreboard(stack, bank.username("admin"), period=last_month.name)

    assert to_o1["userErrors"] == []
    assert to_o2["userErrors"] == []
    # Nobody managed the customer the day before the first assignment: that fact counts for
    # nobody. o1 has the first two weeks, o2 the rest, the handover day included.
    assert actuals(board, "SOCIAL_SECURITY_CARD_ACTIVATIONS") == {"o2": "2", "o1": "2", "o3": "0"}
    assert await history(stack, bank, customer) == [
        {
            "subjectKind": "CUSTOMER",
            "subjectId": customer,
            "validFrom": first.isoformat(),
            "validUntil": handover.isoformat(),
            "staff": {"username": bank.username("o1")},
        },
        {
            "subjectKind": "CUSTOMER",
            "subjectId": customer,
            "validFrom": handover.isoformat(),
            "validUntil": None,
            "staff": {"username": bank.username("o2")},
        },
    ]


async def test_a_registration_before_a_handover_from_tomorrow_stays_with_the_registering_officer(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    today = business_today()
    tomorrow = today + timedelta(days=1)
    await create_scheme(stack, bank, [{"code": "NEW_CUSTOMERS", "weight": "100", "target": "1"}])
    customer = await register_for(stack, bank, "o1")

    handed = await reassign(stack, bank, [customer], "o2", effectiveOn=tomorrow.isoformat())
    board = await scoreboard(stack, bank.username("admin"))

    assert handed == {
        "assignments": [
            {
                "subjectKind": "CUSTOMER",
                "subjectId": customer,
                "validFrom": tomorrow.isoformat(),
                "validUntil": None,
                "staff": {"username": bank.username("o2")},
            }
        ],
        "userErrors": [],
    }
    assert actuals(board, "NEW_CUSTOMERS") == {"o1": "1", "o2": "0", "o3": "0"}
    assert [(each["staff"]["username"], each["validFrom"], each["validUntil"]) for each in
            await history(stack, bank, customer, viewer="o1")] == [
        (bank.username("o1"), today.isoformat(), tomorrow.isoformat()),
        (bank.username("o2"), tomorrow.isoformat(), None),
    ]  # fmt: skip


async def test_a_handover_from_today_moves_todays_figures_and_the_board_at_once(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    await create_scheme(stack, bank, [{"code": "NEW_CUSTOMERS", "weight": "100", "target": "1"}])
    customer = await register_for(stack, bank, "o1")
    before = await scoreboard(stack, bank.username("admin"))

    handed = await reassign(stack, bank, [customer], "o3")
    again = await reassign(stack, bank, [customer], "o3")
    after = await scoreboard(stack, bank.username("admin"))

    assert handed["userErrors"] == []
    assert len(handed["assignments"]) == 1
    assert again == {"assignments": [], "userErrors": []}
    assert actuals(before, "NEW_CUSTOMERS") == {"o1": "1", "o2": "0", "o3": "0"}
    assert actuals(after, "NEW_CUSTOMERS") == {"o3": "1", "o1": "0", "o2": "0"}


# What a reassignment may not do -----------------------------------------------------------------


async def test_subjects_of_another_bank_or_of_two_kinds_are_not_found(stack: Stack) -> None:
    bank = await new_bank(stack)
    ours = await register_for(stack, bank, "o1")
    _token, theirs = await customer_token(stack)  # a customer of alpha

    other_bank = await reassign(stack, bank, [ours, theirs], "o2")
    mixed = await reassign(stack, bank, [ours, gid("Merchant", uuid.uuid4())], "o2")
    unknown = await reassign(stack, bank, [gid("Customer", uuid.uuid4())], "o2")
    stranger = await reassign_as(
        stack, bank.username("admin"), [ours], gid("Staff", stack.world.staff["alpha-officer"].id)
    )

    not_found = {"assignments": [], "userErrors": [{"field": ["subjectIds"], "code": "NOT_FOUND"}]}
    assert other_bank == not_found
    assert mixed == not_found
    assert unknown == not_found
    assert stranger["data"]["reassignPortfolio"]["userErrors"] == [
        {"field": ["staffId"], "code": "NOT_FOUND"}
    ]
    assert [each["staff"]["username"] for each in await history(stack, bank, ours)] == [
        bank.username("o1")
    ]


async def test_a_handover_cannot_begin_before_the_current_manager_began_nor_a_year_ahead(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    today = business_today()
    customer = await register_for(stack, bank, "o1")

    too_early = await reassign(
        stack, bank, [customer], "o2", effectiveOn=(today - timedelta(days=1)).isoformat()
    )
    too_late = await reassign(
        stack, bank, [customer], "o2", effectiveOn=(today + timedelta(days=367)).isoformat()
    )

    invalid_date = {
        "assignments": [],
        "userErrors": [{"field": ["effectiveOn"], "code": "INVALID_DATE"}],
    }
    assert too_early == invalid_date
    assert too_late == invalid_date
    assert len(await history(stack, bank, customer)) == 1


async def test_a_handover_cannot_reach_into_a_closed_period(stack: Stack) -> None:
    bank = await new_bank(stack)
    this_month = Period.month_of(business_today())
    last_month = this_month.previous()
    _token, customer = await customer_token(stack, institution=bank.code)
    handed = await reassign(stack, bank, [customer], "o1", effectiveOn=last_month.start.isoformat())
    closed = await stack.gql(
        CLOSE,
        {"input": {"period": last_month.name}},
        token=await stack.token(bank.username("admin")),
    )

    into_closed = await reassign(
        stack, bank, [customer], "o2", effectiveOn=last_month.end.isoformat()
    )
    after_it = await reassign(
        stack, bank, [customer], "o2", effectiveOn=this_month.start.isoformat()
    )

    assert handed["userErrors"] == []
    assert closed["data"]["closePerformancePeriod"]["userErrors"] == []
    assert into_closed == {
        "assignments": [],
        "userErrors": [{"field": ["effectiveOn"], "code": "PERIOD_CLOSED"}],
    }
    assert after_it["userErrors"] == []
    assert [
        (each["validFrom"], each["validUntil"]) for each in await history(stack, bank, customer)
    ] == [
        (last_month.start.isoformat(), this_month.start.isoformat()),
        (this_month.start.isoformat(), None),
    ]


async def test_a_branch_manager_hands_over_within_their_branch_only(stack: Stack) -> None:
    bank = await new_bank(stack)
    customer = await register_for(stack, bank, "o1")
    o2, o3 = gid("Staff", bank.staff_id("o2")), gid("Staff", bank.staff_id("o3"))

    within = await reassign_as(stack, bank.username("m1"), [customer], o2)
    across = await reassign_as(stack, bank.username("m1"), [customer], o3)
    by_other_manager = await reassign_as(stack, bank.username("m2"), [customer], o3)
    by_officer = await reassign_as(stack, bank.username("o2"), [customer], o2)

    assert within["data"]["reassignPortfolio"]["userErrors"] == []
    for refused in (across, by_other_manager, by_officer):
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [each["staff"]["username"] for each in await history(stack, bank, customer)] == [
        bank.username("o1"),
        bank.username("o2"),
    ]


async def test_a_branch_manager_cannot_take_another_branchs_customer(stack: Stack) -> None:
    bank = await new_bank(stack)
    customer = await register_for(stack, bank, "o3")  # managed in the second branch

    taken = await reassign_as(
        stack, bank.username("m1"), [customer], gid("Staff", bank.staff_id("o1"))
    )

    assert taken["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [each["staff"]["username"] for each in await history(stack, bank, customer)] == [
        bank.username("o3")
    ]


async def test_another_bank_sees_no_portfolio_history(stack: Stack) -> None:
    bank = await new_bank(stack)
    customer = await register_for(stack, bank, "o1")

    body = await stack.gql(
        PORTFOLIO_HISTORY, {"id": customer}, token=await stack.token("alpha-admin")
    )

    assert "errors" not in body
    assert body["data"]["portfolioHistory"] is None


# Merchants --------------------------------------------------------------------------------------


async def merchant_of(stack: Stack, bank: Bank, officer: str) -> MerchantFixture:
    """A merchant applied for by `officer`, approved by their branch manager, with a cashier."""
    applied = await apply(stack, await stack.token(bank.username(officer)))
    assert applied["userErrors"] == [], applied
    merchant_id: str = applied["merchant"]["id"]
    approved = await review(stack, APPROVE, merchant_id, username=bank.username("m1"))
    assert approved["userErrors"] == [], approved
    cashier = f"cashier-{uuid.uuid4().hex[:12]}"
    added = await add_operator(
        stack, merchant_id, username=cashier, token=await stack.token(bank.username("m1"))
    )
    assert added["userErrors"] == [], added
    login = await merchant_login(stack, cashier)
    assert login["userErrors"] == [], login
    return MerchantFixture(
        merchant_id, uuid.UUID(local_uuid(merchant_id)), cashier, login["accessToken"]
    )


async def test_an_approved_merchant_counts_for_the_officer_who_brought_it_in(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    today = business_today()
    await create_scheme(
        stack,
        bank,
        [
            {"code": "MERCHANTS_ONBOARDED", "weight": "40", "target": "1"},
            {"code": "ACTIVE_MERCHANTS", "weight": "30", "target": "1"},
            {"code": "POINTS_REDEEMED", "weight": "30", "target": "1000"},
        ],
    )
    await set_rules(stack, bank.code)
    _token, customer = await rich_customer(stack, 2000, institution=bank.code)
    merchant = await merchant_of(stack, bank, "o1")
    redeemed = [
        await redeem_on(stack, merchant, customer, day=today, points=points, institution=bank.code)
        for points in (200, 400)
    ]

    board = await scoreboard(stack, bank.username("admin"))
    explained = await stack.gql(MERCHANT_ROWS, token=await stack.token(bank.username("o1")))

    assert actuals(board, "MERCHANTS_ONBOARDED") == {"o1": "1", "o2": "0", "o3": "0"}
    assert actuals(board, "ACTIVE_MERCHANTS") == {"o1": "1", "o2": "0", "o3": "0"}
    assert actuals(board, "POINTS_REDEEMED") == {"o1": "600", "o2": "0", "o3": "0"}
    assert entries(board)[0]["totalScore"] == "88.00"  # 40 + 30 + 30 × 0.6
    assert [each.status.value for each in redeemed] == ["COMPLETED", "COMPLETED"]
    assert "errors" not in explained, explained
    behind = {
        item["indicator"]["code"]: [
            edge["node"] for edge in item["parts"][0]["contributions"]["edges"]
        ]
        for item in explained["data"]["myPerformance"]["indicators"]
    }
    assert (
        behind["MERCHANTS_ONBOARDED"]
        == behind["ACTIVE_MERCHANTS"]
        == [
            {
                "date": today.isoformat(),
                "kind": "MERCHANT",
                "referenceId": merchant.merchant_id,
                "value": "1.00",
            }
        ]
    )
    assert sorted(behind["POINTS_REDEEMED"], key=lambda row: row["value"]) == [
        {
            "date": today.isoformat(),
            "kind": "REDEMPTION",
            "referenceId": gid("Redemption", each.id),
            "value": value,
        }
        for each, value in zip(redeemed, ("200.00", "400.00"), strict=True)
    ]
    assert await history(stack, bank, merchant.merchant_id) == [
        {
            "subjectKind": "MERCHANT",
            "subjectId": merchant.merchant_id,
            "validFrom": today.isoformat(),
            "validUntil": None,
            "staff": {"username": bank.username("o1")},
        }
    ]


async def test_a_merchant_handed_over_the_day_it_was_approved_takes_its_figures_along(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    today = business_today()
    await create_scheme(
        stack,
        bank,
        [
            {"code": "MERCHANTS_ONBOARDED", "weight": "50", "target": "1"},
            {"code": "POINTS_REDEEMED", "weight": "50", "target": "1000"},
        ],
    )
    await set_rules(stack, bank.code)
    _token, customer = await rich_customer(stack, 2000, institution=bank.code)
    merchant = await merchant_of(stack, bank, "o1")
    await redeem_on(stack, merchant, customer, day=today, points=300, institution=bank.code)

    handed = await reassign(stack, bank, [merchant.merchant_id], "o2")
    board = await scoreboard(stack, bank.username("admin"))

    assert handed["userErrors"] == []
    # Onboarding is dated on the day the merchant was first managed, today: o2 manages it from
    # today, so today's onboarding and redemption are theirs now.
    assert actuals(board, "MERCHANTS_ONBOARDED") == {"o2": "1", "o1": "0", "o3": "0"}
    assert actuals(board, "POINTS_REDEEMED") == {"o2": "300", "o1": "0", "o3": "0"}


async def test_a_merchant_not_yet_approved_is_not_onboarded_by_being_handed_over(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    await create_scheme(
        stack, bank, [{"code": "MERCHANTS_ONBOARDED", "weight": "100", "target": "1"}]
    )
    applied = await apply(stack, await stack.token(bank.username("o1")))
    assert applied["userErrors"] == [], applied

    handed = await reassign(stack, bank, [applied["merchant"]["id"]], "o2")
    board = await scoreboard(stack, bank.username("admin"))

    assert handed["userErrors"] == [{"field": ["subjectIds"], "code": "NOT_FOUND"}]
    assert actuals(board, "MERCHANTS_ONBOARDED") == {"o1": "0", "o2": "0", "o3": "0"}

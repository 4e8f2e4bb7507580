"""Earning (积分发放): service accounts sign in and report events, rules turn them into points
within caps, and each event earns once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from jikuai.domain.identity.clients import create_service_client
from jikuai.domain.points.earning import RecordEvent, record_event
from jikuai.domain.points.model import EventType
from tests.support.credit import customer_token, error_codes, local_uuid
from tests.support.merchants import approved_merchant
from tests.support.points import (
    CANCEL,
    CLIENT_LOGIN,
    REVERSE,
    SET_RULE,
    account,
    assert_ledger_balances,
    award,
    balance_of,
    changed_rules,
    db_session,
    new_institution,
    record,
    service_actor,
    service_token,
    set_rules,
)
from tests.support.stack import Stack

RULES = "query { earningRules { eventType method pointsPerCny fixedPoints dailyCap active } }"


async def _new_client(stack: Stack, institution: str = "alpha") -> tuple[str, str]:
    async with db_session(stack) as session:
        client, secret = await create_service_client(
            session.unit_of_work(),
            name=f"core-{uuid.uuid4().hex[:8]}",
            institution_code=institution,
            now=datetime.now(UTC),
        )
    return client.name, secret


# Service accounts ------------------------------------------------------------------------------


async def test_a_service_account_signs_in_with_its_secret_and_gets_no_refresh_token(
    stack: Stack,
) -> None:
    name, secret = await _new_client(stack)

    body = await stack.gql(CLIENT_LOGIN, {"id": name, "secret": secret})

    payload = body["data"]["clientLogin"]
    assert payload["userErrors"] == []
    assert payload["accessToken"]
    assert payload["refreshToken"] is None
    assert payload["expiresAt"]
    me = await stack.gql("query { me { __typename } }", token=payload["accessToken"])
    assert "errors" not in me, me


@pytest.mark.parametrize("wrong", ["secret", "name"])
async def test_a_wrong_secret_or_client_signs_in_nobody(stack: Stack, wrong: str) -> None:
    name, secret = await _new_client(stack)
    if wrong == "secret":
        secret = secret[:-2] + ("aa" if not secret.endswith("aa") else "bb")
    else:
        name = f"{name}-nobody"

    body = await stack.gql(CLIENT_LOGIN, {"id": name, "secret": secret})

    payload = body["data"]["clientLogin"]
    assert payload["accessToken"] is None
    assert [error["code"] for error in payload["userErrors"]] == ["INVALID_CREDENTIALS"]


async def test_a_service_account_records_for_its_own_institutions_customers_only(
    stack: Stack,
) -> None:
    await set_rules(stack)
    await set_rules(stack, "beta")
    core = await service_token(stack, "alpha")
    beta_token, beta_customer = await customer_token(stack, institution="beta")
    alpha_token, alpha_customer = await customer_token(stack)

    refused = await record(stack, core, beta_customer, "SOCIAL_SECURITY_CARD_ACTIVATION")
    recorded = await record(stack, core, alpha_customer, "SOCIAL_SECURITY_CARD_ACTIVATION")

    assert refused["event"] is None
    assert refused["userErrors"] == [{"field": ["customerId"], "code": "NOT_FOUND"}]
    assert (await account(stack, beta_token))["balance"] == 0
    assert recorded["userErrors"] == []
    assert recorded["event"]["points"] == 200
    assert recorded["event"]["status"] == "POSTED"
    assert (await account(stack, alpha_token))["balance"] == 200


@pytest.mark.parametrize(
    "who",
    [
        "customer",
        "cashier",
        "alpha-officer",
        "alpha-manager",
        "alpha-risk",
        "prov-admin",
        "anonymous",
    ],
)
async def test_only_service_accounts_and_admins_record_events(stack: Stack, who: str) -> None:
    await set_rules(stack)
    customer, customer_id = await customer_token(stack)
    if who == "customer":
        token: str | None = customer
    elif who == "cashier":
        token = (await approved_merchant(stack)).cashier_token
    elif who == "anonymous":
        token = None
    else:
        token = await stack.token(who)
    variables = {
        "input": {
            "customerId": customer_id,
            "eventType": "CAMPAIGN",
            "sourceRef": uuid.uuid4().hex,
            "points": 100,
        }
    }

    body = await stack.gql(
        "mutation($input: RecordPointsEventInput!) {"
        " recordPointsEvent(input: $input) { event { id } userErrors { code } } }",
        variables,
        token=token,
    )

    assert error_codes(body) == ["UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"]
    assert (await account(stack, customer))["balance"] == 0


async def test_an_institution_admin_awards_campaign_and_manual_points_but_no_others(
    stack: Stack,
) -> None:
    await set_rules(stack)
    admin = await stack.token("alpha-admin")
    token, customer_id = await customer_token(stack)
    _, beta_customer = await customer_token(stack, institution="beta")

    campaign = await record(stack, admin, customer_id, "CAMPAIGN", points=300)
    manual = await record(stack, admin, customer_id, "MANUAL_ADJUSTMENT", points=20)
    deposit = await stack.gql(
        "mutation($input: RecordPointsEventInput!) {"
        " recordPointsEvent(input: $input) { event { id } } }",
        {
            "input": {
                "customerId": customer_id,
                "eventType": "DEPOSIT_MONTHLY_AVERAGE",
                "sourceRef": uuid.uuid4().hex,
                "amount": "100000",
            }
        },
        token=admin,
    )
    elsewhere = await record(stack, admin, beta_customer, "CAMPAIGN", points=300)

    assert campaign["userErrors"] == []
    assert campaign["event"]["points"] == 300
    assert manual["userErrors"] == []
    assert manual["event"]["points"] == 20
    assert error_codes(deposit) == ["FORBIDDEN"]
    assert elsewhere["userErrors"] == [{"field": ["customerId"], "code": "NOT_FOUND"}]
    assert (await account(stack, token))["balance"] == 320
    await assert_ledger_balances(stack)


# What an event earns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"), [("1234.56", 12), ("1299.99", 12), ("99.99", 0), ("250000", 2500)]
)
async def test_per_cny_earns_for_every_whole_point_of_the_amount_rounded_down(
    stack: Stack, amount: str, expected: int
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)

    recorded = await record(stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", amount=amount)

    assert recorded["userErrors"] == []
    event = recorded["event"]
    assert (event["points"], event["capped"], Decimal(event["amount"])) == (
        expected,
        False,
        Decimal(amount),
    )
    assert (await account(stack, token))["balance"] == expected
    await assert_ledger_balances(stack)


async def test_fixed_points_ignore_the_amount(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)

    with_amount = await record(
        stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION", amount="99999"
    )
    without = await record(stack, core, customer_id, "ON_TIME_REPAYMENT")

    assert with_amount["event"]["points"] == 200
    assert without["event"]["points"] == 50
    assert (await account(stack, token))["balance"] == 250


@pytest.mark.parametrize(
    ("event_type", "fields", "field"),
    [
        ("CAMPAIGN", {}, "points"),
        ("CAMPAIGN", {"points": 0}, "points"),
        ("MANUAL_ADJUSTMENT", {"points": -5}, "points"),
        ("DEPOSIT_MONTHLY_AVERAGE", {"amount": "1000", "points": 10}, "points"),
        ("ON_TIME_REPAYMENT", {"points": 10}, "points"),
        ("DEPOSIT_MONTHLY_AVERAGE", {}, "amount"),
        ("DEPOSIT_MONTHLY_AVERAGE", {"amount": "-100"}, "amount"),
        # an amount finer than a fen is no amount, whether the rule counts it or not
        ("DEPOSIT_MONTHLY_AVERAGE", {"amount": "1234.567"}, "amount"),
        ("ON_TIME_REPAYMENT", {"amount": "0.001"}, "amount"),
    ],
)
async def test_stated_points_only_for_direct_awards_and_always_for_them(
    stack: Stack, event_type: str, fields: dict[str, Any], field: str
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)

    refused = await record(stack, core, customer_id, event_type, **fields)

    code = "INVALID_POINTS" if field == "points" else "INVALID_AMOUNT"
    assert refused["userErrors"] == [{"field": [field], "code": code}]
    assert refused["event"] is None
    assert (await account(stack, token))["balance"] == 0


@pytest.mark.parametrize("source_ref", ["", "   ", "x" * 65])
async def test_a_source_ref_of_1_to_64_characters_is_required(
    stack: Stack, source_ref: str
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    _, customer_id = await customer_token(stack)

    body = await stack.gql(
        "mutation($input: RecordPointsEventInput!) {"
        " recordPointsEvent(input: $input) { event { id } userErrors { field code } } }",
        {
            "input": {
                "customerId": customer_id,
                "eventType": "ON_TIME_REPAYMENT",
                "sourceRef": source_ref,
            }
        },
        token=core,
    )

    assert body["data"]["recordPointsEvent"]["userErrors"] == [
        {"field": ["sourceRef"], "code": "REQUIRED"}
    ]


async def test_an_event_without_a_rule_earns_nothing(stack: Stack) -> None:
    institution = await new_institution(stack)
    core = await service_token(stack, institution)
    token, customer_id = await customer_token(stack, institution=institution)

    refused = await record(stack, core, customer_id, "ON_TIME_REPAYMENT")

    assert refused["userErrors"] == [{"field": ["eventType"], "code": "EARNING_RULE_MISSING"}]
    assert (await account(stack, token))["balance"] == 0


async def test_an_event_under_an_inactive_rule_earns_nothing(stack: Stack) -> None:
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)

    async with changed_rules(stack, ON_TIME_REPAYMENT={"active": False}):
        refused = await record(stack, core, customer_id, "ON_TIME_REPAYMENT")
        other = await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")
    again = await record(stack, core, customer_id, "ON_TIME_REPAYMENT")

    assert refused["userErrors"] == [{"field": ["eventType"], "code": "EARNING_RULE_MISSING"}]
    assert other["event"]["points"] == 200
    assert again["event"]["points"] == 50
    assert (await account(stack, token))["balance"] == 250


# Each event earns once -------------------------------------------------------------------------


async def test_the_same_report_twice_earns_once(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    ref = f"DEP-{uuid.uuid4().hex}"

    first = await record(stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", ref, amount="50000")
    second = await record(
        stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", f"  {ref} ", amount="50000.00"
    )
    other_type = await record(stack, core, customer_id, "ON_TIME_REPAYMENT", ref)

    assert (first["replayed"], second["replayed"], other_type["replayed"]) == (False, True, False)
    assert second["userErrors"] == []
    assert second["event"] == first["event"]
    assert first["event"]["points"] == 500
    assert (await account(stack, token))["balance"] == 550
    await assert_ledger_balances(stack)


async def test_a_used_source_ref_with_another_amount_or_customer_is_refused(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    other_token, other_customer = await customer_token(stack)
    ref = f"DEP-{uuid.uuid4().hex}"
    first = await record(stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", ref, amount="50000")

    other_amount = await record(
        stack, core, customer_id, "DEPOSIT_MONTHLY_AVERAGE", ref, amount="60000"
    )
    other_customer_too = await record(
        stack, core, other_customer, "DEPOSIT_MONTHLY_AVERAGE", ref, amount="50000"
    )

    assert first["userErrors"] == []
    for refused in (other_amount, other_customer_too):
        assert refused["event"] is None
        assert refused["replayed"] is False
        assert refused["userErrors"] == [{"field": ["sourceRef"], "code": "IDEMPOTENCY_KEY_REUSED"}]
    assert (await account(stack, token))["balance"] == 500
    assert (await account(stack, other_token))["balance"] == 0


async def test_a_used_campaign_ref_with_other_points_is_refused(stack: Stack) -> None:
    await set_rules(stack, CAMPAIGN={"dailyCap": 100})
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    ref = f"CMP-{uuid.uuid4().hex}"
    first = await record(stack, core, customer_id, "CAMPAIGN", ref, points=300)

    again = await record(stack, core, customer_id, "CAMPAIGN", ref, points=300)
    other_points = await record(stack, core, customer_id, "CAMPAIGN", ref, points=100)
    await set_rules(stack)

    assert first["event"]["points"] == 100  # capped; a replay compares what was asked for
    assert again["replayed"] is True
    assert again["event"]["id"] == first["event"]["id"]
    assert other_points["userErrors"] == [
        {"field": ["sourceRef"], "code": "IDEMPOTENCY_KEY_REUSED"}
    ]
    assert (await account(stack, token))["balance"] == 100


async def test_the_same_source_ref_at_two_institutions_is_two_events(stack: Stack) -> None:
    await set_rules(stack)
    await set_rules(stack, "beta")
    ref = f"SSC-{uuid.uuid4().hex}"
    alpha_token, alpha_customer = await customer_token(stack)
    beta_token, beta_customer = await customer_token(stack, institution="beta")

    alpha = await record(
        stack, await service_token(stack), alpha_customer, "SOCIAL_SECURITY_CARD_ACTIVATION", ref
    )
    beta = await record(
        stack,
        await service_token(stack, "beta"),
        beta_customer,
        "SOCIAL_SECURITY_CARD_ACTIVATION",
        ref,
    )

    assert (alpha["replayed"], beta["replayed"]) == (False, False)
    assert alpha["event"]["id"] != beta["event"]["id"]
    assert (await account(stack, alpha_token))["balance"] == 200
    assert (await account(stack, beta_token))["balance"] == 200


# Caps ------------------------------------------------------------------------------------------


async def test_a_daily_cap_cuts_the_award_that_reaches_it_then_awards_nothing(
    stack: Stack,
) -> None:
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)

    async with changed_rules(stack, ON_TIME_REPAYMENT={"dailyCap": 120}):
        events = [
            (await record(stack, core, customer_id, "ON_TIME_REPAYMENT"))["event"] for _ in range(4)
        ]
        other_customer_token, other_customer = await customer_token(stack)
        unaffected = (await record(stack, core, other_customer, "ON_TIME_REPAYMENT"))["event"]

    assert [(each["points"], each["capped"]) for each in events] == [
        (50, False),
        (50, False),
        (20, True),
        (0, True),
    ]
    assert all(each["status"] == "POSTED" for each in events)
    assert (unaffected["points"], unaffected["capped"]) == (50, False)
    assert (await account(stack, token))["balance"] == 120
    assert (await account(stack, other_customer_token))["balance"] == 50
    await assert_ledger_balances(stack)


async def test_monthly_and_yearly_caps_count_the_earlier_days(stack: Stack) -> None:
    token, customer_id = await customer_token(stack)
    actor = service_actor(stack)
    customer = uuid.UUID(local_uuid(customer_id))

    async def earn_on(day: date) -> tuple[int, bool]:
        async with db_session(stack) as session:
            recorded = await record_event(
                RecordEvent(customer, EventType.ON_TIME_REPAYMENT, uuid.uuid4().hex),
                actor=actor,
                uow=session.unit_of_work(),
                now=datetime.now(UTC),
                today=day,
            )
        return recorded.event.points, recorded.event.capped

    async with changed_rules(
        stack, ON_TIME_REPAYMENT={"dailyCap": 100, "monthlyCap": 120, "yearlyCap": 200}
    ):
        awards = [
            await earn_on(day)
            for day in (
                date(2031, 3, 1),
                date(2031, 3, 1),
                date(2031, 3, 1),  # the day's cap is reached
                date(2031, 3, 2),  # a new day, but the month has 20 left
                date(2031, 4, 1),  # a new month
                date(2031, 4, 1),  # the year has 30 left
                date(2031, 5, 1),  # the year has nothing left
                date(2032, 1, 1),  # a new year
            )
        ]

    assert awards == [
        (50, False),
        (50, False),
        (0, True),
        (20, True),
        (50, False),
        (30, True),
        (0, True),
        (50, False),
    ]
    assert (await account(stack, token))["balance"] == 250
    await assert_ledger_balances(stack)


async def test_cancelled_and_reversed_events_do_not_count_against_a_cap(stack: Stack) -> None:
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)

    async with changed_rules(
        stack, ON_TIME_REPAYMENT={"dailyCap": 100}, REFERRAL={"dailyCap": 300}
    ):
        repaid = [
            await record(stack, core, customer_id, "ON_TIME_REPAYMENT", f"R-{uuid.uuid4().hex}")
            for _ in range(3)
        ]
        referred = await record(stack, core, customer_id, "REFERRAL", f"F-{uuid.uuid4().hex}")
        referred_again = await record(stack, core, customer_id, "REFERRAL")

        first_repaid = repaid[0]["event"]["sourceRef"]
        reversed_ = await stack.gql(
            REVERSE,
            {"input": {"eventType": "ON_TIME_REPAYMENT", "sourceRef": first_repaid}},
            token=core,
        )
        cancelled = await stack.gql(
            CANCEL,
            {"input": {"eventType": "REFERRAL", "sourceRef": referred["event"]["sourceRef"]}},
            token=core,
        )
        after_reversal = await record(stack, core, customer_id, "ON_TIME_REPAYMENT")
        after_cancel = await record(stack, core, customer_id, "REFERRAL")

    assert [each["event"]["points"] for each in repaid] == [50, 50, 0]
    assert (referred["event"]["points"], referred_again["event"]["points"]) == (300, 0)
    assert reversed_["data"]["reversePointsEvent"]["event"]["status"] == "REVERSED"
    assert cancelled["data"]["cancelPointsEvent"]["event"]["status"] == "CANCELLED"
    assert (after_reversal["event"]["points"], after_reversal["event"]["capped"]) == (50, False)
    assert (after_cancel["event"]["points"], after_cancel["event"]["capped"]) == (300, False)
    found = await account(stack, token)
    assert (found["balance"], found["pending"]) == (100, 300)
    await assert_ledger_balances(stack)


# Rules -----------------------------------------------------------------------------------------


async def test_an_inconsistent_rule_is_refused_with_every_field_and_changes_nothing(
    stack: Stack,
) -> None:
    await set_rules(stack)
    admin = await stack.token("alpha-admin")
    before = await stack.gql(RULES, token=admin)

    body = await stack.gql(
        SET_RULE,
        {
            "input": {
                "eventType": "DEPOSIT_MONTHLY_AVERAGE",
                "method": "PER_CNY",
                "expiryMode": "ROLLING_MONTHS",
                "expiryPeriod": 0,
                "pendingDays": 400,
                "dailyCap": -1,
            }
        },
        token=admin,
    )

    payload = body["data"]["setEarningRule"]
    assert payload["rule"] is None
    assert payload["userErrors"] == [
        {"field": ["pointsPerCny"], "code": "INVALID_POINTS"},
        {"field": ["dailyCap"], "code": "INVALID_POINTS"},
        {"field": ["pendingDays"], "code": "INVALID_TERM"},
        {"field": ["expiryPeriod"], "code": "INVALID_TERM"},
    ]
    assert await stack.gql(RULES, token=admin) == before


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"eventType": "CAMPAIGN", "method": "FIXED", "fixedPoints": 10}, "method"),
        ({"eventType": "REFERRAL", "method": "DIRECT"}, "method"),
        ({"eventType": "REFERRAL", "method": "FIXED"}, "fixedPoints"),
        ({"eventType": "REFERRAL", "method": "FIXED", "fixedPoints": 0}, "fixedPoints"),
        (
            {"eventType": "REFERRAL", "method": "FIXED", "fixedPoints": 5, "monthlyCap": -2},
            "monthlyCap",
        ),
        # points per CNY are stored to 4 decimal places
        (
            {
                "eventType": "DEPOSIT_MONTHLY_AVERAGE",
                "method": "PER_CNY",
                "pointsPerCny": "0.00005",
            },
            "pointsPerCny",
        ),
        (
            {
                "eventType": "ON_TIME_REPAYMENT",
                "method": "FIXED",
                "fixedPoints": 5,
                "pointsPerCny": "-1",
            },
            "pointsPerCny",
        ),
    ],
)
async def test_each_inconsistency_of_a_rule_is_named(
    stack: Stack, rule: dict[str, object], field: str
) -> None:
    body = await stack.gql(
        SET_RULE,
        {"input": {"expiryMode": "END_OF_YEAR", "expiryPeriod": 1, **rule}},
        token=await stack.token("alpha-admin"),
    )

    assert body["data"]["setEarningRule"]["userErrors"] == [
        {"field": [field], "code": "INVALID_POINTS"}
    ]


async def test_a_changed_rule_applies_to_new_events_only(stack: Stack) -> None:
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    before = await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")

    async with changed_rules(stack, SOCIAL_SECURITY_CARD_ACTIVATION={"fixedPoints": 500}):
        rules = await stack.gql(RULES, token=await stack.token("alpha-officer"))
        after = await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION")
        replayed = await record(
            stack,
            core,
            customer_id,
            "SOCIAL_SECURITY_CARD_ACTIVATION",
            before["event"]["sourceRef"],
        )

    card = next(
        each
        for each in rules["data"]["earningRules"]
        if each["eventType"] == "SOCIAL_SECURITY_CARD_ACTIVATION"
    )
    assert (card["method"], card["fixedPoints"]) == ("FIXED", 500)
    assert (before["event"]["points"], after["event"]["points"]) == (200, 500)
    assert (replayed["replayed"], replayed["event"]["points"]) == (True, 200)
    assert (await account(stack, token))["balance"] == 700


async def test_a_campaign_award_is_spendable_at_once_and_shows_in_history(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)

    event = await award(stack, core, customer_id, 800)

    assert (event["eventType"], event["status"], event["debtSettled"]) == ("CAMPAIGN", "POSTED", 0)
    assert await balance_of(stack, token) == 800
    history = await stack.gql(
        "query { pointsHistory(first: 5) { edges { node { kind points eventType } } } }",
        token=token,
    )
    assert [edge["node"] for edge in history["data"]["pointsHistory"]["edges"]] == [
        {"kind": "EARN", "points": 800, "eventType": "CAMPAIGN"}
    ]


async def test_a_report_replayed_after_its_rule_was_switched_off_still_answers_with_the_event(
    stack: Stack,
) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    ref = f"SSC-{uuid.uuid4().hex}"
    first = await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION", ref)

    async with changed_rules(stack, SOCIAL_SECURITY_CARD_ACTIVATION={"active": False}):
        retried = await record(stack, core, customer_id, "SOCIAL_SECURITY_CARD_ACTIVATION", ref)

    # the source system retrying a report it already made learns that it earned, once
    assert retried["userErrors"] == []
    assert (retried["replayed"], retried["event"]) == (True, first["event"])
    assert (await account(stack, token))["balance"] == 200

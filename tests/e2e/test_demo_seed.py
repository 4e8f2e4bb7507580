"""`jikuai seed demo`, what `make run` serves: the pilots, their seven products, a village roster
and a farmer its whole-village pre-approval lets through in one call."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from jikuai.app import create_app
from jikuai.config import DEMO_PASSWORD, Settings
from jikuai.container import build_services
from jikuai.demo import demo_id_number
from jikuai.security import seal
from tests.support.cli import run_cli

SIGN_IN = """
mutation { staffLogin(input: {username: "yushu-officer", password: "%s"}) { accessToken } }
"""
OVERVIEW = """
{ loanProducts { id code name currentRate }
  customers(filter: {segment: FARMER}) { edges { node { id } } }
  villageCreditProgress { households preApproved registered }
  villages { edges { node { code creditRating rosterImports { edges { node { rows } } } } } } }
"""
SUBMIT = """
mutation($input: LoanApplicationInput!) {
  submitLoanApplication(input: $input) {
    application { state decision { outcome grade limit { limit } } } userErrors { code }
  }
}
"""


async def _graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.mark.usefixtures("cli_environment", "restore_logging")
async def test_the_demo_serves_seven_products_and_a_whitelisted_farmer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_cli("db", "upgrade") == 0
    assert await run_cli("seed", "demo") == 0
    assert await run_cli("seed", "demo") == 0
    assert "demo data already present" in capsys.readouterr().out
    settings = Settings()
    services = build_services(settings)
    transport = httpx.ASGITransport(app=create_app(settings, services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://jikuai.test") as client:
            signed_in = await _graphql(client, SIGN_IN % DEMO_PASSWORD, {})
            token = signed_in["staffLogin"]["accessToken"]
            overview = await _graphql(client, OVERVIEW, {}, token)
            products = {each["code"]: each for each in overview["loanProducts"]}
            farmer = overview["customers"]["edges"][0]["node"]["id"]
            submitted = await _graphql(
                client,
                SUBMIT,
                {
                    "input": {
                        "customerId": farmer,
                        "productId": products["JNKD"]["id"],
                        "amount": "30000",
                        "method": "REVOLVING",
                        "annualIncome": "60000",
                    }
                },
                token,
            )
    finally:
        await services.close()

    assert sorted(products) == ["GXD", "JLD", "JNKD", "JWKD", "TSD", "XYD", "YDD"]
    assert products["JNKD"]["name"] == "吉农快贷"
    progress = overview["villageCreditProgress"]
    assert progress["households"] == 41
    assert 0 < progress["preApproved"] < 41
    assert progress["registered"] == 1  # the demo farmer, signed up before the roster came
    first = overview["villages"]["edges"][0]["node"]
    assert first["creditRating"] == "AA"
    assert first["rosterImports"]["edges"][0]["node"]["rows"] == 41
    assert all(each["currentRate"] is not None for each in products.values())
    payload = submitted["submitLoanApplication"]
    assert payload["userErrors"] == []
    assert payload["application"]["state"] == "APPROVED"
    assert payload["application"]["decision"]["outcome"] == "AUTO_APPROVED"


POINTS_FLOW_LOGINS = """
mutation($secret: String!) {
  core: clientLogin(input: {clientId: "yushu-core", clientSecret: $secret}) { accessToken }
  till: merchantLogin(input: {username: "yushu-cashier", password: $secret}) {
    accessToken operator { merchant { name rewards { edges { node { id pricePoints } } } } }
  }
  customer: wechatLogin(input: {code: "dev:demo-points-flow"}) { accessToken }
}
"""
FARMERS = "{ customers(filter: {segment: FARMER}) { edges { node { id } } } }"
FARMER_POINTS = "query($id: ID) { pointsAccount(customerId: $id) { balance } }"
INSTITUTIONS = "{ institutions { id code } }"
REGISTER = """
mutation($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) { customer { id } userErrors { code } }
}
"""
EARN = """
mutation($id: ID!, $ref: String!) {
  recordPointsEvent(input: {customerId: $id, eventType: SOCIAL_SECURITY_CARD_ACTIVATION,
                            sourceRef: $ref}) { event { points } userErrors { code } }
}
"""
CODE = "mutation { createRedemptionCode { redemptionCode { code } userErrors { code } } }"
REDEEM = """
mutation($code: String!, $reward: ID!) {
  redeemPoints(input: {code: $code, rewardId: $reward, idempotencyKey: "till-1-0001"}) {
    redemption { status points } userErrors { code }
  }
}
"""


@pytest.mark.usefixtures("cli_environment", "restore_logging")
async def test_the_demo_redeems_a_benefit_at_a_seeded_merchant() -> None:
    assert await run_cli("db", "upgrade") == 0
    assert await run_cli("seed", "demo") == 0
    settings = Settings()
    services = build_services(settings)
    transport = httpx.ASGITransport(app=create_app(settings, services=services))
    key = services.keyring.primary_transport_key
    now = datetime.now(UTC)

    def sealed(field: str, value: str) -> str:
        return seal(
            value, field=field, public_key=key.private_key.public_key(), kid=key.kid, now=now
        )

    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://jikuai.test") as client:
            logins = await _graphql(client, POINTS_FLOW_LOGINS, {"secret": DEMO_PASSWORD})
            officer = (await _graphql(client, SIGN_IN % DEMO_PASSWORD, {}))["staffLogin"]
            farmers = await _graphql(client, FARMERS, {}, officer["accessToken"])
            farmer = await _graphql(
                client,
                FARMER_POINTS,
                {"id": farmers["customers"]["edges"][0]["node"]["id"]},
                officer["accessToken"],
            )
            yushu = next(
                each["id"]
                for each in (await _graphql(client, INSTITUTIONS, {}))["institutions"]
                if each["code"] == "yushu"
            )
            customer = logins["customer"]["accessToken"]
            registered = await _graphql(
                client,
                REGISTER,
                {
                    "input": {
                        "name": sealed("name", "赵春花"),
                        "idNumber": sealed(
                            "idNumber", demo_id_number("220182", date(1992, 3, 15), 46)
                        ),
                        "phone": sealed("phone", "13904318888"),
                        "segment": "FARMER",
                        "institutionId": yushu,
                    }
                },
                customer,
            )
            customer_id = registered["registerCustomer"]["customer"]["id"]
            earned = [
                await _graphql(
                    client, EARN, {"id": customer_id, "ref": ref}, logins["core"]["accessToken"]
                )
                for ref in ("SSC-0001", "SSC-0002", "SSC-0002")
            ]
            code = (await _graphql(client, CODE, {}, customer))["createRedemptionCode"]
            rewards = logins["till"]["operator"]["merchant"]["rewards"]["edges"]
            voucher = next(each["node"] for each in rewards if each["node"]["pricePoints"] == 1000)
            redeemed = await _graphql(
                client,
                REDEEM,
                {"code": code["redemptionCode"]["code"], "reward": voucher["id"]},
                logins["till"]["accessToken"],
            )
            left = await _graphql(client, FARMER_POINTS, {"id": None}, customer)
    finally:
        await services.close()

    assert logins["till"]["operator"]["merchant"]["name"] == "便民超市（yushu）"
    assert sorted(each["node"]["pricePoints"] for each in rewards) == [1000, 3000]
    assert farmer["pointsAccount"] == {"balance": 8000}
    assert registered["registerCustomer"]["userErrors"] == []
    assert [each["recordPointsEvent"] for each in earned] == [
        {"event": {"points": 500}, "userErrors": []}
    ] * 3
    assert redeemed["redeemPoints"] == {
        "redemption": {"status": "COMPLETED", "points": 1000},
        "userErrors": [],
    }
    assert left["pointsAccount"] == {"balance": 0}


ADMIN_SIGN_IN = """
mutation { staffLogin(input: {username: "yushu-admin", password: "%s"}) { accessToken } }
"""
BOARD = """
{ performanceScoreboard {
    entries { edges { node {
      rank totalScore bonusShare staff { username }
      indicators { indicator { code } actual }
    } } }
  }
  institutionDashboard { headlines { indicator { code } value series { month value } } } }
"""


@pytest.mark.usefixtures("cli_environment", "restore_logging")
async def test_the_demo_scores_its_loan_officer() -> None:
    assert await run_cli("db", "upgrade") == 0
    assert await run_cli("seed", "demo") == 0
    settings = Settings()
    services = build_services(settings)
    transport = httpx.ASGITransport(app=create_app(settings, services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://jikuai.test") as client:
            admin = (await _graphql(client, ADMIN_SIGN_IN % DEMO_PASSWORD, {}))["staffLogin"]
            seen = await _graphql(client, BOARD, {}, admin["accessToken"])
    finally:
        await services.close()

    (officer,) = [edge["node"] for edge in seen["performanceScoreboard"]["entries"]["edges"]]
    actuals = {each["indicator"]["code"]: each["actual"] for each in officer["indicators"]}
    assert (officer["staff"]["username"], officer["rank"]) == ("yushu-officer", 1)
    assert actuals["NEW_CUSTOMERS"] == "3"  # the three demo customers the officer registered
    assert Decimal(actuals["DEPOSIT_BALANCE"]) > 0
    assert officer["bonusShare"] == "20000.00"  # the whole pool: the only officer scored
    headlines = {
        each["indicator"]["code"]: each for each in seen["institutionDashboard"]["headlines"]
    }
    assert len(headlines["OUTSTANDING_BALANCE"]["series"]) == 12
    assert headlines["HOUSEHOLDS_SERVED"]["value"] is not None

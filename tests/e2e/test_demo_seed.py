"""`jikuai seed demo`, what `make run` serves: the pilots, their seven products and a farmer the
whole-village whitelist lets through in one call."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from jikuai.app import create_app
from jikuai.config import DEMO_PASSWORD, Settings
from jikuai.container import build_services
from tests.support.cli import run_cli

SIGN_IN = """
mutation { staffLogin(input: {username: "yushu-officer", password: "%s"}) { accessToken } }
"""
OVERVIEW = """
{ loanProducts { id code name currentRate }
  customers(filter: {segment: FARMER}) { edges { node { id } } } }
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
    assert all(each["currentRate"] is not None for each in products.values())
    payload = submitted["submitLoanApplication"]
    assert payload["userErrors"] == []
    assert payload["application"]["state"] == "APPROVED"
    assert payload["application"]["decision"]["outcome"] == "AUTO_APPROVED"

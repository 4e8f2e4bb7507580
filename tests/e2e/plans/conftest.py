"""Two servers on one demo database: one runs operations by their compiled plans, the other
by graphql-core alone. Whatever one answers, the other must answer byte for byte."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from jikuai.app import create_app
from jikuai.config import DEMO_PASSWORD, Settings
from jikuai.container import Services, build_services
from jikuai.demo import demo_id_number, seed_demo
from jikuai.persistence.engine import create_engine
from jikuai.persistence.migrations import upgrade
from jikuai.schema.relay import to_global_id
from jikuai.security import KeyRing
from tests.conftest import DATABASE_URL, REQUIRE_SERVICES, WECHAT_APP_ID, WECHAT_APP_SECRET
from tests.support.stack import seal_for

# Rows whose global IDs variables are drawn from, by the type that names them.
ID_TABLES = {
    "Customer": "customers",
    "Loan": "loans",
    "LoanApplication": "loan_applications",
    "LoanProduct": "loan_products",
    "CreditLine": "credit_lines",
    "CreditListEntry": "credit_list_entries",
    "RiskAlert": "risk_alerts",
    "Merchant": "merchants",
    "MerchantOperator": "merchant_operators",
    "Reward": "rewards",
    "Redemption": "redemptions",
    "Settlement": "merchant_settlements",
    "Institution": "institutions",
    "Branch": "branches",
    "Village": "villages",
    "VillageHousehold": "village_households",
    "RosterImport": "roster_imports",
    "Staff": "staff",
    "AssessmentScheme": "assessment_schemes",
    "JobRun": "job_runs",
}
ROWS_PER_TYPE = 12
CUSTOMER_ID_NUMBER = demo_id_number("220182", date(1990, 3, 15), 7)
LOGIN = """
mutation($u: String!, $p: String!) { staffLogin(input: {username: $u, password: $p}) {
  accessToken } }
"""
CASHIER_LOGIN = """
mutation($u: String!, $p: String!) { merchantLogin(input: {username: $u, password: $p}) {
  accessToken } }
"""
WECHAT_LOGIN = "mutation($c: String!) { wechatLogin(input: {code: $c}) { accessToken } }"
REGISTER = """
mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) {
  userErrors { code } } }
"""


@dataclasses.dataclass
class Twins:
    """The same database served twice: `planned` with compiled plans, `generic` without."""

    planned: httpx.AsyncClient
    generic: httpx.AsyncClient
    services: Services
    tokens: dict[str, str | None]
    ids: dict[str, list[str]]

    def seal(self, field_name: str, value: str) -> str:
        return seal_for(self.services, field_name, value)


@pytest.fixture(scope="session")
async def twins(
    tmp_path_factory: pytest.TempPathFactory, wechat_base_url: str
) -> AsyncIterator[Twins]:
    data_dir = tmp_path_factory.mktemp("plans")
    settings = Settings(
        data_dir=data_dir,
        database_url=await _database_url(data_dir),
        wechat_api_base=wechat_base_url,
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_APP_SECRET,
    )
    await asyncio.to_thread(upgrade, settings.primary_database_url)
    keyring = KeyRing.generate(now=datetime.now(UTC), rsa_bits=2048)
    keyring.save(settings.key_directory)
    planned_services = build_services(settings, keyring=keyring)
    generic_settings = settings.model_copy(update={"compiled_plans": False})
    # Caches of their own: a refused sign-in counts towards a lockout in its server's cache,
    # so each server sees the same count when it answers the same request.
    generic_services = build_services(generic_settings, keyring=keyring)
    await seed_demo(planned_services)
    planned = create_app(settings, services=planned_services)
    generic = create_app(generic_settings, services=generic_services)
    try:
        async with (
            _client(planned) as planned_client,
            _client(generic) as generic_client,
        ):
            found = Twins(planned_client, generic_client, planned_services, {}, {})
            await _sign_in(found)
            found.ids = await _ids(planned_services)
            yield found
    finally:
        await planned_services.close()
        await generic_services.close()


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jikuai.test")


async def _database_url(data_dir: Path) -> str:
    """SQLite in the test's folder; on the services stack, a PostgreSQL database of its own
    beside the suite's."""
    if not DATABASE_URL:
        return f"sqlite+aiosqlite:///{data_dir / 'jikuai.db'}"
    url = make_url(DATABASE_URL)
    name = f"{url.database}_plans"
    admin = create_engine(
        url.set(database="postgres").render_as_string(hide_password=False), pool_size=1
    )
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL at JIKUAI_TEST_DATABASE_URL is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    finally:
        await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def _sign_in(twins: Twins) -> None:
    """Tokens of the people the clients serve, and none."""
    twins.tokens["anonymous"] = None
    for name in ("yushu-officer", "yushu-admin", "yushu-risk", "jilin-admin", "yanbian-officer"):
        twins.tokens[name] = await _token(twins, LOGIN, {"u": name, "p": DEMO_PASSWORD})
    twins.tokens["yushu-cashier"] = await _token(
        twins, CASHIER_LOGIN, {"u": "yushu-cashier", "p": DEMO_PASSWORD}
    )
    customer = await _token(twins, WECHAT_LOGIN, {"c": "dev:plans-customer"})
    institution = await _global_id(twins.services, "Institution", "institutions", "yushu")
    registered = await _post(
        twins,
        REGISTER,
        {
            "input": {
                "name": twins.seal("name", "赵丽"),
                "idNumber": twins.seal("idNumber", CUSTOMER_ID_NUMBER),
                "phone": twins.seal("phone", "13904319999"),
                "segment": "FARMER",
                "institutionId": institution,
            }
        },
        customer,
    )
    assert registered["data"]["registerCustomer"]["userErrors"] == [], registered
    twins.tokens["customer"] = await _token(twins, WECHAT_LOGIN, {"c": "dev:plans-customer"})


async def _token(twins: Twins, query: str, variables: dict[str, Any]) -> str:
    body = await _post(twins, query, variables, None)
    (payload,) = body["data"].values()
    token: str = payload["accessToken"]
    return token


async def _post(
    twins: Twins, query: str, variables: dict[str, Any], token: str | None
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await twins.planned.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


async def _global_id(services: Services, type_name: str, table: str, code: str) -> str:
    async with services.database.reading() as connection:
        found = await connection.scalar(
            text(f"SELECT id FROM {table} WHERE code = :code"),  # noqa: S608 (a table we name)
            {"code": code},
        )
    return to_global_id(type_name, _uuid(found))


async def _ids(services: Services) -> dict[str, list[str]]:
    """Global IDs of real rows of every type, the oldest of each table."""
    ids: dict[str, list[str]] = {}
    async with services.database.reading() as connection:
        for type_name, table in ID_TABLES.items():
            rows = await connection.execute(
                text(f"SELECT id FROM {table} ORDER BY id LIMIT {ROWS_PER_TYPE}")  # noqa: S608
            )
            ids[type_name] = [to_global_id(type_name, _uuid(row[0])) for row in rows]
    return ids


def _uuid(value: object) -> uuid.UUID:
    """A key as the database driver returns it: a UUID, or its text on SQLite."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))

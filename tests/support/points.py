"""Helpers for the points end-to-end tests: service accounts, rules, earning, codes, redemption,
and the ledger's invariants checked against the database."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from jikuai.domain.identity.clients import create_service_client
from jikuai.domain.points.model import Redemption
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.tenancy.actors import Actor, ActorKind
from jikuai.domain.tenancy.model import Role
from jikuai.persistence.engine import DatabaseSession
from tests.support.merchants import MerchantFixture
from tests.support.stack import Stack

CLIENT_LOGIN = """
mutation($id: String!, $secret: String!) {
  clientLogin(input: {clientId: $id, clientSecret: $secret}) {
    accessToken refreshToken expiresAt userErrors { code }
  }
}
"""
SET_RULE = """
mutation($input: EarningRuleInput!) {
  setEarningRule(input: $input) {
    rule { eventType method pointsPerCny fixedPoints dailyCap monthlyCap yearlyCap pendingDays
           expiryMode expiryPeriod active }
    userErrors { field code }
  }
}
"""
SET_PROGRAM = """
mutation($input: PointsProgramInput!) {
  setPointsProgram(input: $input) {
    program { cnyPerPoint confirmAbovePoints confirmWindowSeconds customerDailyPoints
              merchantDailyPoints }
    userErrors { field code }
  }
}
"""
EVENT_FIELDS = """
  id eventType sourceRef amount points debtSettled capped status businessDate
"""
RECORD = f"""
mutation($input: RecordPointsEventInput!) {{
  recordPointsEvent(input: $input) {{
    event {{ {EVENT_FIELDS} }} replayed userErrors {{ field code }}
  }}
}}
"""
CANCEL = f"""
mutation($input: PointsEventRefInput!) {{
  cancelPointsEvent(input: $input) {{ event {{ {EVENT_FIELDS} }} userErrors {{ field code }} }}
}}
"""
REVERSE = CANCEL.replace("cancelPointsEvent", "reversePointsEvent")
ACCOUNT = """
query($customerId: ID) {
  pointsAccount(customerId: $customerId) {
    balance pending held debt expiringSoon(withinDays: 3660) { points date }
  }
}
"""
HISTORY = """
query($first: Int!, $after: String) {
  pointsHistory(first: $first, after: $after) {
    edges { node { kind points eventType redemption { id points } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CREATE_CODE = """
mutation { createRedemptionCode { redemptionCode { code expiresAt } userErrors { code } } }
"""
REDEMPTION_FIELDS = """
  id points status businessDate confirmBy merchant { id name } reward { id name stock }
"""
REDEEM = f"""
mutation($input: RedeemPointsInput!) {{
  redeemPoints(input: $input) {{
    redemption {{ {REDEMPTION_FIELDS} }} replayed userErrors {{ field code }}
  }}
}}
"""
CONFIRM = f"""
mutation($id: ID!) {{
  confirmRedemption(input: {{redemptionId: $id}}) {{
    redemption {{ {REDEMPTION_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
DECLINE = CONFIRM.replace("confirmRedemption", "declineRedemption")
VOID = CONFIRM.replace("confirmRedemption", "voidRedemption")
REVERSE_REDEMPTION = f"""
mutation($id: ID!, $reason: String!) {{
  reverseRedemption(input: {{redemptionId: $id, reason: $reason}}) {{
    redemption {{ {REDEMPTION_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""

RULES: dict[str, dict[str, Any]] = {
    "DEPOSIT_MONTHLY_AVERAGE": {
        "method": "PER_CNY",
        "pointsPerCny": "0.01",
        "expiryMode": "END_OF_YEAR",
        "expiryPeriod": 1,
    },
    "ON_TIME_REPAYMENT": {
        "method": "FIXED",
        "fixedPoints": 50,
        "expiryMode": "ROLLING_MONTHS",
        "expiryPeriod": 12,
    },
    "SOCIAL_SECURITY_CARD_ACTIVATION": {
        "method": "FIXED",
        "fixedPoints": 200,
        "expiryMode": "ROLLING_MONTHS",
        "expiryPeriod": 1,
    },
    "REFERRAL": {
        "method": "FIXED",
        "fixedPoints": 300,
        "pendingDays": 7,
        "expiryMode": "ROLLING_MONTHS",
        "expiryPeriod": 12,
    },
    "CAMPAIGN": {"method": "DIRECT", "expiryMode": "ROLLING_MONTHS", "expiryPeriod": 6},
    "MANUAL_ADJUSTMENT": {"method": "DIRECT", "expiryMode": "ROLLING_MONTHS", "expiryPeriod": 12},
}


async def service_token(stack: Stack, institution: str = "alpha") -> str:
    """A new service account of the institution, signed in with client credentials."""
    session = stack.services.database.session()
    try:
        client, secret = await create_service_client(
            session.unit_of_work(),
            name=f"{institution}-core-{uuid.uuid4().hex[:8]}",
            institution_code=institution,
            now=datetime.now(UTC),
        )
    finally:
        await session.close()
    body = await stack.gql(CLIENT_LOGIN, {"id": client.name, "secret": secret})
    payload = body["data"]["clientLogin"]
    assert payload["userErrors"] == [], payload
    token: str = payload["accessToken"]
    return token


async def set_rules(stack: Stack, institution: str = "alpha", **overrides: Any) -> None:
    """The standard rules of the tests (`overrides`: event type → changed fields)."""
    token = await stack.token(f"{institution}-admin")
    for event_type, fields in RULES.items():
        rule = {"eventType": event_type, **fields, **overrides.get(event_type, {})}
        body = await stack.gql(SET_RULE, {"input": rule}, token=token)
        assert body["data"]["setEarningRule"]["userErrors"] == [], body


async def record(
    stack: Stack,
    token: str,
    customer_id: str,
    event_type: str,
    source_ref: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The `recordPointsEvent` payload."""
    body = await stack.gql(
        RECORD,
        {
            "input": {
                "customerId": customer_id,
                "eventType": event_type,
                "sourceRef": source_ref or uuid.uuid4().hex,
                **fields,
            }
        },
        token=token,
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["recordPointsEvent"]
    return payload


async def award(stack: Stack, token: str, customer_id: str, points: int) -> dict[str, Any]:
    """Campaign points, posted at once."""
    payload = await record(stack, token, customer_id, "CAMPAIGN", points=points)
    assert payload["userErrors"] == [], payload
    event: dict[str, Any] = payload["event"]
    return event


async def account(stack: Stack, token: str, customer_id: str | None = None) -> dict[str, Any]:
    body = await stack.gql(ACCOUNT, {"customerId": customer_id}, token=token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["pointsAccount"]
    return found


async def new_code(stack: Stack, customer_token: str) -> str:
    body = await stack.gql(CREATE_CODE, token=customer_token)
    payload = body["data"]["createRedemptionCode"]
    assert payload["userErrors"] == [], payload
    code: str = payload["redemptionCode"]["code"]
    return code


async def redeem(
    stack: Stack, cashier_token: str, code: str, *, key: str | None = None, **fields: Any
) -> dict[str, Any]:
    """The `redeemPoints` payload."""
    body = await stack.gql(
        REDEEM,
        {"input": {"code": code, "idempotencyKey": key or uuid.uuid4().hex, **fields}},
        token=cashier_token,
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["redeemPoints"]
    return payload


async def lots_of(stack: Stack, customer_id: str) -> list[dict[str, Any]]:
    """A customer's lots, oldest first, straight from the database."""
    from tests.support.credit import local_uuid

    async with stack.services.database.primary.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT points, remaining, expired, state, expires_on FROM points_lots"
                " WHERE customer_id = :id ORDER BY id"
            ),
            {"id": _db_uuid(stack, local_uuid(customer_id))},
        )
        return [dict(row._mapping) for row in rows]


async def assert_ledger_balances(stack: Stack) -> None:
    """The invariants of the whole ledger: every journal balances, every cached balance is the
    sum of its entries, no guarded account is below zero, and a customer's spendable and
    pending points are exactly what their lots hold."""
    async with stack.services.database.primary.connect() as connection:
        unbalanced = await connection.execute(
            text(
                "SELECT journal_id FROM points_entries GROUP BY journal_id HAVING SUM(amount) <> 0"
            )
        )
        assert unbalanced.all() == []
        drift = await connection.execute(
            text(
                "SELECT a.id, a.balance, COALESCE(SUM(e.amount), 0) FROM points_accounts a"
                " LEFT JOIN points_entries e ON e.account_id = a.id"
                " GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(e.amount), 0)"
            )
        )
        assert drift.all() == []
        total = await connection.scalar(
            text("SELECT COALESCE(SUM(balance), 0) FROM points_accounts")
        )
        assert total == 0
        overdrawn = await connection.execute(
            text(
                "SELECT id FROM points_accounts WHERE balance < 0"
                " AND kind IN ('AVAILABLE', 'PENDING', 'HELD')"
            )
        )
        assert overdrawn.all() == []
        accounts = await connection.execute(
            text(
                "SELECT owner_id, kind, balance FROM points_accounts"
                " WHERE kind IN ('AVAILABLE', 'PENDING')"
            )
        )
        balances = {(str(owner), kind): balance for owner, kind, balance in accounts}
        lots = await connection.execute(
            text(
                "SELECT customer_id, state, SUM(remaining) FROM points_lots"
                " WHERE state IN ('ACTIVE', 'PENDING') GROUP BY customer_id, state"
            )
        )
        held: dict[tuple[str, str], int] = defaultdict(int)
        for customer, state, remaining in lots:
            kind = "AVAILABLE" if state == "ACTIVE" else "PENDING"
            held[(str(customer), kind)] = int(remaining)
        for key in set(balances) | set(held):
            assert balances.get(key, 0) == held.get(key, 0), key


def _db_uuid(stack: Stack, value: str) -> Any:
    """A UUID as the database's driver binds it."""
    return (
        uuid.UUID(value)
        if stack.settings.primary_database_url.startswith("postgres")
        else (uuid.UUID(value).hex)
    )


# Helpers for the points test suite ------------------------------------------------------------

DEFAULT_PROGRAM: dict[str, Any] = {
    "cnyPerPoint": "0.01",
    "confirmAbovePoints": 5000,
    "confirmWindowSeconds": 120,
    "customerDailyPoints": 20000,
    "merchantDailyPoints": 1000000,
}
NODE_EVENT = f"""
query($id: ID!) {{ node(id: $id) {{ ... on PointsEvent {{ {EVENT_FIELDS} }} }} }}
"""
NODE_REDEMPTION = f"""
query($id: ID!) {{ node(id: $id) {{ ... on Redemption {{ {REDEMPTION_FIELDS} }} }} }}
"""
SETTLEMENTS = """
query($merchantId: ID, $first: Int!, $after: String) {
  settlements(merchantId: $merchantId, first: $first, after: $after) {
    edges { node { id businessDate redemptions points cnyPerPoint amount status paidAt
                   paymentReference merchant { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MARK_PAID = """
mutation($id: ID!, $reference: String!) {
  markSettlementPaid(input: {settlementId: $id, paymentReference: $reference}) {
    settlement { id status paymentReference paidAt points amount }
    userErrors { field code }
  }
}
"""


def business_today() -> date:
    """Today's business date, as the API sees it."""
    return business_date(datetime.now(UTC))


def institution_id(stack: Stack, institution: str = "alpha") -> uuid.UUID:
    return stack.world.institutions[institution].id


def customer_actor(stack: Stack, customer_id: str, institution: str = "alpha") -> Actor:
    """The customer `customer_id` (a global ID) as the domain sees them signed in."""
    from tests.support.credit import local_uuid

    return Actor(
        kind=ActorKind.CUSTOMER,
        id=uuid.uuid4(),
        role=Role.CUSTOMER,
        institution_id=institution_id(stack, institution),
        customer_id=uuid.UUID(local_uuid(customer_id)),
    )


def service_actor(stack: Stack, institution: str = "alpha") -> Actor:
    """One of the institution's systems, as the domain sees it."""
    return Actor(
        kind=ActorKind.SERVICE,
        id=uuid.uuid4(),
        role=Role.SERVICE_ACCOUNT,
        institution_id=institution_id(stack, institution),
    )


def staff_actor(stack: Stack, username: str) -> Actor:
    return Actor.of_staff(stack.world.staff[username])


async def cashier_actor(stack: Stack, merchant: MerchantFixture) -> Actor:
    """The merchant's signed-in cashier, as the domain sees them."""
    async with stack.services.database.primary.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT id, institution_id FROM merchant_operators WHERE username = :username"
                ),
                {"username": merchant.cashier_username},
            )
        ).one()
    return Actor(
        kind=ActorKind.MERCHANT,
        id=uuid.UUID(str(row.id)),
        role=Role.MERCHANT_OPERATOR,
        institution_id=uuid.UUID(str(row.institution_id)),
        merchant_id=merchant.local_id,
    )


@asynccontextmanager
async def db_session(stack: Stack) -> AsyncIterator[DatabaseSession]:
    """A database session of the test stack, for calling the domain directly."""
    session = stack.services.database.session()
    try:
        yield session
    finally:
        await session.close()


@asynccontextmanager
async def points_program(
    stack: Stack, institution: str = "beta", **changes: Any
) -> AsyncIterator[None]:
    """The institution's programme with `changes` (camelCase) inside the block, the defaults
    again after it."""
    token = await stack.token(f"{institution}-admin")
    try:
        body = await stack.gql(SET_PROGRAM, {"input": DEFAULT_PROGRAM | changes}, token=token)
        assert body["data"]["setPointsProgram"]["userErrors"] == [], body
        yield
    finally:
        body = await stack.gql(SET_PROGRAM, {"input": DEFAULT_PROGRAM}, token=token)
        assert body["data"]["setPointsProgram"]["userErrors"] == [], body


@asynccontextmanager
async def changed_rules(
    stack: Stack, institution: str = "alpha", **overrides: Any
) -> AsyncIterator[None]:
    """The standard rules with `overrides` inside the block, the standard ones after it."""
    try:
        await set_rules(stack, institution, **overrides)
        yield
    finally:
        await set_rules(stack, institution)


async def event_node(stack: Stack, token: str, event_id: str) -> dict[str, Any]:
    body = await stack.gql(NODE_EVENT, {"id": event_id}, token=token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["node"]
    return found


async def redemption_node(stack: Stack, token: str, redemption_id: str) -> dict[str, Any]:
    body = await stack.gql(NODE_REDEMPTION, {"id": redemption_id}, token=token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["node"]
    return found


async def rich_customer(stack: Stack, points: int, institution: str = "alpha") -> tuple[str, str]:
    """A new customer of the institution holding `points` campaign points: (token, id)."""
    from tests.support.credit import customer_token

    token, customer_id = await customer_token(stack, institution=institution)
    await award(stack, await service_token(stack, institution), customer_id, points)
    return token, customer_id


async def balance_of(stack: Stack, token: str) -> int:
    found = await account(stack, token)
    balance: int = found["balance"]
    return balance


async def account_balance(stack: Stack, owner_id: uuid.UUID, kind: str) -> int:
    """The cached balance of one account, straight from the database (0 if never opened)."""
    async with stack.services.database.primary.connect() as connection:
        balance = await connection.scalar(
            text("SELECT balance FROM points_accounts WHERE owner_id = :owner AND kind = :kind"),
            {"owner": _db_uuid(stack, str(owner_id)), "kind": kind},
        )
    return int(balance or 0)


async def sql(stack: Stack, statement: str, **params: Any) -> list[Any]:
    """Rows of a read-only statement on the primary; UUID parameters bound as the driver
    expects."""
    bound = {
        name: _db_uuid(stack, str(value)) if isinstance(value, uuid.UUID) else value
        for name, value in params.items()
    }
    async with stack.services.database.primary.connect() as connection:
        return list(await connection.execute(text(statement), bound))


async def new_institution(stack: Stack) -> str:
    """A member institution of its own, with no points rules and the default programme; its
    code, which `customer_token` and `service_token` accept."""
    from jikuai.domain.shared.ids import new_id
    from jikuai.domain.tenancy.model import Branch, Institution, InstitutionKind

    code = f"g{uuid.uuid4().hex[:8]}"
    institution = Institution(
        new_id(), code, f"{code} bank", "吉林省", InstitutionKind.MEMBER, datetime.now(UTC)
    )
    async with db_session(stack) as session, session.unit_of_work() as uow:
        await uow.tenancy.add_institution(institution)
        await uow.tenancy.add_branch(Branch(new_id(), institution.id, f"{code}-01", "营业部"))
        await uow.commit()
    stack.world.institutions[code] = institution
    return code


def moment(day: date, *, seconds: int = 0) -> datetime:
    """An instant on the business date `day` (noon in Asia/Shanghai), `seconds` later."""
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC) + timedelta(seconds=seconds)


async def redeem_on(
    stack: Stack,
    merchant: MerchantFixture,
    customer_id: str,
    *,
    day: date,
    points: int | None = None,
    reward_id: uuid.UUID | None = None,
    institution: str = "alpha",
    now: datetime | None = None,
) -> Redemption:
    """A code shown and scanned at `now` (by default during the business date `day`), through
    the domain: what the API does on that day. Raises the DomainError of a refusal."""
    from jikuai.domain.points import redemption

    at = now or moment(day)
    issued = await redemption.create_code(
        actor=customer_actor(stack, customer_id, institution),
        codes_store=stack.services.cache,
        now=at,
    )
    async with db_session(stack) as session:
        redeemed = await redemption.redeem_points(
            redemption.RedeemPoints(
                code=issued.code,
                idempotency_key=uuid.uuid4().hex,
                points=points,
                reward_id=reward_id,
            ),
            actor=await cashier_actor(stack, merchant),
            unit_of_work=session.unit_of_work,
            codes_store=stack.services.cache,
            now=at + timedelta(seconds=1),
            today=day,
        )
    return redeemed.redemption

"""The baselines: two queries written by hand as plain Starlette + asyncpg, no GraphQL.

`POST /customer` with `{"id": <global id>}` does what the GraphQL field does: verify the bearer
token, decode the global ID, run the statement SQLAlchemy emits for the customer DataLoader,
check the viewer may see the row, decrypt and mask the three protected fields, compute the age
on the business date, and answer in the GraphQL response's shape.

`POST /customers-with-loans` with `{"first": 50, "after": <cursor or null>}` answers the
bench's `customers(first: 50)` query with each customer's loans (`bench/loans.py`): verify the
bearer token, read the page of `first + 1` customers with the statement SQLAlchemy emits for
`customers` (the same visibility filter: the staff member's institution, a customer's own row,
every institution for province staff), then the loans of the page's customers in one statement,
the one the loans DataLoader sends with `= ANY($1)` for its `IN` list; keep the loans the viewer
may read, decrypt and mask, compute ages, and write money, rates, dates, enums, global IDs and
cursors as the GraphQL response does, in its shape.

Served by uvicorn like the app:

    python -m uvicorn bench.handwritten:create_app --factory --no-access-log

It reads the app's own settings (`JIKUAI_DATABASE_URL`, `JIKUAI_DATA_DIR` or `JIKUAI_KEYS_DIR`,
`JIKUAI_DATABASE_POOL_SIZE`), so both servers run from one environment.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jikuai.config import Settings
from jikuai.domain.credit.access import CREDIT_STAFF
from jikuai.domain.shared.money import rate_form
from jikuai.domain.tenancy.model import PROVINCE_ROLES
from jikuai.security import (
    AccessClaims,
    AccessTokenCodec,
    FieldCipher,
    FieldContext,
    InvalidToken,
    KeyRing,
    mask_id_number,
    mask_name,
    mask_phone,
)

CUSTOMER_COLUMNS = (
    "customers.id, customers.institution_id, customers.segment, customers.name_ct, "
    "customers.id_number_ct, customers.phone_ct, customers.id_number_bidx, "
    "customers.phone_bidx, customers.key_id, customers.gender, customers.birth_date, "
    "customers.village_id, customers.referral_code, customers.referred_by_id, "
    "customers.registered_by_staff_id, customers.created_at, customers.updated_at"
)
# The statement the GraphQL path sends for one customer (its DataLoader, batch of one).
CUSTOMER_SQL = f"SELECT {CUSTOMER_COLUMNS} \nFROM customers \nWHERE customers.id IN ($1::UUID)"
# The loans DataLoader's statement for a page's customers (every column, as `select(loans)`),
# with `= ANY($1)` in place of its list of one parameter per customer.
LOANS_SQL = (
    "SELECT loans.id, loans.institution_id, loans.customer_id, loans.product_id, "
    "loans.application_id, loans.credit_line_id, loans.draw_key, loans.officer_id, "
    "loans.contract_no, loans.method, loans.principal, loans.annual_rate, loans.penalty_rate, "
    "loans.days_in_year, loans.grace_days, loans.allocation_order, loans.term_months, "
    "loans.term_days, loans.start_date, loans.maturity_date, loans.status, "
    "loans.outstanding_principal, loans.interest_accrued_to, loans.days_past_due, "
    "loans.classification, loans.classification_override, loans.closed_on, loans.created_at, "
    "loans.updated_at, loans.status_date, loans.version \n"
    "FROM loans \n"
    "WHERE loans.customer_id = ANY($1::UUID[]) ORDER BY loans.id"
)
BUSINESS_TIMEZONE = ZoneInfo("Asia/Shanghai")
PROVINCE = frozenset(role.value for role in PROVINCE_ROLES)
CREDIT_ROLES = frozenset(role.value for role in CREDIT_STAFF)
DEFAULT_PAGE = 20  # `customers(first:)` when not given
MAX_PAGE = 100  # a larger `first` is served as 100
MONEY_PLACES = 2
RATE_PLACES = 10


def page_sql(*, institution: bool, only: bool, after: bool) -> str:
    """The statement SQLAlchemy emits for a page of `customers`, for the filters given (in
    that order, then the limit)."""
    conditions: list[str] = []
    for column, operator, used in (
        ("customers.institution_id", "=", institution),
        ("customers.id", "=", only),
        ("customers.id", ">", after),
    ):
        if used:
            conditions.append(f"{column} {operator} ${len(conditions) + 1}::UUID")
    where = f"\nWHERE {' AND '.join(conditions)} " if conditions else ""
    return (
        f"SELECT {CUSTOMER_COLUMNS} \nFROM customers {where}ORDER BY customers.id \n"
        f" LIMIT ${len(conditions) + 1}::INTEGER"
    )


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://…` as the `postgresql://…` DSN asyncpg takes."""
    url = make_url(sqlalchemy_url)
    if not url.drivername.startswith("postgresql"):
        raise ValueError(f"the hand-written endpoint needs PostgreSQL, not {url.drivername}")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _error(code: str, message: str, field: str = "customer") -> Response:
    """A failure in the shape the GraphQL endpoint gives it (HTTP 200, `errors`); `customers`
    is not nullable, so its failure nulls `data`."""
    return JSONResponse(
        {
            "data": {"customer": None} if field == "customer" else None,
            "errors": [{"message": message, "path": [field], "extensions": {"code": code}}],
        }
    )


def _global_id(type_name: str, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{row_id}".encode()).decode()


def _cursor(row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(row_id.bytes).decode().rstrip("=")


def _from_cursor(cursor: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        return None


def _money(scaled: int) -> str:
    """A money column (an integer of fen) as the `Decimal` scalar writes it: "50000.00"."""
    return format(Decimal(scaled).scaleb(-MONEY_PLACES), "f")


def _rate(scaled: int) -> str:
    """A rate column (an integer of 10**-10) as the API shows it: "0.0380"."""
    return format(rate_form(Decimal(scaled).scaleb(-RATE_PLACES)), "f")


def _sees_credit(claims: AccessClaims, loan: asyncpg.Record) -> bool:
    """`sees_credit_of`: a customer their own loans, province staff all, credit staff their
    institution's."""
    if claims.actor_kind == "customer":
        return claims.customer_id is not None and claims.customer_id == str(loan["customer_id"])
    if claims.role in PROVINCE:
        return True
    return claims.role in CREDIT_ROLES and claims.institution_id == str(loan["institution_id"])


def _loan(row: asyncpg.Record) -> dict[str, Any]:
    start: date = row["start_date"]
    maturity: date = row["maturity_date"]
    return {
        "id": _global_id("Loan", row["id"]),
        "status": row["status"],
        "principal": _money(row["principal"]),
        "annualRate": _rate(row["annual_rate"]),
        "termMonths": row["term_months"],
        "startDate": start.isoformat(),
        "maturityDate": maturity.isoformat(),
        "outstandingPrincipal": _money(row["outstanding_principal"]),
    }


def _customer_uuid(global_id: object) -> uuid.UUID | None:
    if not isinstance(global_id, str):
        return None
    try:
        type_name, _, local = (
            base64.urlsafe_b64decode(global_id.encode("ascii")).decode().partition(":")
        )
        return uuid.UUID(local) if type_name == "Customer" else None
    except (ValueError, UnicodeError, binascii.Error):
        return None


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _may_see(claims: AccessClaims, row: asyncpg.Record) -> bool:
    if claims.actor_kind == "customer":
        return claims.customer_id is not None and claims.customer_id == str(row["id"])
    return claims.role in PROVINCE or claims.institution_id == str(row["institution_id"])


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    keyring = KeyRing.load(settings.key_directory)
    codec = AccessTokenCodec(keyring.token_signing_key)
    cipher = FieldCipher(keyring)
    dsn = asyncpg_dsn(settings.primary_database_url)
    pool_size = settings.database_pool_size
    state: dict[str, Any] = {}

    def reveal(row: asyncpg.Record, column: str, row_id: str) -> str:
        return cipher.decrypt(row[column], context=FieldContext("customers", column, row_id))

    async def customer(request: Request) -> Response:
        now = datetime.now(UTC)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error("UNAUTHENTICATED", "Authentication required")
        try:
            claims = codec.verify(token.strip(), now=now)
        except InvalidToken:
            return _error("UNAUTHENTICATED", "Authentication required")
        body = await request.json()
        customer_id = _customer_uuid(body.get("id") if isinstance(body, dict) else None)
        if customer_id is None:
            return _error("NOT_FOUND", "Not found")
        pool: asyncpg.Pool = state["pool"]
        row = await pool.fetchrow(CUSTOMER_SQL, customer_id)
        if row is None or not _may_see(claims, row):
            return _error("NOT_FOUND", "Not found")
        row_id = str(row["id"])
        today = now.astimezone(BUSINESS_TIMEZONE).date()
        return JSONResponse(
            {
                "data": {
                    "customer": {
                        "id": _global_id("Customer", row["id"]),
                        "nameMasked": mask_name(reveal(row, "name_ct", row_id)),
                        "phoneMasked": mask_phone(reveal(row, "phone_ct", row_id)),
                        "idNumberMasked": mask_id_number(reveal(row, "id_number_ct", row_id)),
                        "gender": row["gender"],
                        "age": _age(row["birth_date"], today),
                        "segment": row["segment"],
                        "createdAt": row["created_at"].astimezone(UTC).isoformat(),
                    }
                }
            }
        )

    page_statements: dict[tuple[bool, bool, bool], str] = {}

    def page_statement(institution: bool, only: bool, after: bool) -> str:
        key = (institution, only, after)
        found = page_statements.get(key)
        if found is None:
            found = page_statements[key] = page_sql(institution=institution, only=only, after=after)
        return found

    def page(edges: list[dict[str, Any]], has_next_page: bool) -> Response:
        return JSONResponse(
            {
                "data": {
                    "customers": {
                        "edges": edges,
                        "pageInfo": {
                            "hasNextPage": has_next_page,
                            "endCursor": edges[-1]["cursor"] if edges else None,
                        },
                    }
                }
            }
        )

    async def customers_with_loans(request: Request) -> Response:
        now = datetime.now(UTC)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error("UNAUTHENTICATED", "Authentication required", "customers")
        try:
            claims = codec.verify(token.strip(), now=now)
        except InvalidToken:
            return _error("UNAUTHENTICATED", "Authentication required", "customers")
        body = await request.json()
        first = body.get("first", DEFAULT_PAGE) if isinstance(body, dict) else DEFAULT_PAGE
        after = body.get("after") if isinstance(body, dict) else None
        after_id = _from_cursor(after) if isinstance(after, str) else None
        if (after is not None and after_id is None) or not isinstance(first, int) or first < 0:
            return _error("BAD_USER_INPUT", "Invalid input", "customers")
        # The visibility filter of `customer_page`: staff see their institution's customers
        # (province staff every institution's), a customer their own row.
        values: list[object] = []
        if claims.actor_kind == "staff":
            scope = None if claims.role in PROVINCE else claims.institution_id
            values += [uuid.UUID(scope)] if scope is not None else []
            statement = page_statement(scope is not None, False, after_id is not None)
        elif claims.actor_kind == "customer":
            if claims.customer_id is None:
                return page([], False)  # not registered yet: nothing to see
            values.append(uuid.UUID(claims.customer_id))
            statement = page_statement(False, True, after_id is not None)
        else:
            return _error("FORBIDDEN", "Not allowed", "customers")
        if after_id is not None:
            values.append(after_id)
        limit = min(first, MAX_PAGE)
        loans: dict[uuid.UUID, list[dict[str, Any]]] = {}
        pool: asyncpg.Pool = state["pool"]
        async with pool.acquire() as connection:
            found = await connection.fetch(statement, *values, limit + 1)
            rows = found[:limit]
            if rows:
                for loan in await connection.fetch(LOANS_SQL, [row["id"] for row in rows]):
                    if _sees_credit(claims, loan):
                        loans.setdefault(loan["customer_id"], []).append(_loan(loan))
        today = now.astimezone(BUSINESS_TIMEZONE).date()
        edges = []
        for row in rows:
            row_id = str(row["id"])
            edges.append(
                {
                    "cursor": _cursor(row["id"]),
                    "node": {
                        "id": _global_id("Customer", row["id"]),
                        "segment": row["segment"],
                        "age": _age(row["birth_date"], today),
                        "nameMasked": mask_name(reveal(row, "name_ct", row_id)),
                        "phoneMasked": mask_phone(reveal(row, "phone_ct", row_id)),
                        "idNumberMasked": mask_id_number(reveal(row, "id_number_ct", row_id)),
                        "loans": loans.get(row["id"], []),
                    },
                }
            )
        return page(edges, len(found) > limit)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
        try:
            yield
        finally:
            await state.pop("pool").close()

    return Starlette(
        routes=[
            Route("/customer", customer, methods=["POST"]),
            Route("/customers-with-loans", customers_with_loans, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )

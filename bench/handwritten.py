"""The baseline: `customer(id)` written by hand as plain Starlette + asyncpg, no GraphQL.

`POST /customer` with `{"id": <global id>}` does what the GraphQL field does: verify the bearer
token, decode the global ID, run the statement SQLAlchemy emits for the customer DataLoader,
check the viewer may see the row, decrypt and mask the three protected fields, compute the age
on the business date, and answer in the GraphQL response's shape. Served by uvicorn like the app:

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
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jikuai.config import Settings
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

# The statement the GraphQL path sends for one customer (its DataLoader, batch of one).
CUSTOMER_SQL = (
    "SELECT customers.id, customers.institution_id, customers.segment, customers.name_ct, "
    "customers.id_number_ct, customers.phone_ct, customers.id_number_bidx, "
    "customers.phone_bidx, customers.key_id, customers.gender, customers.birth_date, "
    "customers.village_id, customers.referral_code, customers.referred_by_id, "
    "customers.registered_by_staff_id, customers.created_at, customers.updated_at \n"
    "FROM customers \n"
    "WHERE customers.id IN ($1::UUID)"
)
BUSINESS_TIMEZONE = ZoneInfo("Asia/Shanghai")
PROVINCE_ROLE = "PROVINCE_ADMIN"


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://…` as the `postgresql://…` DSN asyncpg takes."""
    url = make_url(sqlalchemy_url)
    if not url.drivername.startswith("postgresql"):
        raise ValueError(f"the hand-written endpoint needs PostgreSQL, not {url.drivername}")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _error(code: str, message: str) -> Response:
    """A failure in the shape the GraphQL endpoint gives it (HTTP 200, `errors`)."""
    return JSONResponse(
        {
            "data": {"customer": None},
            "errors": [{"message": message, "path": ["customer"], "extensions": {"code": code}}],
        }
    )


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
    return claims.role == PROVINCE_ROLE or claims.institution_id == str(row["institution_id"])


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
                        "id": base64.urlsafe_b64encode(f"Customer:{row_id}".encode()).decode(),
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
        routes=[Route("/customer", customer, methods=["POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )

"""Service accounts: the bank's own systems (core banking, the card system) that report points
events, each bound to one institution and signing in with client credentials."""

from __future__ import annotations

from datetime import datetime

from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.model import ServiceClient
from jikuai.security import hash_secret, new_secret

MAX_NAME = 64


async def create_service_client(
    uow: UnitOfWork,
    *,
    name: str,
    institution_code: str,
    now: datetime,
    secret: str | None = None,
) -> tuple[ServiceClient, str]:
    """A new service account and its secret, which is shown once and kept only as a hash.
    `secret` is for the demo's well-known credentials; otherwise a random one is made."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isascii():
        raise DomainError(ErrorCode.REQUIRED, field=("name",))
    secret = secret or new_secret()
    async with uow:
        institution = await uow.tenancy.institution_by_code(institution_code)
        if institution is None or not institution.accepts_customers:
            raise DomainError(ErrorCode.INVALID_INSTITUTION, field=("institution",))
        client = ServiceClient(
            id=new_id(),
            institution_id=institution.id,
            name=name,
            secret_hash=hash_secret(secret),
            active=True,
            created_at=now,
        )
        if not await uow.identity.add_service_client(client):
            raise DomainError(ErrorCode.USERNAME_TAKEN, field=("name",))
        await uow.commit()
    return client, secret

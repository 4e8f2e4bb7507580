"""Signing in and out, and the transport key clients seal with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jikuai.domain.identity.services import IssuedTokens
from jikuai.domain.shared.errors import DomainError
from jikuai.domain.tenancy.model import Staff
from jikuai.resolvers.context import Context
from jikuai.security.envelope import CONTENT_ENCRYPTION, KEY_ALGORITHM


@dataclass(frozen=True, slots=True)
class SignIn:
    tokens: IssuedTokens | None = None
    staff: Staff | None = None
    errors: list[DomainError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TransportKeyView:
    key_id: str
    algorithm: str
    public_key_pem: str
    public_key_jwk: dict[str, Any]
    expires_at: datetime


async def staff_login(context: Context, *, username: str, password: str) -> SignIn:
    try:
        tokens, staff = await context.services.authenticator.staff_login(
            context.db.unit_of_work(), username=username, password=password, now=context.now
        )
    except DomainError as error:
        return SignIn(errors=[error])
    return SignIn(tokens=tokens, staff=staff)


async def wechat_login(context: Context, *, code: str) -> SignIn:
    try:
        tokens = await context.services.authenticator.wechat_login(
            context.db.unit_of_work(), code=code, exchange=context.services.wechat, now=context.now
        )
    except DomainError as error:
        return SignIn(errors=[error])
    return SignIn(tokens=tokens)


async def client_login(context: Context, *, client_id: str, client_secret: str) -> SignIn:
    try:
        tokens = await context.services.authenticator.client_login(
            context.db.unit_of_work(),
            client_id=client_id,
            client_secret=client_secret,
            now=context.now,
        )
    except DomainError as error:
        return SignIn(errors=[error])
    return SignIn(tokens=tokens)


async def refresh(context: Context, *, refresh_token: str) -> SignIn:
    try:
        tokens = await context.services.authenticator.refresh(
            context.db.unit_of_work(), refresh_token=refresh_token, now=context.now
        )
    except DomainError as error:
        return SignIn(errors=[error])
    return SignIn(tokens=tokens)


async def logout(context: Context, *, refresh_token: str) -> None:
    await context.services.authenticator.logout(
        context.db.unit_of_work(), refresh_token=refresh_token, now=context.now
    )


def envelope_key(context: Context) -> TransportKeyView:
    """The primary transport key. A client may cache it until `expires_at`: an envelope sealed
    by then still opens, because a rotated key stays usable for the retirement window."""
    key = context.services.keyring.primary_transport_key
    return TransportKeyView(
        key_id=key.kid,
        algorithm=f"{KEY_ALGORITHM}+{CONTENT_ENCRYPTION}",
        public_key_pem=key.public_key_pem,
        public_key_jwk=dict(key.public_jwk),
        expires_at=context.now + context.services.settings.transport_key_retirement,
    )

"""Signing in (登录), the viewer, and the key clients seal sensitive fields with."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jikuai.domain.tenancy.actors import ActorKind
from jikuai.domain.tenancy.model import Role
from jikuai.resolvers import identity as resolve
from jikuai.resolvers import tenancy as resolve_tenancy
from jikuai.resolvers.context import Context
from jikuai.schema.customers import Customer, customer_or_none
from jikuai.schema.errors import UserError, user_errors
from jikuai.schema.tenancy import Institution, Staff


@strawberry.type(description="The digital-envelope transport key (数字信封公钥).")
class EnvelopeKey:
    key_id: str = strawberry.field(description="Put it in the JWE header as `kid`.")
    algorithm: str = strawberry.field(description='Always "RSA-OAEP-256+A256GCM".')
    public_key_pem: str = strawberry.field(description="RSA public key, SubjectPublicKeyInfo PEM.")
    public_key_jwk: JSON = strawberry.field(description="The same key as a JWK (RFC 7517).")
    expires_at: datetime.datetime = strawberry.field(
        description="Cache the key until then; envelopes sealed before it still open."
    )


@strawberry.type(description="Who is signed in: a staff member or a (possibly new) customer.")
class Viewer:
    kind: ActorKind = strawberry.field(description="Staff member or customer.")
    role: Role = strawberry.field(description="The actor's role.")
    staff: Staff | None = strawberry.field(description="The staff member, for staff.")
    customer: Customer | None = strawberry.field(
        description="The customer, once a WeChat user has registered."
    )
    registered: bool = strawberry.field(
        description="False for a WeChat user yet to register; true for everyone else."
    )
    _institution_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The viewer's institution, if any.")
    async def institution(self, info: Info[Context, None]) -> Institution | None:
        if self._institution_id is None:
            return None
        found = await resolve_tenancy.institution(info.context, self._institution_id)
        return Institution.of(found)


@strawberry.type(description="What every sign-in returns.")
class SignInPayload:
    access_token: str | None = strawberry.field(
        description="Bearer token for the API, short-lived."
    )
    refresh_token: str | None = strawberry.field(description="Use once with `refreshToken`.")
    expires_at: datetime.datetime | None = strawberry.field(
        description="When the access token expires."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


def sign_in_fields(result: resolve.SignIn, language: str) -> dict[str, Any]:
    """The fields every `SignInPayload` shares, from a sign-in's result."""
    tokens = result.tokens
    return {
        "access_token": tokens.access_token if tokens else None,
        "refresh_token": tokens.refresh_token if tokens else None,
        "expires_at": tokens.expires_at if tokens else None,
        "user_errors": user_errors(result.errors, language),
    }


@strawberry.type(description="Tokens for a staff member.")
class StaffLoginPayload(SignInPayload):
    staff: Staff | None = strawberry.field(description="Who signed in, on success.")


@strawberry.type(description="Tokens for a mini-program user.")
class WechatLoginPayload(SignInPayload):
    registered: bool = strawberry.field(description="False until the user registers as a customer.")
    viewer: Viewer | None = strawberry.field(description="Who signed in, on success.")


@strawberry.type(
    description="An access token for a service account; no refresh token: sign in again."
)
class ClientLoginPayload(SignInPayload):
    pass


@strawberry.type(description="A new access token and the refresh token to use next time.")
class RefreshTokenPayload(SignInPayload):
    pass


@strawberry.type(description="Result of `logout`.")
class LogoutPayload:
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="Staff credentials.")
class StaffLoginInput:
    username: str = strawberry.field(description="Sign-in name.")
    password: str = strawberry.field(description="Password; never stored or returned.")


@strawberry.input(description="A service account's client credentials.")
class ClientLoginInput:
    client_id: str = strawberry.field(description="The name given to `jikuai clients create`.")
    client_secret: str = strawberry.field(description="The secret it printed.")


@strawberry.input(description="A mini-program login code.")
class WechatLoginInput:
    code: str = strawberry.field(description="From `wx.login()`; single use, valid 5 minutes.")


@strawberry.input(description="The refresh token of the last sign-in or refresh.")
class RefreshTokenInput:
    refresh_token: str = strawberry.field(description="Opaque refresh token.")


@strawberry.input(description="The login to end.")
class LogoutInput:
    refresh_token: str = strawberry.field(description="Its current refresh token.")


async def _viewer(context: Context) -> Viewer:
    found = await resolve_tenancy.viewer(context)
    return Viewer(
        kind=found.actor.kind,
        role=found.actor.role,
        staff=Staff.of(found.staff) if found.staff else None,
        customer=customer_or_none(found.customer, context),
        registered=not found.actor.is_customer or found.customer is not None,
        _institution_id=found.actor.institution_id,
    )


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="The signed-in actor.")
    async def me(self, info: Info[Context, None]) -> Viewer:
        return await _viewer(info.context)

    @strawberry.field(description="The public key to seal sensitive fields with (public).")
    def envelope_key(self, info: Info[Context, None]) -> EnvelopeKey:
        key = resolve.envelope_key(info.context)
        return EnvelopeKey(
            key_id=key.key_id,
            algorithm=key.algorithm,
            public_key_pem=key.public_key_pem,
            public_key_jwk=JSON(key.public_key_jwk),
            expires_at=key.expires_at,
        )


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Staff sign-in with username and password (员工登录).")
    async def staff_login(
        self, info: Info[Context, None], input: StaffLoginInput
    ) -> StaffLoginPayload:
        result = await resolve.staff_login(
            info.context, username=input.username, password=input.password
        )
        return StaffLoginPayload(
            staff=Staff.of(result.staff) if result.staff else None,
            **sign_in_fields(result, info.context.language),
        )

    @strawberry.mutation(description="Mini-program sign-in with a `wx.login()` code (微信登录).")
    async def wechat_login(
        self, info: Info[Context, None], input: WechatLoginInput
    ) -> WechatLoginPayload:
        context = info.context
        result = await resolve.wechat_login(context, code=input.code)
        tokens = result.tokens
        viewer = None
        if tokens is not None:
            context.sign_in_as(tokens.actor)
            viewer = await _viewer(context)
        return WechatLoginPayload(
            registered=bool(tokens and tokens.actor.customer_id),
            viewer=viewer,
            **sign_in_fields(result, context.language),
        )

    @strawberry.mutation(
        description="Sign-in of one of the bank's systems with client credentials (服务账号)."
    )
    async def client_login(
        self, info: Info[Context, None], input: ClientLoginInput
    ) -> ClientLoginPayload:
        result = await resolve.client_login(
            info.context, client_id=input.client_id, client_secret=input.client_secret
        )
        return ClientLoginPayload(**sign_in_fields(result, info.context.language))

    @strawberry.mutation(description="Exchange a refresh token for new tokens (it is used up).")
    async def refresh_token(
        self, info: Info[Context, None], input: RefreshTokenInput
    ) -> RefreshTokenPayload:
        result = await resolve.refresh(info.context, refresh_token=input.refresh_token)
        return RefreshTokenPayload(**sign_in_fields(result, info.context.language))

    @strawberry.mutation(description="Sign out: the refresh token and its successors stop working.")
    async def logout(self, info: Info[Context, None], input: LogoutInput) -> LogoutPayload:
        await resolve.logout(info.context, refresh_token=input.refresh_token)
        return LogoutPayload(user_errors=[])

"""Signing in and out: staff passwords, WeChat logins, token refresh and logout.

An access token is short-lived and verified without the database. A refresh token is opaque,
stored only as its hash, and used once: each refresh issues a new one in the same family.
Presenting a refresh token that was already used is taken as theft and revokes the family.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Generic, TypeVar

from jikuai.domain.identity.model import RefreshToken, WeChatAccount
from jikuai.domain.identity.ports import Counters, WeChatCodeExchange, WeChatIdentity
from jikuai.domain.merchants.model import MerchantOperator
from jikuai.domain.ports import Repositories, UnitOfWork
from jikuai.domain.shared.batches import Progress, rewrite_in_batches
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor, ActorKind
from jikuai.domain.tenancy.model import Role, Staff
from jikuai.security import (
    AccessClaims,
    AccessTokenCodec,
    FieldCipher,
    FieldContext,
    InvalidToken,
    PasswordHasher,
    hash_secret,
    new_secret,
)

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    access_lifetime: timedelta
    refresh_lifetime: timedelta
    max_failures: int
    lockout: timedelta


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None  # none for a service account
    expires_at: datetime
    actor: Actor


@dataclass(frozen=True, slots=True)
class _Credential(Generic[P]):
    """Who a password sign-in found: the record, the actor it signs in as, its stored hash."""

    principal: P
    actor: Actor
    password_hash: str
    active: bool
    rehash: Callable[[uuid.UUID, str], Awaitable[None]]


class Authenticator:
    """Issues and checks tokens; one per process, shared by every request."""

    def __init__(
        self,
        *,
        codec: AccessTokenCodec,
        passwords: PasswordHasher,
        counters: Counters,
        cipher: FieldCipher,
        policy: SignInPolicy,
        wechat_app_id: str,
    ) -> None:
        self._codec = codec
        self._passwords = passwords
        self._counters = counters
        self._cipher = cipher
        self._policy = policy
        self._wechat_app_id = wechat_app_id

    def actor_from_access_token(self, token: str, *, now: datetime) -> Actor:
        """The actor an access token names; raises InvalidToken."""
        return _actor(self._codec.verify(token, now=now))

    async def staff_login(
        self, uow: UnitOfWork, *, username: str, password: str, now: datetime
    ) -> tuple[IssuedTokens, Staff]:
        async def staff_of(name: str) -> _Credential[Staff] | None:
            staff = await uow.tenancy.staff_by_username(name)
            if staff is None:
                return None
            return _Credential(
                staff,
                Actor.of_staff(staff),
                staff.password_hash,
                staff.active,
                uow.tenancy.set_staff_password_hash,
            )

        return await self._password_login(uow, staff_of, username, password, now)

    async def merchant_login(
        self, uow: UnitOfWork, *, username: str, password: str, now: datetime
    ) -> tuple[IssuedTokens, MerchantOperator]:
        """A cashier's sign-in to the merchant app; tokens act only for their merchant."""

        async def operator_of(name: str) -> _Credential[MerchantOperator] | None:
            operator = await uow.merchants.operator_by_username(name)
            if operator is None:
                return None
            return _Credential(
                operator,
                Actor.of_operator(operator),
                operator.password_hash,
                operator.active,
                uow.merchants.set_operator_password_hash,
            )

        return await self._password_login(uow, operator_of, username, password, now)

    async def client_login(
        self, uow: UnitOfWork, *, client_id: str, client_secret: str, now: datetime
    ) -> IssuedTokens:
        """A service account's sign-in with client credentials: an access token only, as in the
        OAuth client-credentials grant; the system signs in again when it expires."""
        async with uow:
            client = await uow.identity.service_client_by_name(client_id.strip())
            if (
                client is None
                or not client.active
                or not secrets.compare_digest(client.secret_hash, hash_secret(client_secret))
            ):
                raise DomainError(ErrorCode.INVALID_CREDENTIALS)
        actor = Actor.of_service(client)
        access_token, claims = self._access_token(actor, now)
        return IssuedTokens(access_token, None, claims.expires_at, actor)

    async def _password_login(
        self,
        uow: UnitOfWork,
        find: Callable[[str], Awaitable[_Credential[P] | None]],
        username: str,
        password: str,
        now: datetime,
    ) -> tuple[IssuedTokens, P]:
        # Attempts are counted before the password is checked, so a burst of concurrent guesses
        # cannot all pass the check; a success clears the count.
        attempts_key = f"login-attempts:{username.strip().lower()}"
        attempts = await self._counters.increment(
            attempts_key, ttl_seconds=int(self._policy.lockout.total_seconds())
        )
        if attempts > self._policy.max_failures:
            raise DomainError(ErrorCode.LOGIN_THROTTLED)
        async with uow:
            found = await find(username.strip())
            password_hash = found.password_hash if found and found.active else None
            # Unknown users are checked against a dummy hash: the answer takes as long. The
            # hash is deliberately slow, so it runs off the event loop.
            verified = await asyncio.to_thread(self._passwords.verify, password_hash, password)
            if found is None or not verified:
                raise DomainError(ErrorCode.INVALID_CREDENTIALS)
            await self._counters.delete(attempts_key)
            if self._passwords.needs_rehash(found.password_hash):
                rehashed = await asyncio.to_thread(self._passwords.hash, password)
                await found.rehash(found.actor.id, rehashed)
            tokens = await self._issue(uow, found.actor, family_id=new_id(), now=now)
            await uow.commit()
        return tokens, found.principal

    async def wechat_login(
        self, uow: UnitOfWork, *, code: str, exchange: WeChatCodeExchange, now: datetime
    ) -> IssuedTokens:
        identity = await exchange(code)
        async with uow:
            # Two first logins of one user can race; the loser finds the winner's account.
            account = await self._record_wechat_login(uow, identity, now)
            account = account or await self._record_wechat_login(uow, identity, now)
            if account is None:
                raise RuntimeError(f"WeChat account {identity.openid} neither found nor saved")
            actor = await _customer_actor(uow, account.id, account.customer_id)
            tokens = await self._issue(uow, actor, family_id=new_id(), now=now)
            await uow.commit()
        return tokens

    async def _record_wechat_login(
        self, uow: UnitOfWork, identity: WeChatIdentity, now: datetime
    ) -> WeChatAccount | None:
        """The user's account with this login recorded; None if a concurrent login created it."""
        known = await uow.identity.wechat_account(self._wechat_app_id, identity.openid)
        account_id = known.id if known else new_id()
        account = WeChatAccount(
            id=account_id,
            app_id=self._wechat_app_id,
            openid=identity.openid,
            unionid=identity.unionid or (known.unionid if known else None),
            session_key_ct=self._cipher.encrypt(
                identity.session_key, context=_session_key_context(account_id)
            ),
            key_id=self._cipher.primary_key_id,
            customer_id=known.customer_id if known else None,
            created_at=known.created_at if known else now,
            last_login_at=now,
        )
        saved = await uow.identity.save_wechat_account(account)
        return account if saved else None

    async def refresh(self, uow: UnitOfWork, *, refresh_token: str, now: datetime) -> IssuedTokens:
        async with uow:
            stored = await uow.identity.refresh_token_for_update(hash_secret(refresh_token))
            if stored is None:
                raise DomainError(ErrorCode.INVALID_REFRESH_TOKEN)
            if not stored.is_live(now) and stored.used_at is None:
                raise DomainError(ErrorCode.INVALID_REFRESH_TOKEN)  # expired or logged out
            # A token used before, or by a concurrent request now, was copied: end the login.
            if stored.used_at is not None or not await uow.identity.mark_refresh_token_used(
                stored.id, now
            ):
                await uow.identity.revoke_refresh_family(stored.family_id, now)
                await uow.commit()
                raise DomainError(ErrorCode.INVALID_REFRESH_TOKEN)
            actor = await self._current_actor(uow, stored)
            tokens = await self._issue(uow, actor, family_id=stored.family_id, now=now)
            await uow.commit()
        return tokens

    async def logout(self, uow: UnitOfWork, *, refresh_token: str, now: datetime) -> None:
        """Revoke the login (the refresh token's family). Unknown tokens are ignored."""
        async with uow:
            stored = await uow.identity.refresh_token_for_update(hash_secret(refresh_token))
            if stored is not None:
                await uow.identity.revoke_refresh_family(stored.family_id, now)
                await uow.commit()

    async def _current_actor(self, uow: UnitOfWork, stored: RefreshToken) -> Actor:
        """The actor as the database has it now, so a refresh picks up role or binding changes."""
        if stored.actor_kind is ActorKind.STAFF:
            found = await uow.tenancy.staff_by_id([stored.actor_id])
            if not found or not found[0].active:
                raise DomainError(ErrorCode.INVALID_REFRESH_TOKEN)
            return Actor.of_staff(found[0])
        if stored.actor_kind is ActorKind.MERCHANT:
            operators = await uow.merchants.operators_by_id([stored.actor_id])
            if not operators or not operators[0].active:
                raise DomainError(ErrorCode.INVALID_REFRESH_TOKEN)
            return Actor.of_operator(operators[0])
        actor = await registered_actor(uow, stored.actor_id)
        if actor is None:
            raise DomainError(ErrorCode.INVALID_REFRESH_TOKEN)
        return actor

    async def _issue(
        self, uow: UnitOfWork, actor: Actor, *, family_id: uuid.UUID, now: datetime
    ) -> IssuedTokens:
        access_token, claims = self._access_token(actor, now)
        refresh_token = new_secret()
        await uow.identity.add_refresh_token(
            RefreshToken(
                id=new_id(),
                token_hash=hash_secret(refresh_token),
                family_id=family_id,
                actor_kind=actor.kind,
                actor_id=actor.id,
                expires_at=now + self._policy.refresh_lifetime,
                created_at=now,
            )
        )
        return IssuedTokens(access_token, refresh_token, claims.expires_at, actor)

    def _access_token(self, actor: Actor, now: datetime) -> tuple[str, AccessClaims]:
        return self._codec.issue(
            subject=str(actor.id),
            actor_kind=actor.kind.value,
            role=actor.role.value,
            institution_id=_str_or_none(actor.institution_id),
            customer_id=_str_or_none(actor.customer_id),
            merchant_id=_str_or_none(actor.merchant_id),
            now=now,
            lifetime=self._policy.access_lifetime,
        )


async def reencrypt_session_keys(
    *,
    unit_of_work: Callable[[], UnitOfWork],
    cipher: FieldCipher,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    """Re-encrypt every stored WeChat session key not yet under the current data key."""
    key_id = cipher.primary_key_id

    async def rewrite(uow: UnitOfWork, account: WeChatAccount) -> None:
        context = _session_key_context(account.id)
        session_key = cipher.decrypt(account.session_key_ct, context=context)
        account.session_key_ct = cipher.encrypt(session_key, context=context)
        account.key_id = key_id
        await uow.identity.save_wechat_account(account)

    return await rewrite_in_batches(
        unit_of_work=unit_of_work,
        count=lambda uow: uow.identity.count_wechat_accounts_under_other_keys(key_id),
        fetch=lambda uow, limit: uow.identity.wechat_accounts_under_other_keys(key_id, limit=limit),
        rewrite=rewrite,
        batch_size=batch_size,
        progress=progress,
    )


def _session_key_context(account_id: uuid.UUID) -> FieldContext:
    return FieldContext("wechat_accounts", "session_key_ct", str(account_id))


async def registered_actor(repositories: Repositories, account_id: uuid.UUID) -> Actor | None:
    """The customer actor of a WeChat account as stored now: bound to its customer once the
    user has registered. None for an unknown account."""
    account = await repositories.identity.wechat_account_by_id(account_id)
    if account is None:
        return None
    return await _customer_actor(repositories, account.id, account.customer_id)


async def _customer_actor(
    repositories: Repositories, account_id: uuid.UUID, customer_id: uuid.UUID | None
) -> Actor:
    institution_id = None
    if customer_id is not None:
        found = await repositories.customers.by_id([customer_id], institution_id=None)
        institution_id = found[0].institution_id if found else None
    return Actor(
        kind=ActorKind.CUSTOMER,
        id=account_id,
        role=Role.CUSTOMER,
        institution_id=institution_id,
        customer_id=customer_id,
    )


@lru_cache(maxsize=4096)
def _actor(claims: AccessClaims) -> Actor:
    """The actor verified claims name; a client sends the same token many times."""
    try:
        return Actor(
            kind=ActorKind(claims.actor_kind),
            id=uuid.UUID(claims.subject),
            role=Role(claims.role),
            institution_id=_uuid_or_none(claims.institution_id),
            customer_id=_uuid_or_none(claims.customer_id),
            merchant_id=_uuid_or_none(claims.merchant_id),
        )
    except ValueError:
        raise InvalidToken("token invalid") from None


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def _str_or_none(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Row, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.identity.model import AuditEvent, RefreshToken, WeChatAccount
from jikuai.domain.tenancy.actors import ActorKind
from jikuai.domain.tenancy.model import ServiceClient
from jikuai.persistence.tables.identity import (
    audit_events,
    refresh_tokens,
    service_clients,
    wechat_accounts,
)


class SqlIdentityRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def wechat_account(self, app_id: str, openid: str) -> WeChatAccount | None:
        query = select(wechat_accounts).where(
            wechat_accounts.c.app_id == app_id, wechat_accounts.c.openid == openid
        )
        row = (await self._connection.execute(query)).first()
        return WeChatAccount(**row._mapping) if row else None

    async def wechat_account_by_id(self, account_id: uuid.UUID) -> WeChatAccount | None:
        query = select(wechat_accounts).where(wechat_accounts.c.id == account_id)
        row = (await self._connection.execute(query)).first()
        return WeChatAccount(**row._mapping) if row else None

    async def save_wechat_account(self, account: WeChatAccount) -> bool:
        """Insert a new account, or record a new login (session key, unionid, time).

        False when a concurrent first login of the same openid inserted its row first.
        """
        updated = await self._connection.execute(
            update(wechat_accounts)
            .where(wechat_accounts.c.id == account.id)
            .values(
                unionid=account.unionid,
                session_key_ct=account.session_key_ct,
                key_id=account.key_id,
                last_login_at=account.last_login_at,
            )
        )
        if updated.rowcount == 1:
            return True
        inserted = await self._connection.execute(
            insert_unless_exists(
                self._connection, wechat_accounts, asdict(account), ["app_id", "openid"]
            )
        )
        return inserted.rowcount == 1

    async def bind_wechat_account(self, account_id: uuid.UUID, customer_id: uuid.UUID) -> bool:
        result = await self._connection.execute(
            update(wechat_accounts)
            .where(wechat_accounts.c.id == account_id, wechat_accounts.c.customer_id.is_(None))
            .values(customer_id=customer_id)
        )
        return result.rowcount == 1

    async def wechat_accounts_under_other_keys(
        self, key_id: int, *, limit: int
    ) -> Sequence[WeChatAccount]:
        query = (
            select(wechat_accounts)
            .where(wechat_accounts.c.key_id != key_id)
            .order_by(wechat_accounts.c.id)
            .limit(limit)
        )
        return [WeChatAccount(**row._mapping) for row in await self._connection.execute(query)]

    async def count_wechat_accounts_under_other_keys(self, key_id: int) -> int:
        query = (
            select(func.count())
            .select_from(wechat_accounts)
            .where(wechat_accounts.c.key_id != key_id)
        )
        return int(await self._connection.scalar(query) or 0)

    async def add_refresh_token(self, token: RefreshToken) -> None:
        values = asdict(token) | {"actor_kind": token.actor_kind.value}
        await self._connection.execute(insert(refresh_tokens).values(**values))

    async def refresh_token_for_update(self, token_hash: bytes) -> RefreshToken | None:
        query = (
            select(refresh_tokens)
            .where(refresh_tokens.c.token_hash == token_hash)
            .with_for_update()
        )
        row = (await self._connection.execute(query)).first()
        return _refresh_token(row) if row else None

    async def mark_refresh_token_used(self, token_id: uuid.UUID, at: datetime) -> bool:
        """Use a live token once; False when another request used or revoked it first."""
        result = await self._connection.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.id == token_id,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(used_at=at)
        )
        return result.rowcount == 1

    async def revoke_refresh_family(self, family_id: uuid.UUID, at: datetime) -> None:
        await self._connection.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def delete_expired_refresh_tokens(self, now: datetime) -> int:
        deleted = await self._connection.execute(
            delete(refresh_tokens).where(refresh_tokens.c.expires_at <= now)
        )
        return deleted.rowcount

    async def service_client_by_name(self, name: str) -> ServiceClient | None:
        query = select(service_clients).where(service_clients.c.name == name)
        row = (await self._connection.execute(query)).first()
        return ServiceClient(**row._mapping) if row else None

    async def add_service_client(self, client: ServiceClient) -> bool:
        """Insert; False when the name is taken."""
        inserted = await self._connection.execute(
            insert_unless_exists(self._connection, service_clients, asdict(client), ["name"])
        )
        return inserted.rowcount == 1

    async def add_audit_event(self, event: AuditEvent) -> None:
        values = asdict(event) | {"actor_kind": event.actor_kind.value}
        await self._connection.execute(insert(audit_events).values(**values))


def insert_unless_exists(
    connection: AsyncConnection, table: Table, values: dict[str, Any], unique: list[str]
) -> Executable:
    """INSERT … ON CONFLICT (unique) DO NOTHING, on PostgreSQL and SQLite alike."""
    if connection.dialect.name == "postgresql":
        return (
            postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=unique)
        )
    return sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=unique)


def _refresh_token(row: Row[Any]) -> RefreshToken:
    values = dict(row._mapping)
    return RefreshToken(**values | {"actor_kind": ActorKind(values["actor_kind"])})

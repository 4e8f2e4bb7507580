"""Repositories of merchants, their cashiers and their benefits.

Stock changes only through conditional updates: an item is taken only while one is left, so two
redemptions of the last item cannot both have it and stock never goes below zero.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.merchants.model import (
    Merchant,
    MerchantCategory,
    MerchantOperator,
    MerchantStatus,
    Reward,
    RewardFilter,
    RewardKind,
)
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.persistence.repositories.identity import insert_unless_exists
from jikuai.persistence.tables.merchants import merchant_operators, merchants, rewards

_MERCHANTS_BY_ID = select(merchants).where(merchants.c.id.in_(bindparam("ids", expanding=True)))
_LOCK = (
    select(merchants.c.id).where(merchants.c.id == bindparam("id")).with_for_update(key_share=True)
)
_TOUCH = update(merchants).where(merchants.c.id == bindparam("id")).values(id=merchants.c.id)
_STATUS_COLUMNS = ("status", "status_reason", "onboarded_by", "reviewed_by", "reviewed_at")
_SAVE_STATUS = (
    update(merchants)
    .where(merchants.c.id == bindparam("key"))
    .values({column: bindparam(column + "_") for column in (*_STATUS_COLUMNS, "updated_at")})
)
_OPERATORS_BY_ID = select(merchant_operators).where(
    merchant_operators.c.id.in_(bindparam("ids", expanding=True))
)
_OPERATOR_BY_USERNAME = select(merchant_operators).where(
    merchant_operators.c.username == bindparam("username")
)
_OPERATORS_OF = (
    select(merchant_operators)
    .where(merchant_operators.c.merchant_id.in_(bindparam("ids", expanding=True)))
    .order_by(merchant_operators.c.merchant_id, merchant_operators.c.id)
)
_SET_PASSWORD_HASH = (
    update(merchant_operators)
    .where(merchant_operators.c.id == bindparam("key"))
    .values(password_hash=bindparam("hash"))
)

_REWARDS_BY_ID = select(rewards).where(rewards.c.id.in_(bindparam("ids", expanding=True)))
_EDITABLE = (
    "name",
    "description",
    "kind",
    "price_points",
    "stock",
    "per_customer_limit",
    "valid_from",
    "valid_until",
    "active",
    "updated_at",
)
_SAVE_REWARD = (
    update(rewards)
    .where(rewards.c.id == bindparam("key"))
    .values({column: bindparam(column + "_") for column in _EDITABLE})
)
_TAKE_STOCK = (
    update(rewards)
    .where(rewards.c.id == bindparam("key"), or_(rewards.c.stock.is_(None), rewards.c.stock > 0))
    .values(stock=rewards.c.stock - 1)
)
_RETURN_STOCK = (
    update(rewards)
    .where(rewards.c.id == bindparam("key"), rewards.c.stock.is_not(None))
    .values(stock=rewards.c.stock + 1)
)


class SqlMerchantRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, merchant: Merchant) -> None:
        """Insert; MERCHANT_EXISTS when the institution already knows the USCC."""
        added = await self._connection.execute(
            insert_unless_exists(
                self._connection, merchants, asdict(merchant), ["institution_id", "uscc"]
            )
        )
        if added.rowcount != 1:
            raise DomainError(ErrorCode.MERCHANT_EXISTS, field=("uscc",))

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Merchant]:
        rows = await self._connection.execute(_MERCHANTS_BY_ID, {"ids": list(ids)})
        return [_merchant(row) for row in rows]

    async def lock(self, merchant_id: uuid.UUID) -> None:
        """A row lock on PostgreSQL; on SQLite a no-op write takes the database's write lock
        (see `SqlCustomerRepository.lock`)."""
        sqlite = self._connection.dialect.name == "sqlite"
        await self._connection.execute(_TOUCH if sqlite else _LOCK, {"id": merchant_id})

    async def encrypted_under_other_keys(self, key_id: int, *, limit: int) -> Sequence[Merchant]:
        query = (
            select(merchants)
            .where(merchants.c.key_id != key_id)
            .order_by(merchants.c.id)
            .limit(limit)
        )
        return [_merchant(row) for row in await self._connection.execute(query)]

    async def count_encrypted_under_other_keys(self, key_id: int) -> int:
        query = select(func.count()).select_from(merchants).where(merchants.c.key_id != key_id)
        return int(await self._connection.scalar(query) or 0)

    async def replace_ciphertexts(self, merchant: Merchant) -> None:
        await self._connection.execute(
            update(merchants)
            .where(merchants.c.id == merchant.id)
            .values(
                contact_phone_ct=merchant.contact_phone_ct,
                settlement_account_ct=merchant.settlement_account_ct,
                legal_representative_id_ct=merchant.legal_representative_id_ct,
                key_id=merchant.key_id,
                updated_at=merchant.updated_at,
            )
        )

    async def save_status(self, merchant: Merchant) -> None:
        values = {column + "_": getattr(merchant, column) for column in _STATUS_COLUMNS}
        await self._connection.execute(
            _SAVE_STATUS, values | {"key": merchant.id, "updated_at_": merchant.updated_at}
        )

    async def page(
        self,
        *,
        institution_id: uuid.UUID | None,
        status: MerchantStatus | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Merchant]:
        query = select(merchants)
        if institution_id is not None:
            query = query.where(merchants.c.institution_id == institution_id)
        if status is not None:
            query = query.where(merchants.c.status == status.value)
        query = _after(query, merchants.c.id, after, limit)
        return [_merchant(row) for row in await self._connection.execute(query)]

    async def add_operator(self, operator: MerchantOperator) -> None:
        """Insert; USERNAME_TAKEN when another cashier has the username."""
        added = await self._connection.execute(
            insert_unless_exists(
                self._connection, merchant_operators, asdict(operator), ["username"]
            )
        )
        if added.rowcount != 1:
            raise DomainError(ErrorCode.USERNAME_TAKEN, field=("username",))

    async def operator_by_username(self, username: str) -> MerchantOperator | None:
        row = (
            await self._connection.execute(_OPERATOR_BY_USERNAME, {"username": username})
        ).first()
        return MerchantOperator(**row._mapping) if row else None

    async def operators_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[MerchantOperator]:
        rows = await self._connection.execute(_OPERATORS_BY_ID, {"ids": list(ids)})
        return [MerchantOperator(**row._mapping) for row in rows]

    async def operators_of(self, merchant_ids: Sequence[uuid.UUID]) -> Sequence[MerchantOperator]:
        """The cashiers of each merchant, oldest first."""
        rows = await self._connection.execute(_OPERATORS_OF, {"ids": list(merchant_ids)})
        return [MerchantOperator(**row._mapping) for row in rows]

    async def set_operator_password_hash(self, operator_id: uuid.UUID, password_hash: str) -> None:
        await self._connection.execute(
            _SET_PASSWORD_HASH, {"key": operator_id, "hash": password_hash}
        )


class SqlRewardRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, reward: Reward) -> None:
        await self._connection.execute(rewards.insert().values(**asdict(reward)))

    async def save(self, reward: Reward) -> None:
        values = {column + "_": getattr(reward, column) for column in _EDITABLE}
        await self._connection.execute(_SAVE_REWARD, values | {"key": reward.id})

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Reward]:
        rows = await self._connection.execute(_REWARDS_BY_ID, {"ids": list(ids)})
        return [_reward(row) for row in rows]

    async def page(
        self, filter: RewardFilter, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Reward]:
        """Rewards in id order; with `filter.offered_on`, only those on offer that day: active,
        within their window, of an approved merchant."""
        query = select(rewards)
        if filter.institution_id is not None:
            query = query.where(rewards.c.institution_id == filter.institution_id)
        if filter.merchant_id is not None:
            query = query.where(rewards.c.merchant_id == filter.merchant_id)
        if filter.category is not None or filter.offered_on is not None:
            query = query.join(merchants, merchants.c.id == rewards.c.merchant_id)
        if filter.category is not None:
            query = query.where(merchants.c.category == filter.category.value)
        if filter.offered_on is not None:
            query = query.where(
                merchants.c.status == MerchantStatus.APPROVED.value,
                *_on_offer(filter.offered_on),
            )
        query = _after(query, rewards.c.id, after, limit)
        return [_reward(row) for row in await self._connection.execute(query)]

    async def of_merchants(
        self,
        merchant_ids: Sequence[uuid.UUID],
        *,
        offered_on: date | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Reward]:
        """The first `limit` rewards of each merchant, in one statement: rows are numbered
        within their merchant and cut at `limit`."""
        number = func.row_number().over(partition_by=rewards.c.merchant_id, order_by=rewards.c.id)
        inner = select(rewards, number.label("number")).where(
            rewards.c.merchant_id.in_(merchant_ids)
        )
        if after is not None:
            inner = inner.where(rewards.c.id > after)
        if offered_on is not None:
            inner = inner.where(*_on_offer(offered_on))
        ranked = inner.subquery()
        query = (
            select(*(ranked.c[column.name] for column in rewards.c))
            .where(ranked.c.number <= limit)
            .order_by(ranked.c.merchant_id, ranked.c.id)
        )
        return [_reward(row) for row in await self._connection.execute(query)]

    async def take_stock(self, reward_id: uuid.UUID) -> bool:
        """One item out of a limited stock; False when none is left (or no such reward)."""
        taken = await self._connection.execute(_TAKE_STOCK, {"key": reward_id})
        return taken.rowcount == 1

    async def return_stock(self, reward_id: uuid.UUID) -> None:
        await self._connection.execute(_RETURN_STOCK, {"key": reward_id})


def _on_offer(day: date) -> list[ColumnElement[bool]]:
    return [rewards.c.active, rewards.c.valid_from <= day, rewards.c.valid_until >= day]


def _after(query: Select[Any], key: Any, after: uuid.UUID | None, limit: int) -> Select[Any]:
    if after is not None:
        query = query.where(key > after)
    return query.order_by(key).limit(limit)


def _merchant(row: Row[Any]) -> Merchant:
    values = dict(row._mapping)
    return Merchant(
        **values
        | {
            "category": MerchantCategory(values["category"]),
            "status": MerchantStatus(values["status"]),
        }
    )


def _reward(row: Row[Any]) -> Reward:
    values = dict(row._mapping)
    return Reward(**values | {"kind": RewardKind(values["kind"])})

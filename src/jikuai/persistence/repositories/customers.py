from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.customers.identity_numbers import Gender
from jikuai.domain.customers.model import Customer, CustomerFilter, Segment
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.persistence.lists import among
from jikuai.persistence.tables.customers import customers

# Hot statements are built once; SQLAlchemy then reuses their compiled form on every call.
_BY_ID = select(customers).where(customers.c.id.in_(bindparam("ids", expanding=True)))
_BY_ID_IN_INSTITUTION = _BY_ID.where(customers.c.institution_id == bindparam("institution_id"))
_BY_ONE_ID = select(customers).where(customers.c.id == bindparam("id"))
_LOCK = (
    select(customers.c.id).where(customers.c.id == bindparam("id")).with_for_update(key_share=True)
)
_TOUCH = update(customers).where(customers.c.id == bindparam("id")).values(id=customers.c.id)


class SqlCustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, customer: Customer) -> None:
        try:
            await self._connection.execute(insert(customers).values(**asdict(customer)))
        except IntegrityError as error:
            if "id_number_bidx" in str(error.orig):
                raise DomainError(ErrorCode.CUSTOMER_EXISTS, field=("idNumber",)) from None
            raise

    async def by_id(
        self, ids: Sequence[uuid.UUID], *, institution_id: uuid.UUID | None
    ) -> Sequence[Customer]:
        if institution_id is None and len(ids) == 1:
            rows = await self._connection.execute(_BY_ONE_ID, {"id": ids[0]})
        elif institution_id is None:
            rows = await self._connection.execute(_BY_ID, {"ids": list(ids)})
        else:
            rows = await self._connection.execute(
                _BY_ID_IN_INSTITUTION, {"ids": list(ids), "institution_id": institution_id}
            )
        return [_customer(row) for row in rows]

    async def id_number_taken(self, institution_id: uuid.UUID, id_number_bidx: bytes) -> bool:
        query = select(
            exists().where(
                customers.c.institution_id == institution_id,
                customers.c.id_number_bidx == id_number_bidx,
            )
        )
        return bool(await self._connection.scalar(query))

    async def by_id_number_bidx(
        self, institution_id: uuid.UUID, id_number_bidxs: Sequence[bytes]
    ) -> Sequence[Customer]:
        rows = await self._connection.execute(
            _by_id_number_bidx(self._connection.dialect.name),
            {"institution_id": institution_id, "bidxs": list(set(id_number_bidxs))},
        )
        return [_customer(row) for row in rows]

    async def by_referral_code(self, institution_id: uuid.UUID, code: str) -> Customer | None:
        query = select(customers).where(
            customers.c.institution_id == institution_id, customers.c.referral_code == code
        )
        row = (await self._connection.execute(query)).first()
        return _customer(row) if row else None

    async def lock(self, customer_id: uuid.UUID) -> None:
        """A row lock on PostgreSQL (FOR NO KEY UPDATE: rows that refer to the customer may
        still be inserted meanwhile). SQLite has none: there a no-op write takes the database's
        write lock, which the driver's transaction begins with, so what the transaction reads
        next cannot change under it."""
        sqlite = self._connection.dialect.name == "sqlite"
        await self._connection.execute(_TOUCH if sqlite else _LOCK, {"id": customer_id})

    async def page(
        self,
        *,
        institution_id: uuid.UUID | None,
        only_id: uuid.UUID | None,
        filter: CustomerFilter,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Customer]:
        query = _filtered(select(customers), institution_id, filter)
        if only_id is not None:
            query = query.where(customers.c.id == only_id)
        if after is not None:
            query = query.where(customers.c.id > after)
        query = query.order_by(customers.c.id).limit(limit)
        return [_customer(row) for row in await self._connection.execute(query)]

    async def encrypted_under_other_keys(self, key_id: int, *, limit: int) -> Sequence[Customer]:
        query = (
            select(customers)
            .where(customers.c.key_id != key_id)
            .order_by(customers.c.id)
            .limit(limit)
        )
        return [_customer(row) for row in await self._connection.execute(query)]

    async def count_encrypted_under_other_keys(self, key_id: int) -> int:
        query = select(func.count()).select_from(customers).where(customers.c.key_id != key_id)
        return int(await self._connection.scalar(query) or 0)

    async def replace_ciphertexts(self, customer: Customer) -> None:
        await self._connection.execute(
            update(customers)
            .where(customers.c.id == customer.id)
            .values(
                name_ct=customer.name_ct,
                id_number_ct=customer.id_number_ct,
                phone_ct=customer.phone_ct,
                id_number_bidx=customer.id_number_bidx,
                phone_bidx=customer.phone_bidx,
                key_id=customer.key_id,
                updated_at=customer.updated_at,
            )
        )


def _filtered(
    query: Select[Any], institution_id: uuid.UUID | None, filter: CustomerFilter
) -> Select[Any]:
    if institution_id is not None:
        query = query.where(customers.c.institution_id == institution_id)
    if filter.segment is not None:
        query = query.where(customers.c.segment == filter.segment.value)
    if filter.village_id is not None:
        query = query.where(customers.c.village_id == filter.village_id)
    if filter.id_number_bidx is not None:
        query = query.where(customers.c.id_number_bidx == filter.id_number_bidx)
    if filter.phone_bidx is not None:
        query = query.where(customers.c.phone_bidx == filter.phone_bidx)
    return query


def _customer(row: Row[Any]) -> Customer:
    values = dict(row._mapping)
    return Customer(
        **values | {"segment": Segment(values["segment"]), "gender": Gender(values["gender"])}
    )


@cache
def _by_id_number_bidx(dialect: str) -> Select[Any]:
    query = select(customers).where(customers.c.institution_id == bindparam("institution_id"))
    return among(query, customers.c.id_number_bidx, "bidxs", dialect)

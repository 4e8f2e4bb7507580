from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.customers.identity_numbers import Gender
from jikuai.domain.customers.model import Customer, CustomerFilter, Segment
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.persistence.lists import among
from jikuai.persistence.records import Query
from jikuai.persistence.tables.customers import customers

# Hot reads are built once and read from the driver's records (see `persistence.records`).
_BY_ONE_ID = Query(lambda _: select(customers).where(customers.c.id == bindparam("id")))
_BY_ID = Query(lambda dialect: among(select(customers), customers.c.id, "ids", dialect))
_BY_ID_IN_INSTITUTION = Query(
    lambda dialect: among(
        select(customers).where(customers.c.institution_id == bindparam("institution_id")),
        customers.c.id,
        "ids",
        dialect,
    )
)
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
        keys = list(dict.fromkeys(ids))
        if institution_id is None and len(keys) == 1:
            rows = await _BY_ONE_ID.all(self._connection, id=keys[0])
        elif institution_id is None:
            rows = await _BY_ID.all(self._connection, ids=keys)
        else:
            rows = await _BY_ID_IN_INSTITUTION.all(
                self._connection, ids=keys, institution_id=institution_id
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
        return [_customer(row._asdict()) for row in rows]

    async def by_referral_code(self, institution_id: uuid.UUID, code: str) -> Customer | None:
        query = select(customers).where(
            customers.c.institution_id == institution_id, customers.c.referral_code == code
        )
        row = (await self._connection.execute(query)).first()
        return _customer(row._asdict()) if row else None

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
        given = {
            "institution_id": institution_id,
            "only_id": only_id,
            "segment": filter.segment.value if filter.segment is not None else None,
            "village_id": filter.village_id,
            "id_number_bidx": filter.id_number_bidx,
            "phone_bidx": filter.phone_bidx,
            "after": after,
        }
        parameters = {name: value for name, value in given.items() if value is not None}
        query = _page(frozenset(parameters))
        rows = await query.all(self._connection, **parameters, limit=limit)
        return [_customer(row) for row in rows]

    async def encrypted_under_other_keys(self, key_id: int, *, limit: int) -> Sequence[Customer]:
        query = (
            select(customers)
            .where(customers.c.key_id != key_id)
            .order_by(customers.c.id)
            .limit(limit)
        )
        return [_customer(row._asdict()) for row in await self._connection.execute(query)]

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


_PAGE_CONDITIONS = {
    "institution_id": customers.c.institution_id == bindparam("institution_id"),
    "only_id": customers.c.id == bindparam("only_id"),
    "segment": customers.c.segment == bindparam("segment"),
    "village_id": customers.c.village_id == bindparam("village_id"),
    "id_number_bidx": customers.c.id_number_bidx == bindparam("id_number_bidx"),
    "phone_bidx": customers.c.phone_bidx == bindparam("phone_bidx"),
    "after": customers.c.id > bindparam("after"),
}


@cache
def _page(given: frozenset[str]) -> Query:
    """A page of customers in id order, narrowed by the parameters given."""
    conditions = [condition for name, condition in _PAGE_CONDITIONS.items() if name in given]
    query = select(customers).where(*conditions).order_by(customers.c.id)
    return Query(lambda _: query.limit(bindparam("limit")))


_SEGMENTS = {each.value: each for each in Segment}
_GENDERS = {each.value: each for each in Gender}


def _customer(row: Mapping[str, Any]) -> Customer:
    values = dict(row)
    values["segment"] = _SEGMENTS[values["segment"]]
    values["gender"] = _GENDERS[values["gender"]]
    return Customer(**values)


@cache
def _by_id_number_bidx(dialect: str) -> Select[Any]:
    query = select(customers).where(customers.c.institution_id == bindparam("institution_id"))
    return among(query, customers.c.id_number_bidx, "bidxs", dialect)

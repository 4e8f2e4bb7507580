from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.tenancy.model import (
    Branch,
    Institution,
    InstitutionKind,
    Role,
    Staff,
    Village,
    VillageRating,
)
from jikuai.persistence.tables.tenancy import branches, institutions, staff, villages

_INSTITUTIONS_BY_ID = select(institutions).where(
    institutions.c.id.in_(bindparam("ids", expanding=True))
)
_VILLAGES_BY_ID = select(villages).where(villages.c.id.in_(bindparam("ids", expanding=True)))
_STAFF_BY_ID = select(staff).where(staff.c.id.in_(bindparam("ids", expanding=True)))
_STAFF_BY_USERNAMES = select(staff).where(
    staff.c.institution_id == bindparam("institution_id"),
    staff.c.username.in_(bindparam("usernames", expanding=True)),
)


class SqlTenancyRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def institutions(self) -> Sequence[Institution]:
        rows = await self._connection.execute(select(institutions).order_by(institutions.c.code))
        return [_institution(row) for row in rows]

    async def institutions_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Institution]:
        rows = await self._connection.execute(_INSTITUTIONS_BY_ID, {"ids": list(ids)})
        return [_institution(row) for row in rows]

    async def institution_by_code(self, code: str) -> Institution | None:
        row = (
            await self._connection.execute(select(institutions).where(institutions.c.code == code))
        ).first()
        return _institution(row) if row else None

    async def branches_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Branch]:
        rows = await self._connection.execute(select(branches).where(branches.c.id.in_(ids)))
        return [Branch(**row._mapping) for row in rows]

    async def branches_of(self, institution_ids: Sequence[uuid.UUID]) -> Sequence[Branch]:
        query = (
            select(branches)
            .where(branches.c.institution_id.in_(institution_ids))
            .order_by(branches.c.code)
        )
        return [Branch(**row._mapping) for row in await self._connection.execute(query)]

    async def village(self, village_id: uuid.UUID) -> Village | None:
        found = await self.villages_by_id([village_id])
        return found[0] if found else None

    async def villages_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Village]:
        rows = await self._connection.execute(_VILLAGES_BY_ID, {"ids": list(ids)})
        return [_village(row) for row in rows]

    async def village_by_code(self, code: str) -> Village | None:
        row = (
            await self._connection.execute(select(villages).where(villages.c.code == code))
        ).first()
        return _village(row) if row else None

    async def villages_page(
        self,
        *,
        institution_id: uuid.UUID | None,
        branch_id: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Village]:
        query = select(villages).order_by(villages.c.id).limit(limit)
        if institution_id is not None:
            query = query.where(villages.c.institution_id == institution_id)
        if branch_id is not None:
            query = query.where(villages.c.branch_id == branch_id)
        if after is not None:
            query = query.where(villages.c.id > after)
        return [_village(row) for row in await self._connection.execute(query)]

    async def save_village(self, village: Village) -> None:
        values = asdict(village)
        await self._connection.execute(
            update(villages).where(villages.c.id == values.pop("id")).values(**values)
        )

    async def staff_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Staff]:
        rows = await self._connection.execute(_STAFF_BY_ID, {"ids": list(ids)})
        return [_staff(row) for row in rows]

    async def staff_by_username(self, username: str) -> Staff | None:
        row = (
            await self._connection.execute(select(staff).where(staff.c.username == username))
        ).first()
        return _staff(row) if row else None

    async def staff_by_usernames(
        self, institution_id: uuid.UUID, usernames: Sequence[str]
    ) -> Sequence[Staff]:
        rows = await self._connection.execute(
            _STAFF_BY_USERNAMES, {"institution_id": institution_id, "usernames": list(usernames)}
        )
        return [_staff(row) for row in rows]

    async def add_institution(self, institution: Institution) -> None:
        await self._insert(institutions, asdict(institution))

    async def add_branch(self, branch: Branch) -> None:
        await self._insert(branches, asdict(branch))

    async def add_village(self, village: Village) -> None:
        await self._insert(villages, asdict(village))

    async def add_staff(self, member: Staff) -> None:
        await self._insert(staff, asdict(member))

    async def set_staff_password_hash(self, staff_id: uuid.UUID, password_hash: str) -> None:
        await self._connection.execute(
            update(staff).where(staff.c.id == staff_id).values(password_hash=password_hash)
        )

    async def _insert(self, table: Any, values: dict[str, Any]) -> None:
        await self._connection.execute(insert(table).values(**values))


def _institution(row: Row[Any]) -> Institution:
    values = dict(row._mapping)
    return Institution(**values | {"kind": InstitutionKind(values["kind"])})


def _village(row: Row[Any]) -> Village:
    values = dict(row._mapping)
    rating = values["credit_rating"]
    return Village(**values | {"credit_rating": VillageRating(rating) if rating else None})


def _staff(row: Row[Any]) -> Staff:
    values = dict(row._mapping)
    return Staff(**values | {"role": Role(values["role"])})

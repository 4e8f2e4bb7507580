from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    Select,
    bindparam,
    case,
    exists,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.customers.identity_numbers import Gender
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.shared.money import ZERO
from jikuai.domain.villages.model import (
    Household,
    ImportStatus,
    PeerRating,
    RefusedRow,
    RosterImport,
    RosterSource,
    ScreeningOutcome,
    VillageProgress,
)
from jikuai.persistence.bulk import UniqueViolation, insert_rows
from jikuai.persistence.lists import among
from jikuai.persistence.tables.base import money
from jikuai.persistence.tables.credit import loan_products, loans
from jikuai.persistence.tables.tenancy import villages
from jikuai.persistence.tables.villages import roster_imports, village_households

_H = village_households.c
_HOUSEHOLD_COLUMNS = tuple(each.name for each in fields(Household))
# What an import writes of a known household: its roster row and screening. Not the identity
# it keeps for life (id, institution, blind index, created), nor what acceptance writes.
_SAVED_COLUMNS = tuple(
    name
    for name in _HOUSEHOLD_COLUMNS
    if name
    not in {"id", "institution_id", "id_number_bidx", "created_at", "accepted_at", "credit_line_id"}
)
_CIPHERTEXT_COLUMNS = ("name_ct", "id_number_ct", "phone_ct", "key_id", "updated_at")
_SAVE_HOUSEHOLD = (
    update(village_households)
    .where(_H.id == bindparam("household_id"))
    .values({name: bindparam(name) for name in _SAVED_COLUMNS})
)
_REPLACE_CIPHERTEXTS = (
    update(village_households)
    .where(_H.id == bindparam("household_id"))
    .values({name: bindparam(name) for name in _CIPHERTEXT_COLUMNS})
)


@cache
def _by_index(dialect: str) -> Select[Any]:
    query = select(village_households).where(_H.institution_id == bindparam("institution_id"))
    return among(query, _H.id_number_bidx, "bidxs", dialect)


_BY_ID = select(village_households).where(_H.id.in_(bindparam("ids", expanding=True)))
_IMPORTS_BY_ID = select(roster_imports).where(
    roster_imports.c.id.in_(bindparam("ids", expanding=True))
)
_IMPORT_COLUMNS = tuple(each.name for each in fields(RosterImport))


class SqlVillageRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def households_by_index(
        self, institution_id: uuid.UUID, id_number_bidxs: Sequence[bytes], *, lock: bool = False
    ) -> Sequence[Household]:
        if not id_number_bidxs:
            return []
        query = _by_index(self._connection.dialect.name)
        rows = await self._connection.execute(
            query.with_for_update(of=village_households) if lock else query,
            {"institution_id": institution_id, "bidxs": list(set(id_number_bidxs))},
        )
        return [_household(row) for row in rows]

    async def households_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Household]:
        if not ids:
            return []
        rows = await self._connection.execute(_BY_ID, {"ids": list(ids)})
        return [_household(row) for row in rows]

    async def add_households(self, households: Sequence[Household]) -> None:
        """Insert; CONCURRENT_UPDATE when another import added one of them meanwhile."""
        try:
            await insert_rows(self._connection, village_households, households)
        except UniqueViolation:
            raise DomainError(ErrorCode.CONCURRENT_UPDATE) from None

    async def save_households(self, households: Sequence[Household]) -> None:
        await self._update_each(_SAVE_HOUSEHOLD, _SAVED_COLUMNS, households)

    async def replace_ciphertexts(self, households: Sequence[Household]) -> None:
        await self._update_each(_REPLACE_CIPHERTEXTS, _CIPHERTEXT_COLUMNS, households)

    async def _update_each(
        self, statement: Any, columns: Sequence[str], households: Sequence[Household]
    ) -> None:
        if households:
            await self._connection.execute(
                statement,
                [
                    {name: getattr(each, name) for name in columns} | {"household_id": each.id}
                    for each in households
                ],
            )

    async def under_other_keys(self, key_id: int, *, limit: int) -> Sequence[Household]:
        query = select(village_households).where(_H.key_id != key_id).order_by(_H.id).limit(limit)
        return [_household(row) for row in await self._connection.execute(query)]

    async def count_under_other_keys(self, key_id: int) -> int:
        query = select(func.count()).select_from(village_households).where(_H.key_id != key_id)
        return int(await self._connection.scalar(query) or 0)

    async def link_customer(
        self, institution_id: uuid.UUID, id_number_bidx: bytes, customer_id: uuid.UUID
    ) -> None:
        await self._connection.execute(
            update(village_households)
            .where(_H.institution_id == institution_id, _H.id_number_bidx == id_number_bidx)
            .values(customer_id=customer_id)
        )

    async def accept(
        self, household_id: uuid.UUID, *, credit_line_id: uuid.UUID | None, at: datetime
    ) -> bool:
        result = await self._connection.execute(
            update(village_households)
            .where(_H.id == household_id, _H.accepted_at.is_(None))
            .values(accepted_at=at, credit_line_id=credit_line_id, updated_at=at)
        )
        return result.rowcount == 1

    async def households_page(
        self,
        institution_id: uuid.UUID,
        village_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Household]:
        query = (
            select(village_households)
            .where(_H.institution_id == institution_id, _H.village_id == village_id)
            .order_by(_H.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(_H.id > after)
        return [_household(row) for row in await self._connection.execute(query)]

    async def unfinished_import(
        self, institution_id: uuid.UUID, village_id: uuid.UUID, digest: bytes
    ) -> RosterImport | None:
        query = (
            select(roster_imports)
            .where(
                roster_imports.c.institution_id == institution_id,
                roster_imports.c.village_id == village_id,
                roster_imports.c.digest == digest,
                roster_imports.c.status == ImportStatus.RUNNING.value,
            )
            .order_by(roster_imports.c.id.desc())
            .limit(1)
        )
        row = (await self._connection.execute(query)).first()
        return _import(row) if row else None

    async def imports_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[RosterImport]:
        if not ids:
            return []
        rows = await self._connection.execute(_IMPORTS_BY_ID, {"ids": list(ids)})
        return [_import(row) for row in rows]

    async def add_import(self, record: RosterImport) -> None:
        await self._connection.execute(insert(roster_imports).values(_import_values(record)))

    async def save_import(self, record: RosterImport, *, saved_up_to: int) -> None:
        values = _import_values(record)
        result = await self._connection.execute(
            update(roster_imports)
            .where(
                roster_imports.c.id == values.pop("id"),
                roster_imports.c.lines_done == saved_up_to,
            )
            .values(values)
        )
        if result.rowcount != 1:
            raise DomainError(ErrorCode.CONCURRENT_UPDATE)

    async def imports_page(
        self,
        institution_id: uuid.UUID,
        village_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[RosterImport]:
        query = (
            select(roster_imports)
            .where(
                roster_imports.c.institution_id == institution_id,
                roster_imports.c.village_id == village_id,
            )
            .order_by(roster_imports.c.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(roster_imports.c.id < after)
        return [_import(row) for row in await self._connection.execute(query)]

    async def progress(
        self,
        *,
        institution_id: uuid.UUID | None,
        branch_id: uuid.UUID | None,
        village_id: uuid.UUID | None,
    ) -> VillageProgress:
        query = select(*_PROGRESS).select_from(village_households)
        if institution_id is not None:
            query = query.where(_H.institution_id == institution_id)
        if village_id is not None:
            query = query.where(_H.village_id == village_id)
        if branch_id is not None:
            query = query.join(villages, villages.c.id == _H.village_id).where(
                villages.c.branch_id == branch_id
            )
        return _progress((await self._connection.execute(query)).one())

    async def progress_by_village(
        self, village_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, VillageProgress]:
        query = among(
            select(_H.village_id, *_PROGRESS), _H.village_id, "ids", self._connection.dialect.name
        ).group_by(_H.village_id)
        rows = await self._connection.execute(query, {"ids": list(set(village_ids))})
        return {row[0]: _progress(row[1:]) for row in rows}


def _drawn() -> Any:
    """The household's head drew on a line of the product it was screened for (any version)."""
    screened_for, drawn_on = loan_products.alias("screened_for"), loan_products.alias("drawn_on")
    return (
        exists()
        .select_from(loans.join(drawn_on, drawn_on.c.id == loans.c.product_id), screened_for)
        .where(
            loans.c.customer_id == _H.customer_id,
            loans.c.credit_line_id.is_not(None),
            screened_for.c.id == _H.product_id,
            drawn_on.c.code == screened_for.c.code,
        )
        .correlate(village_households)
    )


# The figures of `VillageProgress`, in its order, over the households selected.
_PROGRESS = (
    func.count(),
    func.count(_H.score),  # reached the scorecard (评级): admission rules passed
    type_coerce(
        func.sum(case((_H.outcome == ScreeningOutcome.PRE_APPROVED.value, 1), else_=0)), Integer
    ),
    type_coerce(func.sum(_H.pre_approved_limit), money()),
    func.count(_H.customer_id),
    func.count(_H.accepted_at),
    type_coerce(func.sum(case((_drawn(), 1), else_=0)), Integer),
)


def _progress(row: Sequence[Any]) -> VillageProgress:
    households, screened, approved, limit, registered, activated, drew = row
    return VillageProgress(
        households=households,
        screened=screened,
        pre_approved=approved or 0,
        pre_approved_limit=limit if limit is not None else ZERO,
        registered=registered,
        activated=activated,
        drawn=drew or 0,
    )


def _household(row: Row[Any]) -> Household:
    values = dict(row._mapping)
    return Household(
        **values
        | {
            "gender": Gender(values["gender"]),
            "peer_rating": PeerRating(values["peer_rating"]),
            "outcome": ScreeningOutcome(values["outcome"]),
        }
    )


def _import_values(record: RosterImport) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _IMPORT_COLUMNS}
    values["errors"] = [
        {"line": each.line, "column": each.column, "code": each.code} for each in record.errors
    ]
    return values


def _import(row: Row[Any]) -> RosterImport:
    values = dict(row._mapping)
    return RosterImport(
        **values
        | {
            "source": RosterSource(values["source"]),
            "status": ImportStatus(values["status"]),
            "errors": [RefusedRow(**each) for each in values["errors"]],
        }
    )

"""Persisted operations: a document by its hash, registering one, the list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.operations.model import PersistedOperation
from jikuai.persistence.repositories.identity import insert_unless_exists
from jikuai.persistence.tables.operations import persisted_operations


class SqlPersistedOperationRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def document(self, sha256: str) -> str | None:
        query = select(persisted_operations.c.document).where(
            persisted_operations.c.sha256 == sha256
        )
        text: str | None = (await self._connection.execute(query)).scalar_one_or_none()
        return text

    async def add(self, operation: PersistedOperation) -> bool:
        values = {
            "sha256": operation.sha256,
            "document": operation.document,
            "operation_names": list(operation.operation_names),
            "registered_at": operation.registered_at,
        }
        inserted = await self._connection.execute(
            insert_unless_exists(self._connection, persisted_operations, values, ["sha256"])
        )
        return inserted.rowcount == 1

    async def every(self) -> Sequence[PersistedOperation]:
        query = select(persisted_operations).order_by(
            persisted_operations.c.registered_at, persisted_operations.c.sha256
        )
        return [_operation(row) for row in await self._connection.execute(query)]


def _operation(row: Any) -> PersistedOperation:
    values = row._mapping
    return PersistedOperation(
        sha256=values["sha256"],
        document=values["document"],
        operation_names=tuple(values["operation_names"]),
        registered_at=values["registered_at"],
    )

"""Per-request DataLoaders, one per (entity, key); each batch is one SQL statement."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Protocol, TypeVar

from strawberry.dataloader import DataLoader

from jikuai.domain.customers.model import Customer
from jikuai.domain.ports import Repositories
from jikuai.domain.tenancy.model import Branch, Institution, Staff


class HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


T = TypeVar("T", bound=HasId)
ReadsProvider = Callable[[], Awaitable[Repositories]]


def _by_id(rows: Sequence[T], keys: Sequence[uuid.UUID]) -> list[T | None]:
    found = {row.id: row for row in rows}
    return [found.get(key) for key in keys]


class Loaders:
    """One request's loaders, each made when first used; they share the request's reads."""

    def __init__(self, reads: ReadsProvider) -> None:
        self._reads = reads

    @cached_property
    def institution_by_id(self) -> DataLoader[uuid.UUID, Institution | None]:
        return DataLoader(self._institutions)

    @cached_property
    def branch_by_id(self) -> DataLoader[uuid.UUID, Branch | None]:
        return DataLoader(self._branches)

    @cached_property
    def branches_by_institution(self) -> DataLoader[uuid.UUID, list[Branch]]:
        return DataLoader(self._branches_of)

    @cached_property
    def staff_by_id(self) -> DataLoader[uuid.UUID, Staff | None]:
        return DataLoader(self._staff)

    @cached_property
    def customer_by_id(self) -> DataLoader[uuid.UUID, Customer | None]:
        return DataLoader(self._customers)

    async def _institutions(self, keys: list[uuid.UUID]) -> list[Institution | None]:
        return _by_id(await (await self._reads()).tenancy.institutions_by_id(keys), keys)

    async def _branches(self, keys: list[uuid.UUID]) -> list[Branch | None]:
        return _by_id(await (await self._reads()).tenancy.branches_by_id(keys), keys)

    async def _branches_of(self, keys: list[uuid.UUID]) -> list[list[Branch]]:
        grouped: dict[uuid.UUID, list[Branch]] = defaultdict(list)
        for branch in await (await self._reads()).tenancy.branches_of(keys):
            grouped[branch.institution_id].append(branch)
        return [grouped[key] for key in keys]

    async def _staff(self, keys: list[uuid.UUID]) -> list[Staff | None]:
        return _by_id(await (await self._reads()).tenancy.staff_by_id(keys), keys)

    async def _customers(self, keys: list[uuid.UUID]) -> list[Customer | None]:
        """Unscoped: callers check visibility through `Context.visible_customer`."""
        rows = await (await self._reads()).customers.by_id(keys, institution_id=None)
        return _by_id(rows, keys)

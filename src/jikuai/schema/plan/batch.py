"""Relations resolved once per level: a batch load from parents to their values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import strawberry
from strawberry.types import Info

BATCH = "jikuai.batch"

BatchLoad = Callable[[Any, Sequence[Any]], Awaitable[Sequence[Any]]]
"""`load(context, parents)`: one value per parent, in the parents' order."""


def batched(load: BatchLoad, *, description: str) -> Any:
    """A field whose values come from `load(context, parents)`; its type is the annotation.

    A plan calls `load` once for all the parents of a level. graphql-core calls the field's
    resolver for each parent, which loads a batch of one. Both run the same function, so they
    cannot disagree; `load` reads through the request's DataLoaders, so the per-parent calls
    still share one statement. A failure of one parent's value is returned as that value (an
    exception), as a DataLoader reports it; an exception `load` raises fails every parent it
    was given.
    """

    async def resolve(self: Any, info: Info[Any, None]):  # type: ignore[no-untyped-def]
        (value,) = await load(info.context, (self,))
        return value

    return strawberry.field(resolver=resolve, description=description, metadata={BATCH: load})

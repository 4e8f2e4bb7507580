"""Rewriting rows in batches, one transaction each, until none is left to rewrite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from jikuai.domain.ports import UnitOfWork

T = TypeVar("T")
Progress = Callable[[int, int], None]


async def rewrite_in_batches(
    *,
    unit_of_work: Callable[[], UnitOfWork],
    count: Callable[[UnitOfWork], Awaitable[int]],
    fetch: Callable[[UnitOfWork, int], Awaitable[Sequence[T]]],
    rewrite: Callable[[UnitOfWork, T], Awaitable[None]],
    batch_size: int,
    progress: Progress | None = None,
) -> int:
    """Fetch a batch of rows that still need rewriting, rewrite them, commit; repeat.

    `fetch` must select only rows not yet rewritten, so a run that stops part-way resumes where
    it left off and a finished run finds nothing. Returns how many rows were rewritten.
    """
    async with unit_of_work() as uow:
        total = await count(uow)
    done = 0
    while True:
        async with unit_of_work() as uow:
            batch = await fetch(uow, batch_size)
            for row in batch:
                await rewrite(uow, row)
            await uow.commit()
        if not batch:
            return done
        done += len(batch)
        if progress is not None:
            progress(done, total)

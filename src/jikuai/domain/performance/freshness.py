"""How long computed results are kept, and how a change to their inputs retires them.

Each institution has a cache generation, part of every cached result's key. Whatever changes the
figures (imported facts, recorded positions, a scheme revision, a reassignment, a closing)
starts a new generation, so the next reader computes afresh and the stale results simply expire.
"""

from __future__ import annotations

import uuid

from jikuai.domain.performance.ports import ResultCache

CACHE_SECONDS = 300
_GENERATION_SECONDS = 7 * 24 * 3600  # outlives every cached result, so a generation never repeats


async def forget_figures(cache: ResultCache | None, institution_id: uuid.UUID) -> None:
    """Start a new generation of the institution's cached results: the figures changed."""
    if cache is not None:
        await cache.increment(_generation_key(institution_id), ttl_seconds=_GENERATION_SECONDS)


async def generation(cache: ResultCache, institution_id: uuid.UUID) -> int:
    return int(await cache.get(_generation_key(institution_id)) or 0)


def _generation_key(institution_id: uuid.UUID) -> str:
    return f"performance:generation:{institution_id}"

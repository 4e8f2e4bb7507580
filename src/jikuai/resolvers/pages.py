"""Keyset pages of every list: at most `MAX_PAGE_SIZE` items, one more fetched to know if more
follow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from jikuai.resolvers.errors import BadInput

MAX_PAGE_SIZE = 100  # `first` above it is served as 100
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next_page: bool


def page_limit(first: int) -> int:
    """How many items a page of `first` holds; a negative `first` is bad input."""
    if first < 0:
        raise BadInput("BAD_USER_INPUT", ["first"])
    return min(first, MAX_PAGE_SIZE)


async def paged(first: int, fetch: Callable[[int], Awaitable[Sequence[T]]]) -> Page[T]:
    """The page `fetch(limit)` gives, asked for one item more than it shows."""
    limit = page_limit(first)
    found = await fetch(limit + 1)
    return Page(found[:limit], has_next_page=len(found) > limit)

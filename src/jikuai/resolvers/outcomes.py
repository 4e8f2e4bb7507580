"""What a mutation did, and how a domain failure reaches the client.

A mutation answers its expected failures as `userErrors` (an `Attempt` with errors), a
forbidden role as a top-level FORBIDDEN. A query has no `userErrors`: its bad input is one
top-level error with the failure's code and field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from jikuai.domain.shared.errors import DomainError, DomainErrors, PermissionDenied
from jikuai.resolvers.errors import BadInput, Forbidden

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Attempt(Generic[T]):
    """What a mutation did: its result, or the expected failures that stopped it."""

    result: T | None = None
    errors: Sequence[DomainError] = field(default_factory=list)


async def attempt(work: Awaitable[T]) -> Attempt[T]:
    try:
        return Attempt(result=await work)
    except PermissionDenied:
        raise Forbidden from None
    except DomainError as error:
        return Attempt(errors=[error])
    except DomainErrors as errors:
        return Attempt(errors=errors.errors)


def bad_input(failure: DomainError | DomainErrors, *, under: tuple[str, ...] = ()) -> BadInput:
    """A query's bad input: the (first) failure's code, at its field under `under`."""
    first = failure.errors[0] if isinstance(failure, DomainErrors) else failure
    return BadInput(first.code, [*under, *(first.field or ())])

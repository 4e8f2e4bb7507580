"""Relay conventions: the `Node` interface, opaque global IDs and keyset connections."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

import strawberry

from jikuai.resolvers.errors import BadInput

N = TypeVar("N")


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def to_global_id(type_name: str, local_id: uuid.UUID) -> strawberry.ID:
    """URL-safe base64 of `Type:uuid` (`base64.urlsafe_b64encode`, without its two calls)."""
    encoded = binascii.b2a_base64(f"{type_name}:{local_id}".encode(), newline=False)
    return strawberry.ID(encoded.translate(_URL_SAFE).decode())


def from_global_id(global_id: str) -> tuple[str, uuid.UUID] | None:
    """(type name, id), or None for anything that is not one of our IDs."""
    try:
        decoded = base64.urlsafe_b64decode(global_id.encode("ascii")).decode()
        type_name, _, local_id = decoded.partition(":")
        return type_name, uuid.UUID(local_id)
    except (ValueError, UnicodeError, binascii.Error):
        return None


def local_id(global_id: str, type_name: str) -> uuid.UUID | None:
    """The id of a global ID of `type_name`; None for any other or malformed ID."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != type_name:
        return None
    return decoded[1]


# Matches no row: a malformed or foreign ID given as input finds nothing, exactly like an ID
# that does not exist.
NO_ROW = uuid.UUID(int=0)


def input_id(global_id: str | None, type_name: str) -> uuid.UUID:
    """The id an input names; `NO_ROW` for a missing, malformed or foreign one."""
    return (local_id(global_id, type_name) if global_id else None) or NO_ROW


def optional_input_id(global_id: str | None, type_name: str) -> uuid.UUID | None:
    """None for an input left out, otherwise as `input_id`."""
    return None if global_id is None else input_id(global_id, type_name)


def after_cursor(after: str | None) -> uuid.UUID | None:
    """The key a page starts after; a cursor we did not give out is bad input."""
    if after is None:
        return None
    key = from_cursor(after)
    if key is None:
        raise BadInput("BAD_USER_INPUT", ["after"])
    return key


def to_cursor(key: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(key.bytes).decode().rstrip("=")


def from_cursor(cursor: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        return None


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="This page started after a cursor.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="One item of a page, with the cursor to continue after it.")
class Edge(Generic[N]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: N = strawberry.field(description="The item.")


class HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


T = TypeVar("T", bound=HasId)


@strawberry.type(description="A page of a list, ordered by creation; page with `first`/`after`.")
class Connection(Generic[N]):
    edges: list[Edge[N]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")

    @classmethod
    def of_rows(
        cls, rows: Sequence[T], node: Callable[[T], N], *, has_next_page: bool, after: bool
    ) -> Connection[N]:
        """The page of `rows` (keyed by their ids), each shown as `node(row)`."""
        return cls.of(
            [node(row) for row in rows],
            [row.id for row in rows],
            has_next_page=has_next_page,
            after=after,
        )

    @classmethod
    def of(
        cls, nodes: list[N], keys: list[uuid.UUID], *, has_next_page: bool, after: bool
    ) -> Connection[N]:
        edges = [
            Edge(cursor=to_cursor(key), node=node) for node, key in zip(nodes, keys, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next_page,
                has_previous_page=after,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

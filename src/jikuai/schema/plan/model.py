"""What a plan is made of: selection sets of fields, each knowing how it is read and completed."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLLeafType, GraphQLObjectType
from strawberry.types.field import StrawberryField

from jikuai.schema.plan.batch import BatchLoad
from jikuai.schema.plan.inputs import LeafArguments


@dataclass(frozen=True, slots=True)
class Attribute:
    """A plain attribute of the parent object."""

    name: str


@dataclass(frozen=True, slots=True, eq=False)
class Resolver:
    """The resolver function, called directly for each parent, given an info object only
    if it takes one."""

    function: Callable[..., Any]
    field: StrawberryField
    passes_self: bool
    source_names: tuple[str, ...]
    info_name: str | None
    arguments: LeafArguments | None  # when read off the variables as they are


@dataclass(frozen=True, slots=True, eq=False)
class Batch:
    """One batch load for all the parents of a level."""

    load: BatchLoad


@dataclass(frozen=True, slots=True)
class TypeName:
    """`__typename`."""


@dataclass(frozen=True, slots=True, eq=False)
class Generic:
    """The resolver graphql-core would call (strawberry's, with its extensions)."""

    resolve: Callable[..., Any]


Reader = Attribute | Resolver | Batch | TypeName | Generic


@dataclass(slots=True, eq=False)
class Leaf:
    type: GraphQLLeafType
    coerce: Callable[[Any], Any]


@dataclass(slots=True, eq=False)
class Items:
    item: Completion
    nullable: bool


@dataclass(slots=True, eq=False)
class Objects:
    type: GraphQLObjectType
    selection: Selection
    # Classes whose instances strawberry's own `is_type_of` took, which looks at the class
    # alone unless a value is cast; None where the type has a check of its own.
    accepted: set[builtins.type] | None = None


Completion = Leaf | Items | Objects


@dataclass(frozen=True, slots=True, eq=False)
class Field:
    key: str
    name: str
    nodes: list[FieldNode]
    parent_type: GraphQLObjectType
    definition: GraphQLField
    reader: Reader
    completion: Completion
    nullable: bool
    has_arguments: bool

    @property
    def null_message(self) -> str:
        return f"Cannot return null for non-nullable field {self.parent_type.name}.{self.name}."


@dataclass(slots=True, eq=False)
class Selection:
    type: GraphQLObjectType
    fields: tuple[Field, ...]
    # The plain fields' loop (`plan.fuse`) and the fields it leaves to the level.
    build: Callable[[list[Any]], list[dict[str, Any]]] | None = None
    rest: tuple[Field, ...] = ()

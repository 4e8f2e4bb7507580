"""Fused selections: the plain fields of a selection set read and written in one loop.

Most fields of a page are attributes holding leaf values: a customer's id, segment, age and
masked name, a loan's amounts and dates. Going through the level machinery, each such field
is a column of values built, checked for nulls and errors and coerced one function call at a
time, then merged into each object's response. A fused selection instead compiles, once per
selection set, a Python function that reads those fields off each object and writes its
response dict in the selection's order, coercing the common values inline (a `str` for
String and ID, a `bool`, an `int` in range) and the rest with the leaf's own coercion.

The fast path only ever takes the regular case. Anything else (a null, an exception, a value
a coercion refuses) abandons it for the whole level, which then runs field by field with
graphql-core's rules for errors and nulls. So the result is the same either way; fields that
are not fused (resolvers, relations) leave a placeholder at their key, filled in by the level.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLScalarType,
    GraphQLString,
)
from graphql.pyutils import Undefined

from jikuai.schema.plan.model import Attribute, Field, Leaf, TypeName

Build = Callable[[list[Any]], list[dict[str, Any]]]
# Values that are their own output, by leaf type: anything else goes through its coercion.
_REGULAR = {
    GraphQLString.name: "type({0}) is str",
    GraphQLID.name: "type({0}) is str",
    GraphQLBoolean.name: "type({0}) is bool",
    GraphQLInt.name: "type({0}) is int and GRAPHQL_MIN_INT <= {0} <= GRAPHQL_MAX_INT",
}
_BUILT_IN = frozenset(
    each.name for each in (GraphQLString, GraphQLID, GraphQLBoolean, GraphQLInt, GraphQLFloat)
)


class Irregular(Exception):
    """A value the fused loop does not take; the level runs field by field instead."""


def fusable(field: Field) -> bool:
    """Whether the field is a plain attribute holding a leaf, or `__typename`."""
    reader = field.reader
    if isinstance(reader, TypeName):
        return True
    return (
        isinstance(reader, Attribute)
        and reader.name.isidentifier()
        and isinstance(field.completion, Leaf)
    )


def fuse(type_name: str, fields: Sequence[Field]) -> Build | None:
    """The function writing each object's response, with None at the keys of fields that
    are not fused; None if no field of the selection is."""
    if not any(fusable(each) for each in fields):
        return None
    namespace: dict[str, Any] = {
        "Irregular": Irregular,
        "Undefined": Undefined,
        "GRAPHQL_MIN_INT": GRAPHQL_MIN_INT,
        "GRAPHQL_MAX_INT": GRAPHQL_MAX_INT,
    }
    lines = ["def build(objects):", "    built = []", "    for each in objects:"]
    entries: list[str] = []
    for index, field in enumerate(fields):
        reader, completion = field.reader, field.completion
        if isinstance(reader, TypeName):
            entries.append(f"{field.key!r}: {type_name!r}")
        elif fusable(field) and isinstance(reader, Attribute) and isinstance(completion, Leaf):
            leaf = completion.type
            # A custom scalar's own output function, its result checked here as `coerce`
            # would; built-in types and enums have a quicker `coerce` of their own.
            custom = isinstance(leaf, GraphQLScalarType) and leaf.name not in _BUILT_IN
            namespace[f"coerce{index}"] = leaf.coerce_output_value if custom else completion.coerce
            lines += _read(index, reader.name, leaf, nullable=field.nullable, check=custom)
            entries.append(f"{field.key!r}: v{index}")
        else:
            entries.append(f"{field.key!r}: None")
    lines += ["        built.append({" + ", ".join(entries) + "})", "    return built"]
    code = compile("\n".join(lines), f"<fused selection on {type_name}>", "exec")
    exec(code, namespace)  # noqa: S102 - source made above from identifiers and reprs only
    build: Build = namespace["build"]
    return build


def _read(
    index: int, attribute: str, leaf: GraphQLLeafType, *, nullable: bool, check: bool
) -> list[str]:
    """The lines that read `attribute` into `v{index}`, coerced by `coerce{index}` (its
    result `check`ed for a null), or raise `Irregular` on a null where none is allowed."""
    value = f"v{index}"
    # An exception held as a value is an error where it stands: the level decides that.
    coerced = [
        f"if isinstance({value}, Exception):",
        "    raise Irregular",
        f"{value} = coerce{index}({value})",
    ]
    if check:
        coerced += [f"if {value} is None or {value} is Undefined:", "    raise Irregular"]
    lines = [f"        {value} = each.{attribute}"]
    if not nullable:
        lines += [f"        if {value} is None:", "            raise Irregular"]
    regular = _REGULAR.get(leaf.name)
    conditions = ([f"{value} is not None"] if nullable else []) + (
        [f"not ({regular.format(value)})"] if regular else []
    )
    if not conditions:
        return [*lines, *(f"        {line}" for line in coerced)]
    return [
        *lines,
        f"        if {' and '.join(conditions)}:",
        *(f"            {line}" for line in coerced),
    ]

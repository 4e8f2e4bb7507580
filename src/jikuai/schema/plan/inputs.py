"""Variables and arguments of scalar and enum types, coerced without graphql-core's general walk.

Most operations the clients send take a few IDs, strings and numbers, and pass them straight to
a field's arguments. graphql-core's coercion walks each variable's type on every request, and
each argument's node, whatever they are; strawberry's conversion then walks the arguments again.
For leaf types the outcome is simple: a variable's value is its type's own `coerce_input_value`
of what the client sent, and an argument given by a variable is that variable's value. So here
those cases are worked out once per operation, and a request whose values are not this simple
(a variable missing or null where it may not be, a value the type refuses) is left to
graphql-core, which reports it in its own words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLSchema,
    VariableDefinitionNode,
    VariableNode,
    is_leaf_type,
)
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import VariableValues, VariableValueSource
from graphql.language import FieldNode
from graphql.pyutils import Undefined
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str
    signature: GraphQLVariableSignature
    type: GraphQLLeafType
    required: bool


class LeafVariables:
    """The operation's variables, when each is of a leaf type and has no default."""

    __slots__ = ("_variables",)

    def __init__(self, variables: tuple[_Variable, ...]) -> None:
        self._variables = variables

    @classmethod
    def of(
        cls, schema: GraphQLSchema, definitions: Sequence[VariableDefinitionNode]
    ) -> LeafVariables | None:
        """None unless every variable is of a leaf type and has no default."""
        variables: list[_Variable] = []
        for definition in definitions:
            signature = get_variable_signature(schema, definition)
            if not isinstance(signature, GraphQLVariableSignature) or definition.default_value:
                return None
            type_ = signature.type
            named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
            if not is_leaf_type(named):
                return None
            variables.append(_Variable(signature.name, signature, named, named is not type_))
        return cls(tuple(variables))

    def coerce(self, inputs: Mapping[str, Any]) -> VariableValues | None:
        """What graphql-core's `get_variable_values` gives for these inputs; None where it
        would report an error."""
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for variable in self._variables:
            name = variable.name
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if variable.required:
                    return None
                sources[name] = VariableValueSource(variable.signature)
                continue
            sources[name] = VariableValueSource(variable.signature, value)
            if value is None:
                if variable.required:
                    return None
                coerced[name] = None
                continue
            try:
                value = variable.type.coerce_input_value(value)
            except Exception:
                return None
            if value is Undefined:  # refused without raising
                return None
            coerced[name] = value
        return VariableValues(sources, coerced)


@dataclass(frozen=True, slots=True)
class _Argument:
    python_name: str
    variable: str
    required: bool


class LeafArguments:
    """A field's arguments, when each is a leaf-typed argument given by a variable, read off
    the coerced variables as graphql-core and strawberry would convert them."""

    __slots__ = ("_arguments",)

    def __init__(self, arguments: tuple[_Argument, ...]) -> None:
        self._arguments = arguments

    @classmethod
    def of(
        cls,
        definition: GraphQLField,
        node: FieldNode,
        field: StrawberryField,
        config: StrawberryConfig,
        scalars: Mapping[object, Any],
    ) -> LeafArguments | None:
        """None unless every argument the field defines is given by a variable and is of a
        type strawberry passes on as it is (a scalar other than GlobalID, or an enum)."""
        given = {each.name.value: each.value for each in node.arguments or ()}
        by_name = {config.name_converter.from_argument(each): each for each in field.arguments}
        if set(given) != set(definition.args) or set(by_name) != set(definition.args):
            return None
        arguments: list[_Argument] = []
        for name, argument in definition.args.items():
            value = given[name]
            strawberry_argument = by_name[name]
            if not isinstance(value, VariableNode) or not _passed_as_is(
                strawberry_argument.type, scalars
            ):
                return None
            arguments.append(
                _Argument(
                    strawberry_argument.python_name,
                    value.name.value,
                    isinstance(argument.type, GraphQLNonNull),
                )
            )
        return cls(tuple(arguments))

    def values(self, variables: VariableValues) -> dict[str, Any] | None:
        """The resolver's keyword arguments; None where graphql-core would use a default or
        report an error."""
        coerced = variables.coerced
        arguments: dict[str, Any] = {}
        for argument in self._arguments:
            value = coerced.get(argument.variable, Undefined)
            if value is Undefined or (value is None and argument.required):
                return None
            arguments[argument.python_name] = value
        return arguments


def _passed_as_is(type_: Any, scalars: Mapping[object, Any]) -> bool:
    """Whether strawberry's `convert_argument` returns a value of this type unchanged: a
    scalar other than GlobalID, or an enum, optional or not (but not Maybe, which wraps it)."""
    if type(type_) is StrawberryOptional:
        type_ = type_.of_type
    if type_ is GlobalID:
        return False
    return (
        is_scalar(type_, scalars)
        or isinstance(type_, StrawberryEnumDefinition)
        or has_enum_definition(type_)
    )

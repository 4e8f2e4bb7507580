"""Compiling a validated operation into a plan, once.

Fields are collected per selection set as graphql-core collects them (aliases, fragments and
their type conditions, fragments visited once), which is static once directives are ruled out
and every type in the selection is an object type.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    Visitor,
    default_field_resolver,
    is_abstract_type,
    is_leaf_type,
    type_from_ast,
    visit,
)
from graphql.pyutils import Undefined, inspect
from graphql.type.introspection import TypeNameMetaFieldDef
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.types.field import StrawberryField

from jikuai.schema.plan.batch import BATCH
from jikuai.schema.plan.fuse import fusable, fuse
from jikuai.schema.plan.inputs import LeafArguments, LeafVariables
from jikuai.schema.plan.model import (
    Attribute,
    Batch,
    Completion,
    Field,
    Generic,
    Items,
    Leaf,
    Objects,
    Reader,
    Resolver,
    Selection,
    TypeName,
)
from jikuai.schema.plan.run import Plan

STRAWBERRY_DEFINITION = "strawberry-definition"
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
CONDITIONS = frozenset({"include", "skip"})
MAX_CONDITIONS = 4  # boolean variables: a plan is compiled for each of their 2**n values


class Unsupported(Exception):
    """The operation uses what plans do not cover; graphql-core runs it."""


def compile_operation(
    schema: strawberry.Schema, document: DocumentNode, operation: OperationDefinitionNode
) -> Plan:
    """The plan of a validated operation; Unsupported if it needs graphql-core."""
    if operation.operation not in (OperationType.QUERY, OperationType.MUTATION):
        raise Unsupported(operation.operation.value)
    conditions = _conditions(document)
    if len(conditions) > MAX_CONDITIONS:
        raise Unsupported("too many conditions")
    fragments = {
        each.name.value: each
        for each in document.definitions
        if isinstance(each, FragmentDefinitionNode)
    }
    if any(each.variable_definitions for each in fragments.values()):
        raise Unsupported("fragment variables")
    root_type = schema._schema.get_root_type(operation.operation)
    if root_type is None:
        raise Unsupported(f"no {operation.operation.value} type")
    roots = {
        values: _Compiler(schema, fragments, dict(zip(conditions, values, strict=True))).selection(
            root_type, [operation.selection_set]
        )
        for values in itertools.product((False, True), repeat=len(conditions))
    }
    return Plan(
        schema=schema._schema,
        operation=operation,
        fragments=fragments,
        conditions=conditions,
        roots=roots,
        serial=operation.operation is OperationType.MUTATION,
        leaf_variables=LeafVariables.of(schema._schema, operation.variable_definitions or ()),
        scalar_registry=schema.schema_converter.scalar_registry,
        config=schema.config,
    )


class _Compiler:
    def __init__(
        self,
        schema: strawberry.Schema,
        fragments: dict[str, FragmentDefinitionNode],
        conditions: dict[str, bool],
    ) -> None:
        self._schema = schema._schema
        self._fragments = fragments
        self._conditions = conditions
        self._config = schema.config
        self._scalars = schema.schema_converter.scalar_registry
        self._reads_attributes = schema.config.default_resolver is getattr
        self._handles_exceptions = bool(schema.schema_converter._exception_handler_specs)

    def selection(
        self, type_: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> Selection:
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(type_, selection_set, grouped, visited)
        fields = tuple(self._field(type_, key, nodes) for key, nodes in grouped.items())
        return Selection(
            type=type_,
            fields=fields,
            build=fuse(type_.name, fields),
            rest=tuple(each for each in fields if not fusable(each)),
        )

    def _collect(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection, type_):
                    self._collect(type_, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or not self._applies(fragment, type_) or name in visited:
                    continue
                visited.add(name)
                self._collect(type_, fragment.selection_set, grouped, visited)

    def _included(self, selection: SelectionNode) -> bool:
        """`@skip` and `@include` as graphql-core reads them, with this plan's values."""
        for directive in selection.directives or ():
            condition = self._condition(_if(directive))
            if directive.name.value == "skip" and condition:
                return False
            if directive.name.value == "include" and not condition:
                return False
        return True

    def _condition(self, value: ValueNode) -> bool:
        if isinstance(value, VariableNode):
            return self._conditions[value.name.value]
        return isinstance(value, BooleanValueNode) and value.value

    def _applies(
        self, fragment: InlineFragmentNode | FragmentDefinitionNode, type_: GraphQLObjectType
    ) -> bool:
        if fragment.type_condition is None:
            return True
        condition = type_from_ast(self._schema, fragment.type_condition)
        if condition is type_:
            return True
        if is_abstract_type(condition):
            return self._schema.is_sub_type(condition, type_)
        return False

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> Field:
        name = nodes[0].name.value
        if name in INTROSPECTION_FIELDS:
            raise Unsupported("introspection")
        typename = name == "__typename"
        definition = TypeNameMetaFieldDef if typename else parent.fields[name]
        completion, nullable = self._completion(definition.type, nodes)
        has_arguments = bool(definition.args or nodes[0].arguments)
        reader = TypeName() if typename else self._reader(definition, nodes[0], has_arguments)
        return Field(
            key=key,
            name=name,
            nodes=nodes,
            parent_type=parent,
            definition=definition,
            reader=reader,
            completion=completion,
            nullable=nullable,
            has_arguments=has_arguments,
        )

    def _reader(self, definition: GraphQLField, node: FieldNode, has_arguments: bool) -> Reader:
        """How the field gets its value: strawberry's own resolver (Generic) unless the field
        is a plain attribute, a batch load, or a resolver with no extensions to run."""
        strawberry_field = definition.extensions.get(STRAWBERRY_DEFINITION)
        generic = Generic(definition.resolve or default_field_resolver)
        if not isinstance(strawberry_field, StrawberryField) or self._runs_extensions(
            strawberry_field
        ):
            return generic
        resolver = strawberry_field.base_resolver
        if resolver is None:
            return Attribute(strawberry_field.python_name) if self._reads_attributes else generic
        load = strawberry_field.metadata.get(BATCH)
        if load is not None and not has_arguments:
            return Batch(load)
        function = resolver.wrapped_func
        if not callable(function):
            return generic
        return Resolver(
            function=function,
            field=strawberry_field,
            passes_self=resolver.self_parameter is not None,
            source_names=tuple(
                parameter.name
                for parameter in (resolver.root_parameter, resolver.parent_parameter)
                if parameter is not None
            ),
            info_name=resolver.info_parameter.name if resolver.info_parameter else None,
            arguments=LeafArguments.of(
                definition, node, strawberry_field, self._config, self._scalars
            )
            if has_arguments
            else None,
        )

    def _runs_extensions(self, field: StrawberryField) -> bool:
        return bool(field.extensions) or self._handles_exceptions

    def _completion(
        self, type_: GraphQLOutputType, nodes: list[FieldNode]
    ) -> tuple[Completion, bool]:
        nullable = not isinstance(type_, GraphQLNonNull)
        named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(named, GraphQLList):
            item, item_nullable = self._completion(named.of_type, nodes)
            return Items(item=item, nullable=item_nullable), nullable
        if is_leaf_type(named):
            return Leaf(named, _coercer(named)), nullable
        if isinstance(named, GraphQLObjectType):
            selection = self.selection(
                named, [node.selection_set for node in nodes if node.selection_set]
            )
            own_check = getattr(named.extensions.get(STRAWBERRY_DEFINITION), "is_type_of", None)
            accepted: set[type] | None = None if own_check is not None else set()
            return Objects(type=named, selection=selection, accepted=accepted), nullable
        raise Unsupported(f"abstract type {named}")


def _conditions(document: DocumentNode) -> tuple[str, ...]:
    """The variables `@include(if:)` and `@skip(if:)` read, in order of first use.

    Unsupported for any other directive, or one where a selection does not hold it."""
    found: dict[str, None] = {}

    class Finder(Visitor):
        def enter_directive(
            self, node: DirectiveNode, _key: Any, _parent: Any, _path: Any, ancestors: Any
        ) -> None:
            holder = next(each for each in reversed(ancestors) if isinstance(each, Node))
            on_selection = isinstance(holder, FieldNode | InlineFragmentNode | FragmentSpreadNode)
            if node.name.value not in CONDITIONS or not on_selection:
                raise Unsupported(f"directive @{node.name.value}")
            value = _if(node)
            if isinstance(value, VariableNode):
                found[value.name.value] = None

    visit(document, Finder())
    return tuple(found)


def _if(directive: DirectiveNode) -> ValueNode:
    """The `if:` of `@include` or `@skip` (validation makes sure there is one)."""
    return next(each.value for each in directive.arguments or () if each.name.value == "if")


def _coercer(type_: GraphQLLeafType) -> Callable[[Any], Any]:
    """`type_.coerce_output_value` as graphql-core applies it, with the common cases inline:
    a str for String and ID, a bool for Boolean, an int in range for Int, a finite float for
    Float are their own output."""
    coerce = type_.coerce_output_value

    def checked(value: Any) -> Any:
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(type_)}.coerce_output_value({inspect(value)})`"
                f" to return non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced

    if type_ is GraphQLString or type_ is GraphQLID:
        return lambda value: value if type(value) is str else checked(value)
    if type_ is GraphQLBoolean:
        return lambda value: value if type(value) is bool else checked(value)
    if type_ is GraphQLInt:
        return lambda value: (
            value
            if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT
            else checked(value)
        )
    if type_ is GraphQLFloat:
        return lambda value: (
            value if type(value) is float and math.isfinite(value) else checked(value)
        )
    if isinstance(type_, CustomGraphQLEnumType):
        return _enum_coercer(type_, checked)
    return checked


def _enum_coercer(
    type_: CustomGraphQLEnumType, checked: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """A member of the Python enum is written as the first GraphQL value of the same value,
    as strawberry's enum type writes it; anything else goes through the type itself."""
    names: dict[Any, str] = {}
    member: Any
    for member in type_.wrapped_cls:
        for name, value in type_.values.items():
            if member.value == value.value:
                names[member] = name
                break
    enum = type_.wrapped_cls

    def coerce(value: Any) -> Any:
        name = names.get(value) if type(value) is enum else None
        return name if name is not None else checked(value)

    return coerce

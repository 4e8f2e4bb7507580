"""Running a plan: level by level, each field once for all the objects of its level.

A level is the objects one selection set completes: the root, then (say) the 50 customers of
a page, then all their loans together. A plain field is read off every object in one loop; a
batch relation is one call for the whole level; resolvers of a level run concurrently. Values
complete as graphql-core completes them, and errors follow its rules: an error is located at
the field (or list item) where it arose and recorded at the nearest nullable position, which
becomes null; one already under a nulled position is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Mapping, Sequence
from dataclasses import dataclass
from types import GeneratorType
from typing import Any, Protocol, cast

from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    located_error,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path, inspect, is_awaitable, is_iterable
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import convert_arguments
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from jikuai.schema.plan.inputs import LeafVariables
from jikuai.schema.plan.model import (
    Attribute,
    Batch,
    Completion,
    Field,
    Generic,
    Items,
    Leaf,
    Objects,
    Resolver,
    Selection,
    TypeName,
)

MAX_COERCION_ERRORS = 50  # graphql-core's default


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """An operation compiled once; `execute` runs it for one request.

    `roots` holds the root selection for each combination of the boolean variables that
    `@include` and `@skip` read (`conditions`), in their order; without such variables, one.
    """

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    conditions: tuple[str, ...]
    roots: Mapping[tuple[bool, ...], Selection]
    serial: bool
    leaf_variables: LeafVariables | None
    scalar_registry: Mapping[Any, Any]
    config: StrawberryConfig

    async def execute(
        self, variables: dict[str, Any] | None, context: Any
    ) -> ExecutionResult | None:
        """The result graphql-core's `execute` would give for this operation; None, having
        run nothing, when a condition's variable is not a boolean (graphql-core reports it)."""
        coerced = self.coerce(variables or {})
        if isinstance(coerced, list):
            return ExecutionResult(None, coerced)
        values = tuple(coerced.coerced.get(name) for name in self.conditions)
        root = self.roots.get(values)  # type: ignore[arg-type]
        if root is None:
            return None
        return await _Run(self, context, coerced).result(root)

    def coerce(self, variables: dict[str, Any]) -> VariableValues | list[GraphQLError]:
        """Leaf variables as worked out once (`plan.inputs`); any others, and any value that
        is not simple, as graphql-core coerces them."""
        if self.leaf_variables is not None:
            coerced = self.leaf_variables.coerce(variables)
            if coerced is not None:
                return coerced
        return get_variable_values(
            self.schema,
            self.operation.variable_definitions or (),
            variables,
            max_errors=MAX_COERCION_ERRORS,
        )


class _Failed:
    """A value that is null where null is not allowed: its error nulls the parent."""

    __slots__ = ("error",)

    def __init__(self, error: GraphQLError) -> None:
        self.error = error


_SKIPPED: Any = object()  # no value: the object failed before or by this field


class Paths(Protocol):
    """Where each object of a level is: a path is made only when an error needs one."""

    def __getitem__(self, index: int, /) -> Path | None: ...


class Positions(Protocol):
    """Where each value of a field is, made only when an error needs one."""

    def __getitem__(self, index: int, /) -> Path: ...


class _Positions:
    """The paths of one field on each object of a level."""

    __slots__ = ("key", "parents", "type_name")

    def __init__(self, parents: Paths, key: str, type_name: str) -> None:
        self.parents, self.key, self.type_name = parents, key, type_name

    def __getitem__(self, index: int) -> Path:
        return Path(self.parents[index], self.key, self.type_name)


class _Items:
    """The paths of a level's list items, all lists flattened: item `i` is at
    `offsets[i]` of the list at `owners[i]`."""

    __slots__ = ("lists", "offsets", "owners")

    def __init__(self, lists: Positions, owners: list[int], offsets: list[int]) -> None:
        self.lists, self.owners, self.offsets = lists, owners, offsets

    def __getitem__(self, index: int) -> Path:
        return Path(self.lists[self.owners[index]], self.offsets[index], None)


class _Among:
    """The positions of the values at `indexes`."""

    __slots__ = ("indexes", "positions")

    def __init__(self, positions: Positions, indexes: list[int]) -> None:
        self.positions, self.indexes = positions, indexes

    def __getitem__(self, index: int) -> Path:
        return self.positions[self.indexes[index]]


class _Run:
    def __init__(self, plan: Plan, context: Any, variables: VariableValues) -> None:
        self.plan = plan
        self.context = context
        self.variables = variables
        self.errors: list[GraphQLError] = []
        self.nulled: set[Path | None] = set()
        self.tracked: list[Any] = []
        self.helpers = GraphQLResolveInfoHelpers(gather=_gather, track=self.tracked.extend)

    async def result(self, root: Selection) -> ExecutionResult:
        (data,) = await self.level(root, [None], [None], serial=self.plan.serial)
        if self.tracked:
            await asyncio.gather(
                *(each for each in self.tracked if is_awaitable(each)), return_exceptions=True
            )
        if isinstance(data, _Failed):
            self.record(data.error, None)
            return ExecutionResult(None, self.errors)
        return ExecutionResult(data, self.errors or None)

    def record(self, error: GraphQLError, position: Path | None) -> None:
        """Keep the error that nulled `position`, unless an enclosing position already is."""
        if None in self.nulled:
            return
        at = position
        while at is not None:
            if at in self.nulled:
                return
            at = at.prev
        self.nulled.add(position)
        self.errors.append(error)

    # Levels

    async def level(
        self,
        selection: Selection,
        objects: list[Any],
        paths: Paths,
        *,
        serial: bool = False,
    ) -> list[dict[str, Any] | _Failed]:
        """The selection completed on every object; a `_Failed` object is to be nulled.

        graphql-core completes a field whose value is at hand at once, in field order, and
        stops at the first that fails an object; fields that wait run concurrently and all
        complete. So here: values at hand first, in field order, skipping objects already
        failed; then the awaited ones, in field order, for the objects still standing, each
        object failing by the first of them that fails it.
        """
        fields = selection.fields
        built = None
        if selection.build is not None and not serial:
            try:
                built = selection.build(objects)
            except Exception:
                built = None  # something irregular: every field the careful way
            else:
                fields = selection.rest
        columns: list[list[Any] | None] = [None] * len(fields)
        failures: list[_Failed | None] = [None] * len(objects)
        if serial:
            for at, field in enumerate(fields):
                values = self.resolve(field, objects, paths)
                if not isinstance(values, list):
                    values = await values
                columns[at] = await self.fill(field, values, paths, failures, failures)
                if failures[0] is not None:
                    break  # a failed mutation ends the operation
            return self.outputs(fields, columns, failures)
        resolved = [self.resolve(field, objects, paths) for field in fields]
        waiting: list[int] = []
        for at, (field, values) in enumerate(zip(fields, resolved, strict=True)):
            if isinstance(values, list):
                columns[at] = await self.fill(field, values, paths, failures, failures)
            else:
                waiting.append(at)
        if waiting:
            standing = list(failures)
            pending = [cast("Awaitable[list[Any]]", resolved[at]) for at in waiting]
            awaited = await self.wait(pending)
            for at, values in zip(waiting, awaited, strict=True):
                columns[at] = await self.fill(fields[at], values, paths, failures, standing)
        if built is not None:
            return self.merged(built, fields, columns, failures)
        return self.outputs(fields, columns, failures)

    @staticmethod
    def merged(
        built: list[dict[str, Any]],
        fields: Sequence[Field],
        columns: list[list[Any] | None],
        failures: list[_Failed | None],
    ) -> list[dict[str, Any] | _Failed]:
        """The fused responses with the other fields' values put at their places."""
        for field, column in zip(fields, columns, strict=True):
            if column is None:
                continue
            key = field.key
            for response, value in zip(built, column, strict=True):
                response[key] = value
        return [failure or built[index] for index, failure in enumerate(failures)]

    @staticmethod
    def outputs(
        fields: Sequence[Field],
        columns: list[list[Any] | None],
        failures: list[_Failed | None],
    ) -> list[dict[str, Any] | _Failed]:
        """Each object's response, its keys in the selection's order, as graphql-core
        makes them whatever order the values came in."""
        keyed = [
            (field.key, column)
            for field, column in zip(fields, columns, strict=True)
            if column is not None
        ]
        return [
            failure
            or {key: column[index] for key, column in keyed if column[index] is not _SKIPPED}
            for index, failure in enumerate(failures)
        ]

    async def wait(self, pending: list[Awaitable[list[Any]]]) -> list[list[Any]]:
        """The values of fields that wait, awaited concurrently."""
        if len(pending) == 1:
            return [await pending[0]]
        return list(await asyncio.gather(*pending))

    async def fill(
        self,
        field: Field,
        values: list[Any],
        paths: Paths,
        failures: list[_Failed | None],
        skipped: list[_Failed | None],
    ) -> list[Any]:
        """The field's completed value on each object (`_SKIPPED` on those `skipped` marks);
        an object's first failure is the one its parent sees."""
        alive = [index for index, failure in enumerate(skipped) if failure is None]
        column: list[Any] = values
        if len(alive) < len(skipped):
            values = [values[index] for index in alive]
            paths = [paths[index] for index in alive]
            column = [_SKIPPED] * len(skipped)
        else:
            alive = list(range(len(skipped)))
        positions = _Positions(paths, field.key, field.parent_type.name)
        done = self.complete(field.completion, field.nullable, values, positions, field)
        if not isinstance(done, list):
            done = await done
        for index, value in zip(alive, done, strict=True):
            if not isinstance(value, _Failed):
                column[index] = value
            else:
                column[index] = _SKIPPED
                if failures[index] is None:
                    failures[index] = value
        return column

    # Resolving

    def resolve(
        self, field: Field, objects: list[Any], paths: Paths
    ) -> list[Any] | Awaitable[list[Any]]:
        """The field's raw value on each object (an exception where it raised)."""
        reader = field.reader
        if isinstance(reader, Attribute):
            name = reader.name
            try:
                return [getattr(each, name) for each in objects]
            except Exception:
                return [_attribute(each, name) for each in objects]
        if isinstance(reader, TypeName):
            return [field.parent_type.name] * len(objects)
        if isinstance(reader, Batch):
            return self.load(field, reader, objects)
        return self.call_each(field, reader, objects, paths)

    async def load(self, field: Field, batch: Batch, objects: list[Any]) -> list[Any]:
        try:
            values = list(await batch.load(self.context, objects))
        except Exception as error:
            return [error] * len(objects)
        if len(values) != len(objects):
            wrong = TypeError(f"{field.parent_type.name}.{field.name} loaded {len(values)} values")
            return [wrong] * len(objects)
        return values

    def call_each(
        self,
        field: Field,
        reader: Resolver | Generic,
        objects: list[Any],
        paths: Paths,
    ) -> list[Any] | Awaitable[list[Any]]:
        values: list[Any] = []
        waiting: list[int] = []
        for index, each in enumerate(objects):
            try:
                value = self.call(field, reader, each, paths[index])
            except Exception as error:
                value = error
            if is_awaitable(value):
                waiting.append(index)
            values.append(value)
        if not waiting:
            return values
        return self.settle(values, waiting)

    async def settle(self, values: list[Any], waiting: list[int]) -> list[Any]:
        """Await the values at `waiting`, an exception standing for a value that raised."""
        if len(waiting) == 1:  # as gather would, without a task to run it in
            (index,) = waiting
            try:
                values[index] = await values[index]
            except Exception as error:
                values[index] = error
            return values
        done = await asyncio.gather(*(values[index] for index in waiting), return_exceptions=True)
        for index, value in zip(waiting, done, strict=True):
            if isinstance(value, BaseException) and not isinstance(value, Exception):
                raise value
            values[index] = value
        return values

    def call(
        self, field: Field, reader: Resolver | Generic, source: Any, parent: Path | None
    ) -> Any:
        """The resolver's value for one parent. Arguments are coerced for each call, as
        graphql-core does, so no two calls share a list or an input object."""
        if isinstance(reader, Generic):
            raw = self.raw_arguments(field)
            raw_info = self.raw_info(field, Path(parent, field.key, field.parent_type.name))
            return reader.resolve(source, raw_info, **raw)
        info = None
        if reader.info_name:
            path = Path(parent, field.key, field.parent_type.name)
            info = self.plan.config.info_class(
                _raw_info=self.raw_info(field, path), _field=reader.field
            )
        arguments = self.arguments(field, reader, info)
        for name in reader.source_names:
            arguments[name] = source
        if reader.info_name:
            arguments[reader.info_name] = info
        if reader.passes_self:
            return reader.function(source, **arguments)
        return reader.function(**arguments)

    def arguments(self, field: Field, reader: Resolver, info: Any) -> dict[str, Any]:
        """The resolver's keyword arguments, converted as strawberry converts them."""
        if reader.arguments is not None:
            found = reader.arguments.values(self.variables)
            if found is not None:
                return found
        raw = self.raw_arguments(field)
        if not raw:
            return {}
        return convert_arguments(
            raw,
            reader.field.arguments,
            scalar_registry=self.plan.scalar_registry,
            config=self.plan.config,
            info=info,
        )

    def raw_arguments(self, field: Field) -> dict[str, Any]:
        if not field.has_arguments:
            return {}
        return get_argument_values(field.definition, field.nodes[0], self.variables)

    def raw_info(self, field: Field, path: Path) -> GraphQLResolveInfo[Any]:
        """What graphql-core gives a resolver; built only for resolvers that take it."""
        return GraphQLResolveInfo(
            field.name,
            field.nodes,
            field.definition.type,
            field.parent_type,
            path,
            self.plan.schema,
            self.plan.fragments,
            None,
            self.plan.operation,
            self.variables,
            self.context,
            is_awaitable,
            None,
            self.helpers,
        )

    # Completing

    def complete(
        self,
        completion: Completion,
        nullable: bool,
        values: list[Any],
        positions: Positions,
        field: Field,
    ) -> list[Any] | Awaitable[list[Any]]:
        if isinstance(completion, Leaf):
            return self.leaves(completion, nullable, values, positions, field)
        if isinstance(completion, Items):
            return self.items(completion, nullable, values, positions, field)
        return self.objects(completion, nullable, values, positions, field)

    def leaves(
        self, leaf: Leaf, nullable: bool, values: list[Any], positions: Positions, field: Field
    ) -> list[Any]:
        coerce = leaf.coerce
        done: list[Any] = []
        for index, value in enumerate(values):
            if value is None:
                done.append(None if nullable else self.null(field, positions[index]))
            elif isinstance(value, Exception):
                done.append(self.fail(value, field, positions[index], nullable))
            else:
                try:
                    done.append(coerce(value))
                except Exception as error:
                    done.append(self.fail(error, field, positions[index], nullable))
        return done

    async def items(
        self, items: Items, nullable: bool, values: list[Any], positions: Positions, field: Field
    ) -> list[Any]:
        """Every list of the level completed as one level of items."""
        done: list[Any] = [None] * len(values)
        flat: list[Any] = []
        owners: list[int] = []
        offsets: list[int] = []
        spans: list[tuple[int, int, int]] = []
        for index, value in enumerate(values):
            if value is None:
                done[index] = None if nullable else self.null(field, positions[index])
                continue
            if isinstance(value, Exception):
                done[index] = self.fail(value, field, positions[index], nullable)
                continue
            try:
                listed = value if type(value) is list else await _listed(value)
            except Exception as error:
                done[index] = self.fail(error, field, positions[index], nullable)
                continue
            if listed is None:
                wrong = GraphQLError(
                    "Expected Iterable, but did not find one for field"
                    f" '{field.parent_type.name}.{field.name}'."
                )
                done[index] = self.fail(wrong, field, positions[index], nullable)
                continue
            start = len(flat)
            flat.extend(listed)
            owners.extend([index] * len(listed))
            offsets.extend(range(len(listed)))
            spans.append((index, start, len(flat)))
        waiting = [at for at, each in enumerate(flat) if _awaitable(each)]
        if waiting:
            flat = await self.settle(flat, waiting)
        item_positions = _Items(positions, owners, offsets)
        completed = self.complete(items.item, items.nullable, flat, item_positions, field)
        if not isinstance(completed, list):
            completed = await completed
        for index, start, end in spans:
            span = completed[start:end]
            failure = next((each for each in span if isinstance(each, _Failed)), None)
            if failure is None:
                done[index] = span
            elif nullable:
                self.record(failure.error, positions[index])
            else:
                done[index] = failure
        return done

    async def objects(
        self,
        objects: Objects,
        nullable: bool,
        values: list[Any],
        positions: Positions,
        field: Field,
    ) -> list[Any]:
        """The objects of the level completed together, their selection as the next level."""
        done: list[Any] = [None] * len(values)
        found: list[Any] = []
        found_at: list[int] = []
        for index, value in enumerate(values):
            if value is None:
                done[index] = None if nullable else self.null(field, positions[index])
                continue
            problem = value if isinstance(value, Exception) else _not_a(objects, value, field)
            if problem is not None:
                done[index] = self.fail(problem, field, positions[index], nullable)
                continue
            found.append(value)
            found_at.append(index)
        if not found:
            return done
        completed = await self.level(objects.selection, found, _Among(positions, found_at))
        for index, value in zip(found_at, completed, strict=True):
            if not isinstance(value, _Failed):
                done[index] = value
            elif nullable:
                self.record(value.error, positions[index])
            else:
                done[index] = value
        return done

    def null(self, field: Field, position: Path) -> _Failed:
        """A null where the type allows none."""
        error = TypeError(field.null_message)
        return _Failed(located_error(error, field.nodes, position.as_list()))

    def fail(self, raised: Exception, field: Field, position: Path, nullable: bool) -> Any:
        """The error located at `position`: recorded and null there if it may be null,
        otherwise carried to the parent."""
        error = located_error(raised, field.nodes, position.as_list())
        if not nullable:
            return _Failed(error)
        self.record(error, position)
        return None


async def _listed(value: Any) -> list[Any] | None:
    """The items of a list value (an iterable, or an asynchronous one as graphql-core also
    takes), or None for anything else; an exception raised while iterating propagates."""
    if is_iterable(value):
        return list(value)
    if isinstance(value, AsyncIterable):
        return [each async for each in value]
    return None


def _not_a(objects: Objects, value: Any, field: Field) -> Exception | None:
    """Why `value` is not of the field's object type, as graphql-core finds it with the type's
    own check (strawberry's looks at the value alone, so it is given no info), or None."""
    is_type_of = objects.type.is_type_of
    if is_type_of is None:
        return None
    # strawberry's check depends on the class alone, unless the value was cast to a type.
    accepted = objects.accepted
    cast_to = getattr(value, TYPE_CAST_ATTRIBUTE, None)
    if accepted is not None and cast_to is None and type(value) in accepted:
        return None
    try:
        if is_type_of(value, None):  # type: ignore[arg-type]
            if accepted is not None and cast_to is None:
                accepted.add(type(value))
            return None
    except Exception as error:
        return error
    return GraphQLError(
        f"Expected value of type '{objects.type}' but got: {inspect(value)}.", field.nodes
    )


_PLAIN: set[type] = set()  # types whose values graphql-core finds not awaitable


def _awaitable(value: Any) -> bool:
    """graphql-core's `is_awaitable`, remembered for the plain types it looks at by type."""
    kind = type(value)
    if kind in _PLAIN:
        return False
    if is_awaitable(value):
        return True
    if not isinstance(value, GeneratorType):  # a generator's answer depends on its code
        _PLAIN.add(kind)
    return False


def _attribute(source: Any, name: str) -> Any:
    try:
        return getattr(source, name)
    except Exception as error:
        return error


async def _gather(awaitables: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*awaitables))

"""Variables and arguments of leaf types reach a plan's resolvers as graphql-core and strawberry
would pass them, whatever the client sends: wrong types, nulls, missing values, huge numbers."""

from __future__ import annotations

import datetime
import enum
import json
from decimal import Decimal
from inspect import isawaitable
from typing import Annotated, Any

import strawberry
from graphql import execute, get_operation_ast, parse
from graphql.execution.values import VariableValues, get_variable_values
from hypothesis import given, settings
from hypothesis import strategies as st

from jikuai.schema.plan import compile_operation
from jikuai.schema.plan.inputs import LeafVariables


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@strawberry.type
class Query:
    @strawberry.field
    def echo(
        self,
        ident: Annotated[strawberry.ID, strawberry.argument(name="id")],
        flag: bool,
        text: str | None = None,
        count: int | None = None,
        ratio: float | None = None,
        color: Color | None = None,
        day: datetime.date | None = None,
        amount: Decimal | None = None,
    ) -> str:
        received = [ident, text, count, flag, ratio, color, day, amount]
        return json.dumps([[type(each).__name__, str(each)] for each in received])

    @strawberry.field
    def pair(
        self, ident: Annotated[strawberry.ID, strawberry.argument(name="id")], count: int
    ) -> str:
        return f"{ident!r} {count!r}"

    @strawberry.field
    def node_name(
        self, node: strawberry.relay.GlobalID, label: strawberry.Maybe[str | None] = None
    ) -> str:
        return f"{node.type_name}:{node.node_id}:{label!r}"


SCHEMA = strawberry.Schema(query=Query)
ECHO = (
    "query($id: ID!, $text: String, $count: Int, $flag: Boolean!, $ratio: Float,"
    " $color: Color, $day: Date, $amount: Decimal) { echo(id: $id, text: $text, count: $count,"
    " flag: $flag, ratio: $ratio, color: $color, day: $day, amount: $amount) }"
)
# Invalid (nullable variables where the arguments are not), which only validation refuses: the
# arguments still come out as graphql-core would make them.
LOOSE = "query($id: ID, $count: Int) { pair(id: $id, count: $count) }"
NODE = "query($node: ID!, $label: String) { nodeName(node: $node, label: $label) }"

values = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.sampled_from(["RED", "red", "2026-12-05", "12.50", "1e3", "", "7", "Q3VzdG9tZXI6MQ=="])
    | st.text(max_size=5)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=2), st.integers(), max_size=1)
)


# Values of each variable's own type, most of the time: a request falls back to graphql-core
# as soon as one variable is wrong, so wrong ones are drawn less often.
TYPED = {
    "id": st.text(max_size=5) | st.integers(),
    "node": st.just("Q3VzdG9tZXI6MQ==") | st.text(max_size=5),
    "text": st.text(max_size=5),
    "label": st.text(max_size=5),
    "count": st.integers(-(2**31), 2**31 - 1),
    "flag": st.booleans(),
    "ratio": st.floats(allow_nan=False) | st.integers(),
    "color": st.sampled_from(["RED", "GREEN"]),
    "day": st.dates().map(str),
    "amount": st.decimals(allow_nan=False, allow_infinity=False).map(str),
}


def _variables(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Each variable given most of the time (arguments are read off the variables only when
    all are), null or of the wrong type some of the time."""
    missing = object()
    each = {
        name: st.just(missing) | st.none() | TYPED[name] | TYPED[name] | TYPED[name] | values
        for name in names
    }
    return st.fixed_dictionaries(each).map(
        lambda drawn: {name: value for name, value in drawn.items() if value is not missing}
    )


async def _same_as_graphql_core(text: str, variables: dict[str, Any]) -> None:
    document = parse(text)
    operation = get_operation_ast(document)
    assert operation is not None
    plan = compile_operation(SCHEMA, document, operation)

    expected = execute(SCHEMA._schema, document, variable_values=variables)
    if isawaitable(expected):
        expected = await expected
    answered = await plan.execute(variables, None)

    assert answered is not None
    assert json.dumps(answered.data) == json.dumps(expected.data)
    given_errors = [each.formatted for each in answered.errors or ()]
    assert given_errors == [each.formatted for each in expected.errors or ()]

    leaves = LeafVariables.of(SCHEMA._schema, operation.variable_definitions)
    coerced = leaves.coerce(variables) if leaves else None
    if coerced is not None:
        expected_values = get_variable_values(
            SCHEMA._schema, operation.variable_definitions, variables
        )
        assert isinstance(expected_values, VariableValues)
        assert coerced.coerced == expected_values.coerced
        assert _sources(coerced) == _sources(expected_values)


def _sources(variables: VariableValues) -> dict[str, Any]:
    """Each variable's source: its name, type and value as given (types compared by name: each
    call of graphql-core wraps them anew)."""
    return {
        name: (source.signature.name, str(source.signature.type), source.value)
        for name, source in variables.sources.items()
    }


@settings(max_examples=300, deadline=None)
@given(
    text=st.sampled_from([ECHO, LOOSE]),
    variables=_variables(["id", "text", "count", "flag", "ratio", "color", "day", "amount"]),
)
async def test_leaf_arguments_reach_the_resolver_as_graphql_core_passes_them(
    text: str, variables: dict[str, Any]
) -> None:
    await _same_as_graphql_core(text, variables)


@settings(max_examples=100, deadline=None)
@given(variables=_variables(["node", "label"]))
async def test_global_ids_and_maybe_arguments_are_converted_by_strawberry(
    variables: dict[str, Any],
) -> None:
    await _same_as_graphql_core(NODE, variables)

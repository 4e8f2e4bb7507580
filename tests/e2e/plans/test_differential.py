"""Every operation the clients ship, run by its compiled plan and by graphql-core on the same
data, with variables hypothesis draws from the operation's own variable types (real IDs of
every type, malformed ones, nulls, wrong enums, bad envelopes) as each kind of user and as no
one: the two HTTP responses must be the same bytes.

A mutation that succeeds changes what a second run would see, so it is compared only when it
was refused (an error or user errors); its successes run through the plan in the rest of the
suite.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
    type_from_ast,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jikuai.config import Settings
from jikuai.resolvers import context as request_context
from jikuai.schema.root import build_schema
from tests.e2e.plans.conftest import Twins

CLIENTS = Path(__file__).parents[3] / "clients"
OPERATIONS = {path.stem: path.read_text() for path in sorted(CLIENTS.rglob("*.graphql"))}
SCHEMA = build_schema(Settings())._schema
TEXTS = ["", "yushu", "JNKD", "2026-11", "雅", "-1", "a" * 40]
DECIMALS = ["0", "0.01", "1", "30000", "-5", "1e3", "abc", "99999999999999999.99", "0.001"]


@pytest.mark.parametrize("name", sorted(OPERATIONS))
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_the_plan_answers_as_graphql_core(
    twins: Twins, name: str, data: st.DataObject
) -> None:
    query = OPERATIONS[name]
    operation = get_operation_ast(parse(query))
    assert operation is not None
    variables = data.draw(_variables(operation, twins), label="variables")
    user = data.draw(st.sampled_from(sorted(twins.tokens)), label="user")
    request = {"query": query, "variables": variables, "operationName": name}
    headers = {"x-request-id": "differential"}
    if twins.tokens[user]:
        headers["authorization"] = f"Bearer {twins.tokens[user]}"

    with pytest.MonkeyPatch.context() as patch:
        # One clock for both requests: some answers say when something expires.
        patch.setattr(request_context, "datetime", _Clock(datetime.now(UTC)))
        generic = await twins.generic.post("/graphql", json=request, headers=headers)
        if operation.operation is OperationType.MUTATION and _succeeded(generic.json()):
            return
        planned = await twins.planned.post("/graphql", json=request, headers=headers)

    assert planned.status_code == generic.status_code
    assert planned.content == generic.content, _difference(planned.text, generic.text)


def _difference(planned: str, generic: str) -> str:
    """Where the two answers part, with some of each around it."""
    at = next(
        (
            index
            for index, pair in enumerate(zip(planned, generic, strict=False))
            if pair[0] != pair[1]
        ),
        min(len(planned), len(generic)),
    )
    start = max(0, at - 200)
    return f"plan: …{planned[start : at + 200]}\ngraphql-core: …{generic[start : at + 200]}"


class _Clock:
    """`datetime` as the request context reads it, stopped at one instant."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self, tz: tzinfo | None = None) -> datetime:
        return self.instant.astimezone(tz)


def _succeeded(body: dict[str, Any]) -> bool:
    """Whether a mutation went through (and so changed what the next run sees)."""
    if body.get("errors") or not body.get("data"):
        return False
    return not any(
        isinstance(payload, dict) and payload.get("userErrors") for payload in body["data"].values()
    )


def _variables(operation: OperationDefinitionNode, twins: Twins) -> st.SearchStrategy[Any]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for definition in operation.variable_definitions or ():
        type_ = type_from_ast(SCHEMA, definition.type)
        strategy = _value(type_, twins)  # type: ignore[arg-type]
        name = definition.variable.name.value
        if isinstance(type_, GraphQLNonNull) and definition.default_value is None:
            required[name] = strategy
        else:
            optional[name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def _value(type_: GraphQLInputType, twins: Twins) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLNonNull):
        return _present(type_.of_type, twins)
    return st.none() | _present(type_, twins)


def _present(type_: GraphQLInputType, twins: Twins) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLList):
        return st.lists(_value(type_.of_type, twins), max_size=3)
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from([*type_.values, "NOT_A_VALUE"])
    if isinstance(type_, GraphQLInputObjectType):
        required = {}
        optional = {}
        for name, field in type_.fields.items():
            strategy = _value(field.type, twins)
            if isinstance(field.type, GraphQLNonNull) and field.default_value is None:
                required[name] = strategy
            else:
                optional[name] = strategy
        return st.fixed_dictionaries(required, optional=optional)
    assert isinstance(type_, GraphQLScalarType)
    return _scalar(type_.name, twins)


def _scalar(name: str, twins: Twins) -> st.SearchStrategy[Any]:
    if name == "ID":
        known = [each for ids in twins.ids.values() for each in ids]
        return st.sampled_from(known) | st.sampled_from(["", "bm90LWFuLWlk", "Q3VzdG9tZXI6eA=="])
    if name == "Int":
        return st.integers(min_value=-2, max_value=120)
    if name == "Float":
        return st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
    if name == "Boolean":
        return st.booleans()
    if name == "Decimal":
        return st.sampled_from(DECIMALS)
    if name == "Date":
        return st.dates().map(lambda day: day.isoformat()) | st.sampled_from(["2026-13-01", ""])
    if name == "DateTime":
        return st.sampled_from(["2026-11-29T08:00:00+00:00", "2020-01-01T00:00:00Z", "soon"])
    if name == "Sealed":
        sealed = [
            twins.seal("idNumber", "220182199003150025"),
            twins.seal("phone", "13904319999"),
            twins.seal("name", "赵丽"),
        ]
        return st.sampled_from(sealed) | st.sampled_from(TEXTS)
    if name == "Upload":
        return st.none()
    return st.sampled_from(TEXTS) | st.text(max_size=12)

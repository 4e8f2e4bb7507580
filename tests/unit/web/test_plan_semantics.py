"""A compiled plan answers as graphql-core does on data hypothesis makes up: nulls where the
schema allows none, resolvers that raise (at once or after awaiting), values of the wrong
type, lists with holes.

The data is always the same, and so is every error graphql-core reports, with two known
differences, both only where several fields fail in one response:
- when an item of a list fails without waiting (a null in a non-null field, or a resolver that
  raises at once) and so nulls the list, graphql-core stops at that item, while the plan has
  completed the list's other items as one level and reports their errors too; those extra
  errors all lie under a position the answer shows as null;
- graphql-core lists errors in the order its awaits happen to finish; the plan lists them by
  level and field, so errors from different depths may come in another order.
For the operations the clients send, `tests/e2e/plans` requires the very same bytes.
"""

from __future__ import annotations

import asyncio
import json
from inspect import isawaitable
from typing import Any

import pytest
import strawberry
from graphql import execute, get_operation_ast, parse
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.types import Info

from jikuai.schema.plan import batched, compile_operation


class Boom(Exception):
    """What a resolver raises when the data says so."""


BOOM = "boom"  # a stored value that makes its resolver raise


def _value(stored: Any) -> Any:
    if stored == BOOM:
        raise Boom("resolver failed")
    return stored


async def _sizes(_: Any, items: list[Item]) -> list[Any]:
    """One parent's failure is its own value, as a batch load must report it."""
    await asyncio.sleep(0)
    return [Boom("load failed") if each.stored_size == BOOM else each.stored_size for each in items]


@strawberry.type
class Item:
    name: str | None
    code: str
    tags: list[str | None] | None
    count: int
    stored_weight: strawberry.Private[Any]
    stored_size: strawberry.Private[Any]
    size: int | None = batched(_sizes, description="Loaded once per level.")

    @strawberry.field
    def weight(self) -> int:
        return _value(self.stored_weight)  # type: ignore[no-any-return]

    @strawberry.field
    async def label(self, info: Info[Any, None], prefix: str = "#") -> str | None:
        await asyncio.sleep(0)
        return None if self.name is None else f"{prefix}{self.name}"


@strawberry.type
class Box:
    title: str
    items: list[Item]
    spare: list[Item | None] | None


@strawberry.type
class Query:
    @strawberry.field
    async def boxes(self, info: Info[Any, None]) -> list[Box | None]:
        return info.context["boxes"]  # type: ignore[no-any-return]

    @strawberry.field
    def first(self, info: Info[Any, None]) -> Box:
        return _value(info.context["first"])  # type: ignore[no-any-return]

    @strawberry.field
    async def total(self, info: Info[Any, None]) -> int:
        return _value(info.context["total"])  # type: ignore[no-any-return]


SCHEMA = strawberry.Schema(query=Query)
QUERIES = [
    "{ boxes { title items { name code count weight size label(prefix: $p) } } }",
    "{ first { items { code tags } spare { name weight } } total }",
    "{ total boxes { spare { size label } title } first { title } }",
    "{ a: boxes { items { ...Parts } } b: first { t: title items { code ...Parts } } }"
    " fragment Parts on Item { code tags size }",
    "{ boxes { items { __typename code } } total }",
    "query($a: Boolean!, $b: Boolean = true) { boxes { title @include(if: $a)"
    " items @skip(if: $b) { code size } } first { ... @include(if: $b) { title }"
    " ...Spare @skip(if: $a) } } fragment Spare on Box { spare { name } title @skip(if: true) }",
]

# An exception held as a value is that field's error, for graphql-core and plans alike.
texts = (
    st.none()
    | st.sampled_from(["x", "y", BOOM])
    | st.integers(-3, 3)
    | st.builds(ValueError, st.just("held"))
)
numbers = st.none() | st.integers(-(2**32), 2**32) | st.sampled_from([BOOM, "7", 1.5])


def _items() -> st.SearchStrategy[Any]:
    return st.builds(
        Item,
        name=texts,
        code=texts,
        tags=st.none() | st.lists(texts, max_size=3),
        count=numbers,
        stored_weight=numbers,
        stored_size=numbers,
    )


boxes = st.builds(
    Box,
    title=texts,
    items=st.none() | st.lists(_items(), max_size=3),
    spare=st.none() | st.lists(st.none() | _items(), max_size=3),
)
contexts = st.fixed_dictionaries(
    {
        "boxes": st.lists(st.none() | boxes, max_size=3),
        "first": st.none() | boxes | st.just(BOOM),
        "total": numbers,
    }
)


# graphql-core leaves the siblings of a field that failed without waiting unawaited.
@pytest.mark.filterwarnings("ignore:coroutine .*_async_resolver' was never awaited")
@settings(max_examples=300, deadline=None)
@given(
    query=st.sampled_from(QUERIES),
    context=contexts,
    variables=st.fixed_dictionaries(
        {"a": st.booleans()}, optional={"b": st.none() | st.booleans()}
    ),
)
async def test_a_plan_answers_as_graphql_core_on_any_data(
    query: str, context: Any, variables: dict[str, Any]
) -> None:
    text = f'query($p: String = "#") {query}' if "$p" in query else query
    document = parse(text)
    operation = get_operation_ast(document)
    assert operation is not None
    plan = compile_operation(SCHEMA, document, operation)

    given_variables = variables if "$a" in query else None
    expected = execute(
        SCHEMA._schema, document, context_value=context, variable_values=given_variables
    )
    if isawaitable(expected):
        expected = await expected
    answered = await plan.execute(given_variables, context)
    if answered is None:  # a condition that is not a boolean: graphql-core answers
        assert variables.get("b", True) is None
        return

    assert json.dumps(answered.data) == json.dumps(expected.data)  # keys in the same order too
    given = [each.formatted for each in answered.errors or ()]
    wanted = [each.formatted for each in expected.errors or ()]
    extra = _without(given, wanted)
    assert all(_under_a_null(answered.data, error["path"]) for error in extra), (given, wanted)


def _without(given: list[Any], wanted: list[Any]) -> list[Any]:
    """`given` less each of `wanted`, all of which it must hold."""
    extra = list(given)
    for each in wanted:
        assert each in extra, f"{each} is missing from the plan's errors {given}"
        extra.remove(each)
    return extra


def _under_a_null(data: Any, path: list[str | int]) -> bool:
    """Whether some position above the end of `path` is null in `data`."""
    node = data
    for key in path[:-1]:
        if node is None:
            return True
        node = node[key]
    return node is None

"""The one schema extension every operation runs through: `RequestPolicy`.

It enforces the document limits (tokens, depth, aliases), caches parsing and validation across
requests, masks internal errors with the request id, and records the operation's name for the
access log. One extension rather than six: each extension's hooks cost time on every request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.schema import validate_document

from jikuai.resolvers.errors import ApiError

log = logging.getLogger("jikuai.graphql")

# Distinct documents kept parsed and validated; clients send a bounded set of operations.
CACHED_DOCUMENTS = 512
# Larger documents (comments do not count against the token limit) are parsed every time, so
# the caches cannot be filled with megabytes of text.
CACHEABLE_QUERY_CHARACTERS = 16_384


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _parse_cached(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validate_cached(
    schema: GraphQLSchema, query: str, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """Keyed by the query's text, whose hash Python keeps, not by its (deep) syntax tree."""
    return validate_document(schema, _parse_cached(query, max_tokens), rules)


class RequestPolicy(MaskErrors):
    def __init__(self, *, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        super().__init__(should_mask_error=_is_internal, error_message="Internal server error")
        self._max_tokens = max_tokens
        self._rules = rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = context.validation_rules + self._rules
        yield from super().on_operation()
        request = getattr(context.context, "request", None)
        if request is not None:
            request.state.operation_name = context.operation_name

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is None:
            pass
        elif len(context.query) > CACHEABLE_QUERY_CHARACTERS:
            context.graphql_document = parse(context.query, max_tokens=self._max_tokens)
        else:
            context.graphql_document = _parse_cached(context.query, self._max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema, rules = context.schema._schema, context.validation_rules
        if context.query is None or context.graphql_document is None:
            pass
        elif len(context.query) > CACHEABLE_QUERY_CHARACTERS:
            context.pre_execution_errors = validate_document(
                schema, context.graphql_document, rules
            )
        else:
            context.pre_execution_errors = _validate_cached(
                schema, context.query, self._max_tokens, rules
            )
        yield

    def _process_result(self, result: object) -> None:
        """As the base class does, without its slow protocol `isinstance` check."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """`INTERNAL` with the request id; the original, with its traceback, goes to the log."""
        request_id = getattr(self.execution_context.context, "request_id", "")
        log.error(
            "internal error in %s",
            ".".join(str(part) for part in error.path or ()),
            exc_info=error.original_error,
            extra={"request_id": request_id},
        )
        return GraphQLError(
            self.error_message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )


def _is_internal(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (ApiError, GraphQLError))


def request_policy(
    *, max_tokens: int, max_depth: int, max_aliases: int
) -> Callable[[], RequestPolicy]:
    """A factory of the extension; the limit rules are built once, so validation caches hit."""
    rules: tuple[Any, ...] = (
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    )
    return lambda: RequestPolicy(max_tokens=max_tokens, rules=rules)

"""Running one GraphQL operation: the path of every POST /graphql.

strawberry's `Schema.execute` wraps graphql-core in per-request machinery (an execution context,
four extension phases, a middleware manager) that costs about a tenth of a small query. The
same steps run here directly on graphql-core, with strawberry's resolvers and executor class:

1. parse, with the token limit, cached by query text;
2. validate with graphql's rules, strawberry's, and ours (depth, aliases; in production no
   introspection), cached by query text;
3. execute: by the operation's compiled plan (`schema.plan`), compiled once and cached by
   query text, or by graphql-core for what plans do not cover;
4. answer: internal errors become `INTERNAL` with the request id (the original, with its
   traceback, goes to the log); in production, validation errors suggest no field names.

Documents over 16 KiB are parsed and validated every time: comments do not count against the
token limit, and the caches must not fill with megabytes of text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    StringValueNode,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
)
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.schema import validate_document

from jikuai.config import Settings
from jikuai.domain.shared.errors import PermissionDenied
from jikuai.resolvers.errors import ApiError, Forbidden
from jikuai.schema.plan import Plan, Unsupported, compile_operation

log = logging.getLogger("jikuai.graphql")

CACHED_DOCUMENTS = 512
CACHEABLE_QUERY_CHARACTERS = 16_384
_SUGGESTION = "Did you mean"


NUL_REFUSED = "Text may not contain the character U+0000"


class NoNulInStrings(ASTValidationRule):
    """PostgreSQL's text cannot hold U+0000, so no string of a document may: refused with the
    document's other faults, before anything runs. (`endpoint` refuses it in variables.)"""

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError(NUL_REFUSED, node))


class UnknownOperation(Exception):
    """The document has no operation of the given name (or several, and no name was given)."""


@dataclass(frozen=True, slots=True)
class Operation:
    """A parsed operation, ready to run; `name` is for the access log. Without a plan, it
    runs through graphql-core."""

    document: DocumentNode
    definition: OperationDefinitionNode
    plan: Plan | None = None

    @property
    def name(self) -> str | None:
        return self.definition.name.value if self.definition.name else None


class OperationRunner:
    def __init__(self, schema: strawberry.Schema, settings: Settings) -> None:
        self._strawberry_schema = schema
        self._schema: GraphQLSchema = schema._schema
        self._compiles = settings.compiled_plans
        self._executor_class = schema.execution_context_class
        self._max_tokens = settings.max_tokens
        self._hide_suggestions = settings.is_production
        rules: list[type[ASTValidationRule]] = [
            *specified_rules,
            *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
            NoNulInStrings,
        ]
        if settings.is_production:
            rules.append(NoSchemaIntrospectionCustomRule)
        self._rules = tuple(rules)

    def prepare(self, query: str, operation_name: str | None) -> Operation | dict[str, Any]:
        """The operation to run, or the response for a document that cannot run.

        Raises UnknownOperation when no operation of that name exists (a bad request).
        """
        try:
            document = self._parse(query)
        except GraphQLError as error:
            return {"data": None, "errors": [self._public(error, "GRAPHQL_PARSE_FAILED")]}
        definition = get_operation_ast(document, operation_name)
        if definition is None:
            raise UnknownOperation(operation_name)
        errors = self._validate(query, document)
        if errors:
            failed = [self._public(error, "GRAPHQL_VALIDATION_FAILED") for error in errors]
            return {"data": None, "errors": failed}
        plan = self._plan(query, operation_name)
        return Operation(document=document, definition=definition, plan=plan)

    async def run(
        self,
        operation: Operation,
        *,
        variables: dict[str, Any] | None,
        context: Any,
        request_id: str,
    ) -> dict[str, Any]:
        """The response body of a prepared operation."""
        result = await operation.plan.execute(variables, context) if operation.plan else None
        if result is None:
            result = await self._execute(operation, variables, context)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [self._answer(error, request_id) for error in result.errors]
        return body

    async def _execute(
        self, operation: Operation, variables: dict[str, Any] | None, context: Any
    ) -> ExecutionResult:
        """The operation run by graphql-core, with strawberry's resolvers."""
        executed = execute(
            self._schema,
            operation.document,
            variable_values=variables,
            operation_name=operation.name,
            context_value=context,
            executor_class=self._executor_class,
        )
        return await executed if isawaitable(executed) else executed

    def _parse(self, query: str) -> DocumentNode:
        if len(query) > CACHEABLE_QUERY_CHARACTERS:
            return parse(query, max_tokens=self._max_tokens)
        return _parse_cached(query, self._max_tokens)

    def _validate(self, query: str, document: DocumentNode) -> Sequence[GraphQLError]:
        try:
            if len(query) > CACHEABLE_QUERY_CHARACTERS:
                return validate_document(self._schema, document, self._rules)
            return _validate_cached(self._schema, query, self._max_tokens, self._rules)
        except ValidationAbortedError as aborted:
            # A rule reporting past graphql-core's error limit outside its visit (the depth
            # limiter does, at the end) raises instead of adding the error.
            return [aborted]

    def _plan(self, query: str, operation_name: str | None) -> Plan | None:
        if not self._compiles or len(query) > CACHEABLE_QUERY_CHARACTERS:
            return None
        return _plan_cached(self._strawberry_schema, query, self._max_tokens, operation_name)

    def _public(self, error: GraphQLError, default_code: str | None = None) -> dict[str, Any]:
        """The error as the client sees it, with a stable `extensions.code` where it had none."""
        formatted = dict(error.formatted)
        message = str(formatted["message"])
        if self._hide_suggestions and _SUGGESTION in message:
            formatted["message"] = message.split(_SUGGESTION)[0].strip()
        extensions: dict[str, Any] = dict(error.extensions or {})
        if default_code is not None and "code" not in extensions:
            formatted["extensions"] = extensions | {"code": default_code}
        return formatted

    def _answer(self, error: GraphQLError, request_id: str) -> dict[str, Any]:
        original = error.original_error
        if isinstance(original, PermissionDenied):
            # A role that may not read this at all, found below the resolver's own checks.
            denied = Forbidden()
            return dict(
                GraphQLError(
                    denied.message, nodes=error.nodes, path=error.path, extensions=denied.extensions
                ).formatted
            )
        if original is None or isinstance(original, (ApiError, GraphQLError)):
            # Without a path, the operation never ran: its variables did not fit their types.
            return self._public(error, None if error.path else "BAD_USER_INPUT")
        log.error(
            "internal error in %s",
            ".".join(str(part) for part in error.path or ()),
            exc_info=original,
            extra={"request_id": request_id},
        )
        masked = GraphQLError(
            "Internal server error",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )
        return dict(masked.formatted)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _parse_cached(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validate_cached(
    schema: GraphQLSchema, query: str, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """Keyed by the query's text, whose hash Python keeps, not by its (deep) syntax tree."""
    return validate_document(schema, _parse_cached(query, max_tokens), rules)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _plan_cached(
    schema: strawberry.Schema, query: str, max_tokens: int, operation_name: str | None
) -> Plan | None:
    """The plan of a parsed and validated operation, or None when graphql-core must run it."""
    document = _parse_cached(query, max_tokens)
    definition = get_operation_ast(document, operation_name)
    if definition is None:
        return None
    try:
        return compile_operation(schema, document, definition)
    except Unsupported:
        return None

"""Schema extensions: internal errors masked with the request id, and request limits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from graphql import GraphQLError
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from jikuai.resolvers.errors import ApiError

log = logging.getLogger("jikuai.graphql")


class MaskInternalErrors(MaskErrors):
    """Every error that is not one of ours becomes `INTERNAL` with the request id.

    The original, with its traceback, goes to the log under the same request id, so support can
    find it from what the client saw.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_internal, error_message="Internal server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
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


class OperationName(SchemaExtension):
    """Records the operation's name on the context, for the access log."""

    def on_operation(self) -> Iterator[None]:
        yield
        request = getattr(self.execution_context.context, "request", None)
        if request is not None:
            request.state.operation_name = self.execution_context.operation_name


def limit_rules(*, max_depth: int, max_aliases: int) -> Callable[[], SchemaExtension]:
    """Depth and alias limits as one extension factory.

    The validation rules are built once, so the validation cache (keyed by the rules) hits.
    """
    rules: list[type[ASTValidationRule]] = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    return lambda: AddValidationRules(rules)

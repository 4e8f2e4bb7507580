"""The few failures that are top-level GraphQL errors rather than `userErrors`."""

from __future__ import annotations

from graphql import GraphQLError


class ApiError(GraphQLError):
    code = "INTERNAL"

    def __init__(self, message: str, *, extensions: dict[str, object] | None = None) -> None:
        super().__init__(message, extensions={"code": self.code} | (extensions or {}))


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"

    def __init__(self) -> None:
        super().__init__("Authentication required")


class Forbidden(ApiError):
    code = "FORBIDDEN"

    def __init__(self) -> None:
        super().__init__("Not allowed")


class NotFound(ApiError):
    code = "NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("Not found")


class BadInput(ApiError):
    """Bad input to a query (mutations report theirs as `userErrors`)."""

    code = "BAD_USER_INPUT"

    def __init__(self, error_code: str, field: list[str]) -> None:
        super().__init__("Invalid input", extensions={"code": error_code, "field": field})

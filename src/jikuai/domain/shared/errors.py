"""Expected business failures: a stable code, and the input field it concerns.

A `DomainError` is data for the caller (it becomes a `UserError` in the API), never a crash. The
human-readable message is chosen at the edge, in the caller's language, from the code.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    ENVELOPE_INVALID = "ENVELOPE_INVALID"
    INVALID_ID_NUMBER = "INVALID_ID_NUMBER"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_NAME = "INVALID_NAME"
    INVALID_INSTITUTION = "INVALID_INSTITUTION"
    INVALID_REFERRER_CODE = "INVALID_REFERRER_CODE"
    INVALID_PUBLIC_KEY = "INVALID_PUBLIC_KEY"
    CUSTOMER_EXISTS = "CUSTOMER_EXISTS"
    ALREADY_REGISTERED = "ALREADY_REGISTERED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    LOGIN_THROTTLED = "LOGIN_THROTTLED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"  # noqa: S105 - an error code
    INVALID_LOGIN_CODE = "INVALID_LOGIN_CODE"
    LOGIN_BLOCKED = "LOGIN_BLOCKED"
    UPSTREAM_BUSY = "UPSTREAM_BUSY"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_TERM = "INVALID_TERM"
    INVALID_RATE = "INVALID_RATE"
    INVALID_DATE = "INVALID_DATE"
    INVALID_METHOD = "INVALID_METHOD"
    INVALID_EXPRESSION = "INVALID_EXPRESSION"
    INVALID_SCORECARD = "INVALID_SCORECARD"
    INVALID_PRODUCT = "INVALID_PRODUCT"
    PRODUCT_EXISTS = "PRODUCT_EXISTS"
    PRODUCT_NOT_OFFERED = "PRODUCT_NOT_OFFERED"
    LPR_MISSING = "LPR_MISSING"
    INVALID_STATE = "INVALID_STATE"
    AMOUNT_ABOVE_AUTHORITY = "AMOUNT_ABOVE_AUTHORITY"
    OWN_APPLICATION = "OWN_APPLICATION"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    CREDIT_LINE_INACTIVE = "CREDIT_LINE_INACTIVE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    LOAN_CLOSED = "LOAN_CLOSED"
    CONCURRENT_UPDATE = "CONCURRENT_UPDATE"
    CREDIT_LINE_EXISTS = "CREDIT_LINE_EXISTS"


class DomainError(Exception):
    """One expected failure; `field` is the path of the input field it concerns, if any."""

    def __init__(self, code: ErrorCode, *, field: tuple[str, ...] | None = None) -> None:
        super().__init__(code.value)
        self.code = code
        self.field = field


class DomainErrors(Exception):
    """Several failures found together, so a form can show every wrong field at once."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__(", ".join(error.code for error in errors))
        self.errors = errors


class PermissionDenied(Exception):
    """The actor's role may not do this at all (top-level FORBIDDEN, not a user error)."""

"""Errors raised by the WeChat integration, classified by what the caller should do next."""

from enum import StrEnum


class WeChatErrorKind(StrEnum):
    """Why a WeChat call failed, from the point of view of the caller."""

    INVALID_CODE = "invalid_code"
    """The login code is malformed, unknown, expired or already used: ask the user to retry."""

    BUSY = "busy"
    """WeChat is overloaded or rate limiting, even after one retry: try again later."""

    BLOCKED = "blocked"
    """WeChat flagged the user as high risk and refuses to log them in."""

    MISCONFIGURED = "misconfigured"
    """Our app id or app secret is wrong: an operator has to fix the configuration."""

    UNAVAILABLE = "unavailable"
    """WeChat could not be reached or gave an answer we cannot use."""


class WeChatError(Exception):
    """A failed WeChat call.

    The message is safe to log: it never contains the app secret or a session key.
    """

    def __init__(self, kind: WeChatErrorKind, message: str, *, errcode: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.errcode = errcode

    def __repr__(self) -> str:
        return (
            f"WeChatError(kind={self.kind.value!r}, errcode={self.errcode!r}, "
            f"message={str(self)!r})"
        )

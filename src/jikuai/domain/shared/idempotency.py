"""Idempotency keys: a client names a money or points movement, and a retry with the same key
never moves twice."""

from __future__ import annotations

from jikuai.domain.shared.errors import DomainError, ErrorCode

MAX_KEY_LENGTH = 64


def check_idempotency_key(key: str) -> None:
    """A key is 1 to 64 characters, not all blank."""
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise DomainError(ErrorCode.REQUIRED, field=("idempotencyKey",))

"""What signing in needs from outside the domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WeChatIdentity:
    openid: str
    session_key: str
    unionid: str | None


class WeChatCodeExchange(Protocol):
    async def __call__(self, code: str) -> WeChatIdentity:
        """Exchange a mini-program login code; raises DomainError with a login error code."""


class Counters(Protocol):
    """Expiring counters (the cache) for throttling repeated failures."""

    async def increment(self, key: str, *, ttl_seconds: int) -> int: ...
    async def delete(self, key: str) -> None: ...

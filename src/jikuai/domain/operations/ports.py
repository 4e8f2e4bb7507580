"""What persisted operations need from persistence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from jikuai.domain.operations.model import PersistedOperation


class PersistedOperationRepository(Protocol):
    async def document(self, sha256: str) -> str | None:
        """The registered document with this hash, or None."""

    async def add(self, operation: PersistedOperation) -> bool:
        """Register; False when the hash is registered already (its text is the same)."""

    async def every(self) -> Sequence[PersistedOperation]:
        """Every registered document, oldest first."""

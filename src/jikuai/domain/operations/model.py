"""A registered document and the key clients send for it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PersistedOperation:
    """A client's GraphQL document, exactly as the client sends it, with the names of the
    operations it holds (an anonymous one has none)."""

    sha256: str
    document: str
    operation_names: tuple[str, ...]
    registered_at: datetime


def document_hash(text: str) -> str:
    """The hex SHA-256 of the text's UTF-8 bytes: the `sha256Hash` clients send.

    A lone surrogate (JSON allows `"\\ud800"`) is hashed as its own bytes rather than refused:
    the hash then matches nothing a client could have computed.
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

"""Persisted operations: the clients' GraphQL documents registered at build time, keyed by the
SHA-256 of their text. Platform-wide, not tenant-owned: every institution's users run the same
clients."""

from sqlalchemy import JSON, Column, String, Table, Text

from jikuai.persistence.tables.base import UtcDateTime, metadata

persisted_operations = Table(
    "persisted_operations",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("operation_names", JSON, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

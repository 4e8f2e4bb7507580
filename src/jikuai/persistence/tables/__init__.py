"""The database schema as SQLAlchemy Core tables; Alembic migrations are written from these."""

from jikuai.persistence.tables import customers, identity, tenancy
from jikuai.persistence.tables.base import metadata

__all__ = ["customers", "identity", "metadata", "tenancy"]

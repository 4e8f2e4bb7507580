"""The database schema as SQLAlchemy Core tables; Alembic migrations are written from these."""

from jikuai.persistence.tables import credit, customers, identity, tenancy
from jikuai.persistence.tables.base import metadata

__all__ = ["credit", "customers", "identity", "metadata", "tenancy"]

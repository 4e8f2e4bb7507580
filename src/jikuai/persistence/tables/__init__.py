"""The database schema as SQLAlchemy Core tables; Alembic migrations are written from these."""

from jikuai.persistence.tables import (
    credit,
    customers,
    identity,
    merchants,
    operations,
    performance,
    points,
    scheduling,
    tenancy,
    villages,
)
from jikuai.persistence.tables.base import metadata

__all__ = [
    "credit",
    "customers",
    "identity",
    "merchants",
    "metadata",
    "operations",
    "performance",
    "points",
    "scheduling",
    "tenancy",
    "villages",
]

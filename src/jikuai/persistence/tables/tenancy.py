from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from jikuai.persistence.tables.base import UtcDateTime, metadata

institutions = Table(
    "institutions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("region", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

branches = Table(
    "branches",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    UniqueConstraint("institution_id", "code"),
)

villages = Table(
    "villages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("branch_id", ForeignKey("branches.id"), nullable=False),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("committee_contact", String(60), nullable=True),
    Column("committee_phone", String(20), nullable=True),
    Column("credit_rating", String(4), nullable=True),
    Column("rated_on", Date, nullable=True),
    Column("raters", String(100), nullable=True),
    Index(None, "institution_id", "branch_id", "id"),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False, index=True),
    Column("branch_id", ForeignKey("branches.id"), nullable=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(50), nullable=False),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

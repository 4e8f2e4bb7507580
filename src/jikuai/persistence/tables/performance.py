"""Staff performance: who manages what and since when, daily facts, schemes and frozen results."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from jikuai.persistence.tables.base import ScaledDecimal, UtcDateTime, metadata, money

# A customer or merchant is managed by one staff member at a time, from `valid_from` until the
# day before `valid_until` (open while null). A reassignment closes the current row.
portfolio_assignments = Table(
    "portfolio_assignments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("staff_id", ForeignKey("staff.id"), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("assigned_by", ForeignKey("staff.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Who managed a subject on a day, read from the index alone (the figures join it per row).
    Index(
        "ix_portfolio_assignments_subject_day",
        "institution_id",
        "subject_kind",
        "subject_id",
        "valid_from",
        "valid_until",
        "staff_id",
    ),
    Index(None, "institution_id", "staff_id", "valid_from"),
)

# One measured value for a day: imported from core banking or recorded by the platform's
# end-of-day positions. A row belongs to a staff member, to a customer (and so to whoever manages
# the customer that day), or to neither (it counts for the institution only).
performance_facts = Table(
    "performance_facts",
    metadata,
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("fact_date", Date, nullable=False),
    Column("source", String(32), nullable=False),
    Column("key", String(64), nullable=False),
    Column("metric", String(40), nullable=False),
    Column("staff_id", ForeignKey("staff.id"), nullable=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=True),
    Column("value", money(), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("institution_id", "fact_date", "source", "key"),
    Index(None, "institution_id", "metric", "fact_date"),
)

# Every version of every scheme; a revision adds a row with the next version of its series.
assessment_schemes = Table(
    "assessment_schemes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("series_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("role", String(32), nullable=False),
    Column("branch_id", ForeignKey("branches.id"), nullable=True),
    Column("staff_id", ForeignKey("staff.id"), nullable=True),
    Column("period_kind", String(8), nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("targets", JSON, nullable=False),
    Column("bonus_pool", money(), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_by", ForeignKey("staff.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("series_id", "version"),
    Index(None, "institution_id", "role", "period_kind"),
)

performance_closures = Table(
    "performance_closures",
    metadata,
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("period", String(8), nullable=False),
    Column("closed_by", ForeignKey("staff.id"), nullable=True),
    Column("closed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("institution_id", "period"),
)

# A closed period's results, one row per staff member scored, as they were shown at closing.
performance_snapshots = Table(
    "performance_snapshots",
    metadata,
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("period", String(8), nullable=False),
    Column("staff_id", ForeignKey("staff.id"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("branch_id", ForeignKey("branches.id"), nullable=True),
    Column("scheme_id", ForeignKey("assessment_schemes.id"), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("total_score", ScaledDecimal(2), nullable=False),
    Column("bonus_share", money(), nullable=False),
    Column("indicators", JSON, nullable=False),
    PrimaryKeyConstraint("institution_id", "period", "staff_id"),
)

"""staff performance

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Customers registered by a staff member and approved merchants start out managed by that staff
member (the registrar, the onboarding officer), from the day they were registered or approved.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_schemes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("bonus_pool", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_assessment_schemes_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_assessment_schemes_created_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_assessment_schemes_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_assessment_schemes_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_schemes")),
        sa.UniqueConstraint(
            "series_id", "version", name=op.f("uq_assessment_schemes_series_id_version")
        ),
    )
    with op.batch_alter_table("assessment_schemes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_schemes_institution_id_role_period_kind"),
            ["institution_id", "role", "period_kind"],
            unique=False,
        )

    op.create_table(
        "performance_closures",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["staff.id"], name=op.f("fk_performance_closures_closed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_performance_closures_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("institution_id", "period", name=op.f("pk_performance_closures")),
    )
    op.create_table(
        "portfolio_assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("assigned_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by"], ["staff.id"], name=op.f("fk_portfolio_assignments_assigned_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_portfolio_assignments_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_portfolio_assignments_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolio_assignments")),
    )
    with op.batch_alter_table("portfolio_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portfolio_assignments_institution_id_staff_id_valid_from"),
            ["institution_id", "staff_id", "valid_from"],
            unique=False,
        )
        batch_op.create_index(
            "ix_portfolio_assignments_subject_day",
            [
                "institution_id",
                "subject_kind",
                "subject_id",
                "valid_from",
                "valid_until",
                "staff_id",
            ],
            unique=False,
        )

    op.create_table(
        "performance_facts",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("fact_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_performance_facts_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_performance_facts_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_performance_facts_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint(
            "institution_id", "fact_date", "source", "key", name=op.f("pk_performance_facts")
        ),
    )
    with op.batch_alter_table("performance_facts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_performance_facts_institution_id_metric_fact_date"),
            ["institution_id", "metric", "fact_date"],
            unique=False,
        )

    op.create_table(
        "performance_snapshots",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=True),
        sa.Column("scheme_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("total_score", sa.BigInteger(), nullable=False),
        sa.Column("bonus_share", sa.BigInteger(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_performance_snapshots_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_performance_snapshots_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["assessment_schemes.id"],
            name=op.f("fk_performance_snapshots_scheme_id_assessment_schemes"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_performance_snapshots_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint(
            "institution_id", "period", "staff_id", name=op.f("pk_performance_snapshots")
        ),
    )

    # Figures of a period read each of these by institution and date.
    for table, column in _PERIOD_INDEXES:
        op.create_index(
            op.f(f"ix_{table}_institution_id_{column}"), table, ["institution_id", column]
        )
    _first_managers()


def downgrade() -> None:
    for table, column in _PERIOD_INDEXES:
        op.drop_index(op.f(f"ix_{table}_institution_id_{column}"), table_name=table)
    op.drop_table("performance_snapshots")
    with op.batch_alter_table("performance_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_performance_facts_institution_id_metric_fact_date"))

    op.drop_table("performance_facts")
    with op.batch_alter_table("portfolio_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_portfolio_assignments_subject_day")
        batch_op.drop_index(
            batch_op.f("ix_portfolio_assignments_institution_id_staff_id_valid_from")
        )

    op.drop_table("portfolio_assignments")
    op.drop_table("performance_closures")
    with op.batch_alter_table("assessment_schemes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_schemes_institution_id_role_period_kind"))

    op.drop_table("assessment_schemes")


_SHANGHAI = ZoneInfo("Asia/Shanghai")
_PERIOD_INDEXES = (
    ("loans", "start_date"),
    ("credit_lines", "created_at"),
    ("customers", "created_at"),
    ("redemptions", "business_date"),
)


def _first_managers() -> None:
    """One open assignment per staff-registered customer and per approved merchant."""
    bind = op.get_bind()
    customers = sa.table(
        "customers",
        sa.column("id", sa.Uuid()),
        sa.column("institution_id", sa.Uuid()),
        sa.column("registered_by_staff_id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    merchants = sa.table(
        "merchants",
        sa.column("id", sa.Uuid()),
        sa.column("institution_id", sa.Uuid()),
        sa.column("onboarded_by", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("reviewed_at", sa.DateTime(timezone=True)),
    )
    managed = [
        ("CUSTOMER", row)
        for row in bind.execute(
            sa.select(
                customers.c.id, customers.c.institution_id,
                customers.c.registered_by_staff_id, customers.c.created_at,
            ).where(customers.c.registered_by_staff_id.is_not(None))
        )
    ] + [
        ("MERCHANT", row)
        for row in bind.execute(
            sa.select(
                merchants.c.id, merchants.c.institution_id,
                merchants.c.onboarded_by, merchants.c.reviewed_at,
            ).where(
                merchants.c.onboarded_by.is_not(None),
                merchants.c.reviewed_at.is_not(None),
                merchants.c.status.in_(["APPROVED", "SUSPENDED"]),
            )
        )
    ]  # fmt: skip
    if not managed:
        return
    now = datetime.now(UTC)
    assignments = sa.table(
        "portfolio_assignments",
        sa.column("id", sa.Uuid()),
        sa.column("institution_id", sa.Uuid()),
        sa.column("subject_kind", sa.String()),
        sa.column("subject_id", sa.Uuid()),
        sa.column("staff_id", sa.Uuid()),
        sa.column("valid_from", sa.Date()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    bind.execute(
        assignments.insert(),
        [
            {
                "id": uuid.uuid4(),
                "institution_id": institution_id,
                "subject_kind": kind,
                "subject_id": subject_id,
                "staff_id": staff_id,
                "valid_from": _business_date(since),
                "created_at": now,
            }
            for kind, (subject_id, institution_id, staff_id, since) in managed
        ],
    )


def _business_date(instant: datetime) -> date:
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return aware.astimezone(_SHANGHAI).date()

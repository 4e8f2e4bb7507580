"""retail credit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_list_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("id_number_bidx", sa.LargeBinary(length=32), nullable=False),
        sa.Column("id_number_masked", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("limit_amount", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_credit_list_entries_created_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_credit_list_entries_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["staff.id"], name=op.f("fk_credit_list_entries_revoked_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_list_entries")),
    )
    with op.batch_alter_table("credit_list_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_list_entries_institution_id_id_number_bidx"),
            ["institution_id", "id_number_bidx"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_credit_list_entries_institution_id_kind_id"),
            ["institution_id", "kind", "id"],
            unique=False,
        )

    op.create_table(
        "loan_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_loan_products_created_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_loan_products_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_products")),
        sa.UniqueConstraint(
            "institution_id",
            "code",
            "version",
            name=op.f("uq_loan_products_institution_id_code_version"),
        ),
    )
    op.create_table(
        "lpr_rates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenor", sa.String(length=16), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_lpr_rates_created_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lpr_rates")),
        sa.UniqueConstraint("tenor", "published_on", name=op.f("uq_lpr_rates_tenor_published_on")),
    )
    op.create_table(
        "loan_applications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("annual_income", sa.BigInteger(), nullable=False),
        sa.Column("monthly_debt_payments", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("approved_amount", sa.BigInteger(), nullable=True),
        sa.Column("approved_term_months", sa.Integer(), nullable=True),
        sa.Column("submitted_by_staff_id", sa.Uuid(), nullable=True),
        sa.Column("reviewed_by_staff_id", sa.Uuid(), nullable=True),
        sa.Column("contract_no", sa.String(length=40), nullable=True),
        sa.Column("annual_rate", sa.BigInteger(), nullable=True),
        sa.Column("lpr_rate", sa.BigInteger(), nullable=True),
        sa.Column("lpr_published_on", sa.Date(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_loan_applications_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_loan_applications_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["loan_products.id"],
            name=op.f("fk_loan_applications_product_id_loan_products"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_loan_applications_reviewed_by_staff_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_loan_applications_submitted_by_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_applications")),
        sa.UniqueConstraint("contract_no", name=op.f("uq_loan_applications_contract_no")),
    )
    with op.batch_alter_table("loan_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loan_applications_customer_id_state"),
            ["customer_id", "state"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_loan_applications_institution_id_state_id"),
            ["institution_id", "state", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_loan_applications_state_id"), ["state", "id"], unique=False
        )

    op.create_table(
        "application_transitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["loan_applications.id"],
            name=op.f("fk_application_transitions_application_id_loan_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_application_transitions_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_transitions")),
    )
    with op.batch_alter_table("application_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_transitions_application_id_id"),
            ["application_id", "id"],
            unique=False,
        )

    op.create_table(
        "credit_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("limit_amount", sa.BigInteger(), nullable=False),
        sa.Column("used_amount", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.BigInteger(), nullable=False),
        sa.Column("contract_no", sa.String(length=40), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["loan_applications.id"],
            name=op.f("fk_credit_lines_application_id_loan_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_credit_lines_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_credit_lines_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["loan_products.id"],
            name=op.f("fk_credit_lines_product_id_loan_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_lines")),
        sa.UniqueConstraint("application_id", name=op.f("uq_credit_lines_application_id")),
        sa.UniqueConstraint("contract_no", name=op.f("uq_credit_lines_contract_no")),
    )
    with op.batch_alter_table("credit_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_lines_customer_id_status"),
            ["customer_id", "status"],
            unique=False,
        )

    op.create_table(
        "loans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("credit_line_id", sa.Uuid(), nullable=True),
        sa.Column("draw_key", sa.String(length=64), nullable=True),
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("contract_no", sa.String(length=48), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.BigInteger(), nullable=False),
        sa.Column("penalty_rate", sa.BigInteger(), nullable=False),
        sa.Column("days_in_year", sa.Integer(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("allocation_order", sa.String(length=40), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("term_days", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("maturity_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outstanding_principal", sa.BigInteger(), nullable=False),
        sa.Column("interest_accrued_to", sa.Date(), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("classification", sa.String(length=24), nullable=False),
        sa.Column("classification_override", sa.String(length=24), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["loan_applications.id"],
            name=op.f("fk_loans_application_id_loan_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_line_id"],
            ["credit_lines.id"],
            name=op.f("fk_loans_credit_line_id_credit_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_loans_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_loans_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["staff.id"], name=op.f("fk_loans_officer_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["loan_products.id"], name=op.f("fk_loans_product_id_loan_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("application_id", name=op.f("uq_loans_application_id")),
        sa.UniqueConstraint("contract_no", name=op.f("uq_loans_contract_no")),
        sa.UniqueConstraint(
            "credit_line_id", "draw_key", name=op.f("uq_loans_credit_line_id_draw_key")
        ),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loans_customer_id_status"), ["customer_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loans_institution_id_customer_id_id"),
            ["institution_id", "customer_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_loans_institution_id_status_id"),
            ["institution_id", "status", "id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_loans_status_id"), ["status", "id"], unique=False)

    op.create_table(
        "loan_installments",
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("principal_paid", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid", sa.BigInteger(), nullable=False),
        sa.Column("penalty_accrued", sa.BigInteger(), nullable=False),
        sa.Column("penalty_paid", sa.BigInteger(), nullable=False),
        sa.Column("penalty_accrued_to", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_loan_installments_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_installments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "number", name=op.f("pk_loan_installments")),
    )
    op.create_table(
        "loan_repayments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("principal_paid", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid", sa.BigInteger(), nullable=False),
        sa.Column("penalty_paid", sa.BigInteger(), nullable=False),
        sa.Column("prepaid_principal", sa.BigInteger(), nullable=False),
        sa.Column("allocations", sa.JSON(), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_loan_repayments_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_repayments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_repayments")),
        sa.UniqueConstraint(
            "loan_id", "idempotency_key", name=op.f("uq_loan_repayments_loan_id_idempotency_key")
        ),
    )
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("loan_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["staff.id"], name=op.f("fk_risk_alerts_assignee_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_risk_alerts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_risk_alerts_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_risk_alerts_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
        sa.UniqueConstraint(
            "loan_id", "kind", "dedupe_key", name=op.f("uq_risk_alerts_loan_id_kind_dedupe_key")
        ),
    )
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_alerts_institution_id_status_id"),
            ["institution_id", "status", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_alerts_institution_id_status_id"))

    op.drop_table("risk_alerts")
    op.drop_table("loan_repayments")
    op.drop_table("loan_installments")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loans_status_id"))
        batch_op.drop_index(batch_op.f("ix_loans_institution_id_status_id"))
        batch_op.drop_index(batch_op.f("ix_loans_institution_id_customer_id_id"))
        batch_op.drop_index(batch_op.f("ix_loans_customer_id_status"))

    op.drop_table("loans")
    with op.batch_alter_table("credit_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_lines_customer_id_status"))

    op.drop_table("credit_lines")
    with op.batch_alter_table("application_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_transitions_application_id_id"))

    op.drop_table("application_transitions")
    with op.batch_alter_table("loan_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_applications_state_id"))
        batch_op.drop_index(batch_op.f("ix_loan_applications_institution_id_state_id"))
        batch_op.drop_index(batch_op.f("ix_loan_applications_customer_id_state"))

    op.drop_table("loan_applications")
    op.drop_table("lpr_rates")
    op.drop_table("loan_products")
    with op.batch_alter_table("credit_list_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_list_entries_institution_id_kind_id"))
        batch_op.drop_index(batch_op.f("ix_credit_list_entries_institution_id_id_number_bidx"))

    op.drop_table("credit_list_entries")

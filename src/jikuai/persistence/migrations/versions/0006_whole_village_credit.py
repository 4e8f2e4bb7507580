"""whole-village credit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Villages gain their committee's contact and credit rating; the households of their rosters and
the runs of roster imports get tables of their own. A whitelist entry may now be made by no staff
member: whole-village credit's import from the command line.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roster_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("village_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lines_done", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("pre_approved", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("imported_by", sa.Uuid(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["staff.id"], name=op.f("fk_roster_imports_imported_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_roster_imports_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_roster_imports_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_imports")),
    )
    with op.batch_alter_table("roster_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_roster_imports_institution_id_village_id_id"),
            ["institution_id", "village_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_roster_imports_institution_id_village_id_digest_status"),
            ["institution_id", "village_id", "digest", "status"],
            unique=False,
        )

    op.create_table(
        "village_households",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("village_id", sa.Uuid(), nullable=False),
        sa.Column("name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_ct", sa.LargeBinary(), nullable=False),
        sa.Column("phone_ct", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_bidx", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("family_size", sa.Integer(), nullable=False),
        sa.Column("land_area", sa.BigInteger(), nullable=False),
        sa.Column("main_business", sa.String(length=60), nullable=False),
        sa.Column("annual_income", sa.BigInteger(), nullable=False),
        sa.Column("existing_debts", sa.BigInteger(), nullable=False),
        sa.Column("peer_rating", sa.String(length=16), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("reviewers", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("grade", sa.String(length=4), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("pre_approved_limit", sa.BigInteger(), nullable=True),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("offer_expires_on", sa.Date(), nullable=True),
        sa.Column("whitelist_entry_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credit_line_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_line_id"],
            ["credit_lines.id"],
            name=op.f("fk_village_households_credit_line_id_credit_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_village_households_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_village_households_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["loan_products.id"],
            name=op.f("fk_village_households_product_id_loan_products"),
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_village_households_village_id_villages")
        ),
        sa.ForeignKeyConstraint(
            ["whitelist_entry_id"],
            ["credit_list_entries.id"],
            name=op.f("fk_village_households_whitelist_entry_id_credit_list_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_households")),
        sa.UniqueConstraint(
            "institution_id",
            "id_number_bidx",
            name=op.f("uq_village_households_institution_id_id_number_bidx"),
        ),
    )
    with op.batch_alter_table("village_households", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_village_households_institution_id_village_id_id"),
            ["institution_id", "village_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_village_households_key_id_id"), ["key_id", "id"], unique=False
        )

    with op.batch_alter_table("credit_list_entries", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.Uuid(), nullable=True)

    with op.batch_alter_table("villages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("committee_contact", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("committee_phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("credit_rating", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("rated_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("raters", sa.String(length=100), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_villages_institution_id_branch_id_id"),
            ["institution_id", "branch_id", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("villages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_villages_institution_id_branch_id_id"))
        batch_op.drop_column("raters")
        batch_op.drop_column("rated_on")
        batch_op.drop_column("credit_rating")
        batch_op.drop_column("committee_phone")
        batch_op.drop_column("committee_contact")

    with op.batch_alter_table("credit_list_entries", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.Uuid(), nullable=False)

    with op.batch_alter_table("village_households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_village_households_key_id_id"))
        batch_op.drop_index(batch_op.f("ix_village_households_institution_id_village_id_id"))

    op.drop_table("village_households")
    with op.batch_alter_table("roster_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_imports_institution_id_village_id_digest_status"))
        batch_op.drop_index(batch_op.f("ix_roster_imports_institution_id_village_id_id"))

    op.drop_table("roster_imports")

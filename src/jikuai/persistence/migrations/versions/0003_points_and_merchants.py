"""points and merchants

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("scope_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("result_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "points_daily_usage",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "business_date", name=op.f("pk_points_daily_usage")),
    )
    op.create_table(
        "earning_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("points_per_cny", sa.BigInteger(), nullable=True),
        sa.Column("fixed_points", sa.BigInteger(), nullable=True),
        sa.Column("daily_cap", sa.BigInteger(), nullable=True),
        sa.Column("monthly_cap", sa.BigInteger(), nullable=True),
        sa.Column("yearly_cap", sa.BigInteger(), nullable=True),
        sa.Column("pending_days", sa.Integer(), nullable=False),
        sa.Column("expiry_mode", sa.String(length=16), nullable=False),
        sa.Column("expiry_period", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_earning_rules_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_earning_rules")),
        sa.UniqueConstraint(
            "institution_id", "event_type", name=op.f("uq_earning_rules_institution_id_event_type")
        ),
    )
    op.create_table(
        "points_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "balance >= 0 OR kind NOT IN ('AVAILABLE', 'PENDING', 'HELD')",
            name=op.f("ck_points_accounts_not_overdrawn"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_points_accounts_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_accounts")),
        sa.UniqueConstraint("owner_id", "kind", name=op.f("uq_points_accounts_owner_id_kind")),
    )
    op.create_table(
        "points_journals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("redemption_id", sa.Uuid(), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_points_journals_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_journals")),
    )
    with op.batch_alter_table("points_journals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_points_journals_customer_id_id"), ["customer_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_points_journals_institution_id_business_date_merchant_id"),
            ["institution_id", "business_date", "merchant_id"],
            unique=False,
        )

    op.create_table(
        "points_programs",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("cny_per_point", sa.BigInteger(), nullable=False),
        sa.Column("confirm_above_points", sa.BigInteger(), nullable=False),
        sa.Column("confirm_window_seconds", sa.Integer(), nullable=False),
        sa.Column("customer_daily_points", sa.BigInteger(), nullable=False),
        sa.Column("merchant_daily_points", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_points_programs_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("institution_id", name=op.f("pk_points_programs")),
    )
    op.create_table(
        "service_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_service_clients_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_service_clients_name")),
    )
    op.create_table(
        "points_entries",
        sa.Column("journal_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["points_accounts.id"],
            name=op.f("fk_points_entries_account_id_points_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["journal_id"],
            ["points_journals.id"],
            name=op.f("fk_points_entries_journal_id_points_journals"),
        ),
        sa.PrimaryKeyConstraint("journal_id", "account_id", name=op.f("pk_points_entries")),
    )
    with op.batch_alter_table("points_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_points_entries_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "merchants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("contact_phone_ct", sa.LargeBinary(), nullable=False),
        sa.Column("settlement_account_ct", sa.LargeBinary(), nullable=False),
        sa.Column("settlement_account_last4", sa.String(length=4), nullable=False),
        sa.Column("legal_representative_id_ct", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=False),
        sa.Column("onboarded_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_merchants_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["onboarded_by"], ["staff.id"], name=op.f("fk_merchants_onboarded_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["staff.id"], name=op.f("fk_merchants_reviewed_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
        sa.UniqueConstraint(
            "institution_id", "uscc", name=op.f("uq_merchants_institution_id_uscc")
        ),
    )
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchants_institution_id_status_id"),
            ["institution_id", "status", "id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_merchants_key_id"), ["key_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_merchants_onboarded_by"), ["onboarded_by"], unique=False
        )

    op.create_table(
        "merchant_operators",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_merchant_operators_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_operators_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_operators")),
        sa.UniqueConstraint("username", name=op.f("uq_merchant_operators_username")),
    )
    with op.batch_alter_table("merchant_operators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_operators_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "merchant_settlements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("redemptions", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("cny_per_point", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sa.Uuid(), nullable=True),
        sa.Column("payment_reference", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_merchant_settlements_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_settlements_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["paid_by"], ["staff.id"], name=op.f("fk_merchant_settlements_paid_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_settlements")),
        sa.UniqueConstraint(
            "merchant_id",
            "business_date",
            name=op.f("uq_merchant_settlements_merchant_id_business_date"),
        ),
    )
    with op.batch_alter_table("merchant_settlements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_settlements_institution_id_business_date_id"),
            ["institution_id", "business_date", "id"],
            unique=False,
        )

    op.create_table(
        "points_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("requested_points", sa.BigInteger(), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("debt_settled", sa.BigInteger(), nullable=False),
        sa.Column("capped", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_points_events_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_points_events_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_events")),
        sa.UniqueConstraint(
            "institution_id",
            "event_type",
            "source_ref",
            name=op.f("uq_points_events_institution_id_event_type_source_ref"),
        ),
    )
    with op.batch_alter_table("points_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_points_events_customer_id_event_type_business_date"),
            ["customer_id", "event_type", "business_date"],
            unique=False,
        )

    op.create_table(
        "rewards",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("price_points", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.BigInteger(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_rewards_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_rewards_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rewards_institution_id_active_id"),
            ["institution_id", "active", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rewards_merchant_id_id"), ["merchant_id", "id"], unique=False
        )

    op.create_table(
        "points_lots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("expired", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("available_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= points", name=op.f("ck_points_lots_remaining_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_points_lots_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["points_events.id"], name=op.f("fk_points_lots_event_id_points_events")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_points_lots_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_lots")),
    )
    with op.batch_alter_table("points_lots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_points_lots_customer_id_state_expires_on"),
            ["customer_id", "state", "expires_on"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_points_lots_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_points_lots_state_available_on"), ["state", "available_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_points_lots_state_expires_on"), ["state", "expires_on"], unique=False
        )

    op.create_table(
        "redemptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("reward_id", sa.Uuid(), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("confirm_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_redemptions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_redemptions_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_redemptions_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["merchant_operators.id"],
            name=op.f("fk_redemptions_operator_id_merchant_operators"),
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_redemptions_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_redemptions_code"), ["code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_redemptions_customer_id_id"), ["customer_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_redemptions_customer_id_reward_id"),
            ["customer_id", "reward_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_redemptions_merchant_id_id"), ["merchant_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_redemptions_status_confirm_by"), ["status", "confirm_by"], unique=False
        )

    op.create_table(
        "points_lot_uses",
        sa.Column("redemption_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["points_lots.id"], name=op.f("fk_points_lot_uses_lot_id_points_lots")
        ),
        sa.PrimaryKeyConstraint("redemption_id", "lot_id", name=op.f("pk_points_lot_uses")),
    )


def downgrade() -> None:
    op.drop_table("points_lot_uses")
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_redemptions_status_confirm_by"))
        batch_op.drop_index(batch_op.f("ix_redemptions_merchant_id_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_customer_id_reward_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_customer_id_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_code"))

    op.drop_table("redemptions")
    with op.batch_alter_table("points_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_lots_state_expires_on"))
        batch_op.drop_index(batch_op.f("ix_points_lots_state_available_on"))
        batch_op.drop_index(batch_op.f("ix_points_lots_event_id"))
        batch_op.drop_index(batch_op.f("ix_points_lots_customer_id_state_expires_on"))

    op.drop_table("points_lots")
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_merchant_id_id"))
        batch_op.drop_index(batch_op.f("ix_rewards_institution_id_active_id"))

    op.drop_table("rewards")
    with op.batch_alter_table("points_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_events_customer_id_event_type_business_date"))

    op.drop_table("points_events")
    with op.batch_alter_table("merchant_settlements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_settlements_institution_id_business_date_id"))

    op.drop_table("merchant_settlements")
    with op.batch_alter_table("merchant_operators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchant_operators_merchant_id"))

    op.drop_table("merchant_operators")
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merchants_onboarded_by"))
        batch_op.drop_index(batch_op.f("ix_merchants_key_id"))
        batch_op.drop_index(batch_op.f("ix_merchants_institution_id_status_id"))

    op.drop_table("merchants")
    with op.batch_alter_table("points_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_entries_account_id"))

    op.drop_table("points_entries")
    op.drop_table("service_clients")
    op.drop_table("points_programs")
    with op.batch_alter_table("points_journals", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_points_journals_institution_id_business_date_merchant_id")
        )
        batch_op.drop_index(batch_op.f("ix_points_journals_customer_id_id"))

    op.drop_table("points_journals")
    op.drop_table("points_accounts")
    op.drop_table("earning_rules")
    op.drop_table("points_daily_usage")
    op.drop_table("idempotency_keys")

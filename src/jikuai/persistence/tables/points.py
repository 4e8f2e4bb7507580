from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from jikuai.persistence.tables.base import ScaledDecimal, UtcDateTime, metadata, money

points_programs = Table(
    "points_programs",
    metadata,
    Column("institution_id", ForeignKey("institutions.id"), primary_key=True),
    Column("cny_per_point", ScaledDecimal(4), nullable=False),
    Column("confirm_above_points", BigInteger, nullable=False),
    Column("confirm_window_seconds", Integer, nullable=False),
    Column("customer_daily_points", BigInteger, nullable=False),
    Column("merchant_daily_points", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

earning_rules = Table(
    "earning_rules",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("method", String(16), nullable=False),
    Column("points_per_cny", ScaledDecimal(4), nullable=True),
    Column("fixed_points", BigInteger, nullable=True),
    Column("daily_cap", BigInteger, nullable=True),
    Column("monthly_cap", BigInteger, nullable=True),
    Column("yearly_cap", BigInteger, nullable=True),
    Column("pending_days", Integer, nullable=False),
    Column("expiry_mode", String(16), nullable=False),
    Column("expiry_period", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("institution_id", "event_type"),
)

points_accounts = Table(
    "points_accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("owner_id", Uuid, nullable=False),
    Column("balance", BigInteger, nullable=False),
    UniqueConstraint("owner_id", "kind"),
    # The guard against spending twice: a customer's spendable or held points never go below 0.
    CheckConstraint(
        "balance >= 0 OR kind NOT IN ('AVAILABLE', 'PENDING', 'HELD')", name="not_overdrawn"
    ),
)

points_events = Table(
    "points_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("source_ref", String(64), nullable=False),
    Column("amount", money(), nullable=True),
    Column("requested_points", BigInteger, nullable=True),
    Column("points", BigInteger, nullable=False),
    Column("debt_settled", BigInteger, nullable=False),
    Column("capped", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("recorded_by", Uuid, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("institution_id", "event_type", "source_ref"),
    Index(None, "customer_id", "event_type", "business_date"),
)

points_lots = Table(
    "points_lots",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("event_id", ForeignKey("points_events.id"), nullable=False, index=True),
    Column("points", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("expired", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("available_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_in_range"),
    Index(None, "customer_id", "state", "expires_on"),
    Index(None, "state", "expires_on"),
    Index(None, "state", "available_on"),
)

points_journals = Table(
    "points_journals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("customer_id", Uuid, nullable=True),
    Column("merchant_id", Uuid, nullable=True),
    Column("event_id", Uuid, nullable=True),
    Column("redemption_id", Uuid, nullable=True),
    Column("points", BigInteger, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "customer_id", "id"),
    Index(None, "institution_id", "business_date", "merchant_id"),
)

points_entries = Table(
    "points_entries",
    metadata,
    Column("journal_id", ForeignKey("points_journals.id"), nullable=False),
    Column("account_id", ForeignKey("points_accounts.id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    PrimaryKeyConstraint("journal_id", "account_id"),
)

points_lot_uses = Table(
    "points_lot_uses",
    metadata,
    Column("redemption_id", Uuid, nullable=False),
    Column("lot_id", ForeignKey("points_lots.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    PrimaryKeyConstraint("redemption_id", "lot_id"),
)

redemptions = Table(
    "redemptions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False),
    Column("operator_id", ForeignKey("merchant_operators.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("reward_id", ForeignKey("rewards.id"), nullable=True),
    Column("points", BigInteger, nullable=False),
    Column("code", String(18), nullable=False, index=True),
    Column("status", String(24), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("confirm_by", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "merchant_id", "id"),
    Index(None, "customer_id", "id"),
    Index(None, "customer_id", "reward_id"),
    Index(None, "status", "confirm_by"),
    Index(None, "institution_id", "business_date"),  # redemptions of a period
)

points_daily_usage = Table(
    "points_daily_usage",
    metadata,
    Column("owner_id", Uuid, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("points", BigInteger, nullable=False),
    PrimaryKeyConstraint("owner_id", "business_date"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope_id", Uuid, nullable=False),
    Column("key", String(64), nullable=False),
    Column("request_hash", LargeBinary(32), nullable=False),
    Column("result_id", Uuid, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("scope_id", "key"),
)

merchant_settlements = Table(
    "merchant_settlements",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("merchant_id", ForeignKey("merchants.id"), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("redemptions", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("cny_per_point", ScaledDecimal(4), nullable=False),
    Column("amount", money(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("paid_by", ForeignKey("staff.id"), nullable=True),
    Column("payment_reference", String(64), nullable=True),
    UniqueConstraint("merchant_id", "business_date"),
    Index(None, "institution_id", "business_date", "id"),
)

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from jikuai.persistence.tables.base import UtcDateTime, metadata

wechat_accounts = Table(
    "wechat_accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("app_id", String(32), nullable=False),
    Column("openid", String(64), nullable=False),
    Column("unionid", String(64), nullable=True),
    Column("session_key_ct", LargeBinary, nullable=False),
    Column("key_id", BigInteger, nullable=False, index=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=True, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime, nullable=False),
    UniqueConstraint("app_id", "openid"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("family_id", Uuid, nullable=False, index=True),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", Uuid, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=True),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", Uuid, nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("details", JSON, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "institution_id", "created_at"),
    Index(None, "subject_type", "subject_id"),
)

service_clients = Table(
    "service_clients",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("name", String(64), nullable=False, unique=True),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

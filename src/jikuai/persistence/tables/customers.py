from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from jikuai.persistence.tables.base import UtcDateTime, metadata

customers = Table(
    "customers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("segment", String(24), nullable=False),
    Column("name_ct", LargeBinary, nullable=False),
    Column("id_number_ct", LargeBinary, nullable=False),
    Column("phone_ct", LargeBinary, nullable=False),
    Column("id_number_bidx", LargeBinary(32), nullable=False),
    Column("phone_bidx", LargeBinary(32), nullable=False),
    Column("key_id", BigInteger, nullable=False),
    Column("gender", String(8), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("village_id", ForeignKey("villages.id"), nullable=True),
    Column("referral_code", String(12), nullable=False, unique=True),
    Column("referred_by_id", ForeignKey("customers.id"), nullable=True),
    Column("registered_by_staff_id", ForeignKey("staff.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("institution_id", "id_number_bidx"),
    Index(None, "institution_id", "id"),
    Index(None, "institution_id", "phone_bidx"),
    Index(None, "institution_id", "segment", "id"),
    Index(None, "institution_id", "village_id", "id"),
    Index(None, "key_id", "id"),
    Index(None, "institution_id", "created_at"),  # customers registered in a period
)

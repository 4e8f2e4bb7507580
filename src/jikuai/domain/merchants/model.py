"""Merchants (商户), their operators (收银员) and benefits (权益)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class MerchantStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SUSPENDED = "SUSPENDED"


class MerchantCategory(StrEnum):
    SUPERMARKET = "SUPERMARKET"
    CATERING = "CATERING"
    AGRICULTURAL_SUPPLIES = "AGRICULTURAL_SUPPLIES"
    PHARMACY = "PHARMACY"
    TELECOM = "TELECOM"
    FUEL = "FUEL"
    SERVICES = "SERVICES"
    OTHER = "OTHER"


class RewardKind(StrEnum):
    ITEM = "ITEM"
    VOUCHER = "VOUCHER"


@dataclass(slots=True)
class Merchant:
    """A merchant as stored: contact phone, settlement account and the legal representative's ID
    number only as ciphertext; the account's last four digits are all a screen shows of it."""

    id: uuid.UUID
    institution_id: uuid.UUID
    name: str
    uscc: str
    category: MerchantCategory
    address: str
    contact_phone_ct: bytes
    settlement_account_ct: bytes
    settlement_account_last4: str
    legal_representative_id_ct: bytes
    key_id: int
    status: MerchantStatus
    status_reason: str
    onboarded_by: uuid.UUID | None
    reviewed_by: uuid.UUID | None
    reviewed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def accepts_redemptions(self) -> bool:
        return self.status is MerchantStatus.APPROVED


@dataclass(frozen=True, slots=True)
class MerchantOperator:
    """A cashier who signs in to the merchant app and acts only for their merchant."""

    id: uuid.UUID
    institution_id: uuid.UUID
    merchant_id: uuid.UUID
    username: str
    display_name: str
    password_hash: str
    active: bool
    created_at: datetime


@dataclass(slots=True)
class Reward:
    """A benefit offered for points. `stock` None is unlimited; `per_customer_limit` None is no
    limit per customer."""

    id: uuid.UUID
    institution_id: uuid.UUID
    merchant_id: uuid.UUID
    name: str
    description: str
    kind: RewardKind
    price_points: int
    stock: int | None
    per_customer_limit: int | None
    valid_from: date
    valid_until: date
    active: bool
    created_at: datetime
    updated_at: datetime

    def offered_on(self, day: date) -> bool:
        return self.active and self.valid_from <= day <= self.valid_until


@dataclass(frozen=True, slots=True)
class RewardFilter:
    institution_id: uuid.UUID | None = None
    merchant_id: uuid.UUID | None = None
    category: MerchantCategory | None = None
    offered_on: date | None = None

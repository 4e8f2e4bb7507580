"""The customer as stored: personal identifiers only as ciphertext and blind indexes."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from jikuai.domain.customers.identity_numbers import Gender

_REFERRAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
REFERRAL_CODE_LENGTH = 8


class Segment(StrEnum):
    FARMER = "FARMER"
    CIVIL_SERVANT = "CIVIL_SERVANT"
    TEACHER = "TEACHER"
    WHITE_COLLAR = "WHITE_COLLAR"
    MICRO_BUSINESS = "MICRO_BUSINESS"
    OTHER = "OTHER"


class SensitiveField(StrEnum):
    NAME = "NAME"
    ID_NUMBER = "ID_NUMBER"
    PHONE = "PHONE"


@dataclass(slots=True)
class Customer:
    id: uuid.UUID
    institution_id: uuid.UUID
    segment: Segment
    name_ct: bytes
    id_number_ct: bytes
    phone_ct: bytes
    id_number_bidx: bytes
    phone_bidx: bytes
    key_id: int
    gender: Gender
    birth_date: date
    village_id: uuid.UUID | None
    referral_code: str
    referred_by_id: uuid.UUID | None
    registered_by_staff_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    segment: Segment | None = None
    village_id: uuid.UUID | None = None
    id_number_bidx: bytes | None = None
    phone_bidx: bytes | None = None


def new_referral_code() -> str:
    """A short code a customer shares to refer others; no 0/O or 1/I to misread."""
    return "".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))

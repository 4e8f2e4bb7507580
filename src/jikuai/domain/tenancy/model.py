"""The tenants and the people who work for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class InstitutionKind(StrEnum):
    PROVINCE = "PROVINCE"
    MEMBER = "MEMBER"


class Role(StrEnum):
    CUSTOMER = "CUSTOMER"
    MERCHANT_OPERATOR = "MERCHANT_OPERATOR"
    SERVICE_ACCOUNT = "SERVICE_ACCOUNT"
    LOAN_OFFICER = "LOAN_OFFICER"
    BRANCH_MANAGER = "BRANCH_MANAGER"
    RISK_OFFICER = "RISK_OFFICER"
    INSTITUTION_ADMIN = "INSTITUTION_ADMIN"
    PROVINCE_ADMIN = "PROVINCE_ADMIN"


PROVINCE_ROLES = frozenset({Role.PROVINCE_ADMIN})


@dataclass(frozen=True, slots=True)
class Institution:
    id: uuid.UUID
    code: str
    name: str
    region: str
    kind: InstitutionKind
    created_at: datetime

    @property
    def accepts_customers(self) -> bool:
        return self.kind is InstitutionKind.MEMBER


@dataclass(frozen=True, slots=True)
class Branch:
    id: uuid.UUID
    institution_id: uuid.UUID
    code: str
    name: str


class VillageRating(StrEnum):
    """The credit village grade (信用村评定) the bank gives a village with its committee."""

    AAA = "AAA"
    AA = "AA"
    A = "A"


@dataclass(frozen=True, slots=True)
class Village:
    """An administrative village (行政村) a branch serves. The committee's contact is its office
    (a title and an office phone), not a person's private data; the credit rating (信用村) is
    given with the committee, by a panel on a date."""

    id: uuid.UUID
    institution_id: uuid.UUID
    branch_id: uuid.UUID
    code: str
    name: str
    committee_contact: str | None = None
    committee_phone: str | None = None
    credit_rating: VillageRating | None = None
    rated_on: date | None = None
    raters: str | None = None


@dataclass(frozen=True, slots=True)
class Staff:
    id: uuid.UUID
    institution_id: uuid.UUID
    branch_id: uuid.UUID | None
    username: str
    display_name: str
    role: Role
    password_hash: str
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ServiceClient:
    """One of the bank's own systems (core banking, the card system), signing in with client
    credentials. Only the SHA-256 of its secret is kept."""

    id: uuid.UUID
    institution_id: uuid.UUID
    name: str
    secret_hash: bytes
    active: bool
    created_at: datetime

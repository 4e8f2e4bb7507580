"""The tenants and the people who work for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True, slots=True)
class Village:
    id: uuid.UUID
    institution_id: uuid.UUID
    branch_id: uuid.UUID
    code: str
    name: str


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

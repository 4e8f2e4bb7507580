"""Onboarding merchants (商户入驻): the application, its review, and the merchant's cashiers.

A merchant applies through staff of its institution or through a registered customer of it (a
shopkeeper who banks there), and waits in PENDING until a branch manager or institution admin
(or the province admin) approves or rejects it. An approved merchant may be suspended and
reinstated. Each review is audited with its reason; a merchant that applied on its own is
credited, as onboarded, to the staff member who approved it.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from jikuai.domain.customers.identity_numbers import normalize_mobile, parse_id_number
from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.merchants.access import (
    applies_for_merchants,
    is_merchant_staff,
    keeps_merchant,
    reviews_merchants,
)
from jikuai.domain.merchants.model import (
    Merchant,
    MerchantCategory,
    MerchantOperator,
    MerchantStatus,
)
from jikuai.domain.merchants.protection import MerchantVault
from jikuai.domain.merchants.uscc import parse_uscc
from jikuai.domain.performance.model import SubjectKind
from jikuai.domain.performance.portfolios import start_managing
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor
from jikuai.security import PasswordHasher

NAME_LENGTH = (2, 100)
ADDRESS_MAX_LENGTH = 200
REASON_MAX_LENGTH = 200
USERNAME_LENGTH = (3, 64)
DISPLAY_NAME_MAX_LENGTH = 50
PASSWORD_LENGTH = (8, 128)
_ACCOUNT = re.compile(r"[0-9]{12,30}")
_ACCOUNT_SEPARATORS = re.compile(r"[\s-]")


@dataclass(frozen=True, slots=True)
class ApplyMerchant:
    """An application, with the sealed fields already opened."""

    name: str
    uscc: str
    category: MerchantCategory
    address: str
    contact_phone: str
    settlement_account: str
    legal_representative_id_number: str


@dataclass(frozen=True, slots=True)
class ReviewMerchant:
    merchant_id: uuid.UUID
    decision: MerchantStatus  # APPROVED (also to reinstate), REJECTED or SUSPENDED
    reason: str


@dataclass(frozen=True, slots=True)
class AddOperator:
    merchant_id: uuid.UUID
    username: str
    display_name: str
    password: str


# The review decisions each status allows, and the audited action of each decision.
_TRANSITIONS = {
    MerchantStatus.PENDING: frozenset({MerchantStatus.APPROVED, MerchantStatus.REJECTED}),
    MerchantStatus.APPROVED: frozenset({MerchantStatus.SUSPENDED}),
    MerchantStatus.SUSPENDED: frozenset({MerchantStatus.APPROVED}),
    MerchantStatus.REJECTED: frozenset[MerchantStatus](),
}
_ACTIONS = {
    MerchantStatus.APPROVED: "merchant.approve",
    MerchantStatus.REJECTED: "merchant.reject",
    MerchantStatus.SUSPENDED: "merchant.suspend",
}


async def apply_merchant(
    command: ApplyMerchant,
    *,
    actor: Actor,
    uow: UnitOfWork,
    vault: MerchantVault,
    now: datetime,
    today: date,
) -> Merchant:
    """A PENDING merchant of the applicant's institution; MERCHANT_EXISTS for a USCC the
    institution already knows."""
    institution_id = _applying_institution(actor)
    details = _validated(command, today=today)
    protected = vault.protect(
        merchant_id := new_id(),
        contact_phone=details.contact_phone,
        settlement_account=details.settlement_account,
        legal_representative_id=details.legal_representative_id,
    )
    merchant = Merchant(
        id=merchant_id,
        institution_id=institution_id,
        name=details.name,
        uscc=details.uscc,
        category=command.category,
        address=details.address,
        contact_phone_ct=protected.contact_phone_ct,
        settlement_account_ct=protected.settlement_account_ct,
        settlement_account_last4=protected.settlement_account_last4,
        legal_representative_id_ct=protected.legal_representative_id_ct,
        key_id=protected.key_id,
        status=MerchantStatus.PENDING,
        status_reason="",
        onboarded_by=actor.id if actor.is_staff else None,
        reviewed_by=None,
        reviewed_at=None,
        created_at=now,
        updated_at=now,
    )
    async with uow:
        await uow.merchants.add(merchant)
        await uow.commit()
    return merchant


def _applying_institution(actor: Actor) -> uuid.UUID:
    """Merchant staff apply for their institution, a registered customer for theirs."""
    if not applies_for_merchants(actor) or actor.institution_id is None:
        raise PermissionDenied
    return actor.institution_id


@dataclass(frozen=True, slots=True)
class _Details:
    name: str
    uscc: str
    address: str
    contact_phone: str
    settlement_account: str
    legal_representative_id: str


def _validated(command: ApplyMerchant, *, today: date) -> _Details:
    """The normalised details; every invalid one is reported at once."""
    errors: list[DomainError] = []
    name = _text(command.name, "name", NAME_LENGTH, errors)
    address = _text(command.address, "address", (1, ADDRESS_MAX_LENGTH), errors)
    uscc = parse_uscc(command.uscc)
    if uscc is None:
        errors.append(DomainError(ErrorCode.INVALID_USCC, field=("uscc",)))
    phone = normalize_mobile(command.contact_phone)
    if phone is None:
        errors.append(DomainError(ErrorCode.INVALID_PHONE, field=("contactPhone",)))
    account = _ACCOUNT_SEPARATORS.sub("", unicodedata.normalize("NFKC", command.settlement_account))
    if not _ACCOUNT.fullmatch(account):
        errors.append(DomainError(ErrorCode.INVALID_BANK_ACCOUNT, field=("settlementAccount",)))
    id_number = parse_id_number(command.legal_representative_id_number, today=today)
    if id_number is None:
        field = ("legalRepresentativeIdNumber",)
        errors.append(DomainError(ErrorCode.INVALID_ID_NUMBER, field=field))
    if errors or uscc is None or phone is None or id_number is None:
        raise DomainErrors(errors)
    return _Details(name, uscc, address, phone, account, id_number.value)


def _text(raw: str, field: str, length: tuple[int, int], errors: list[DomainError]) -> str:
    """`raw` trimmed; REQUIRED when blank, INVALID_LENGTH outside `length` (both inclusive)."""
    value = raw.strip()
    if not value:
        errors.append(DomainError(ErrorCode.REQUIRED, field=(field,)))
    elif not length[0] <= len(value) <= length[1]:
        errors.append(DomainError(ErrorCode.INVALID_LENGTH, field=(field,)))
    return value


async def review_merchant(
    command: ReviewMerchant, *, actor: Actor, uow: UnitOfWork, now: datetime, request_id: str
) -> Merchant:
    """Approve, reject, suspend or reinstate a merchant, with a reason, audited."""
    if not reviews_merchants(actor):
        raise PermissionDenied
    errors: list[DomainError] = []
    reason = _text(command.reason, "reason", (1, REASON_MAX_LENGTH), errors)
    if errors:
        raise DomainErrors(errors)
    async with uow:
        await uow.merchants.lock(command.merchant_id)
        found = await uow.merchants.by_id([command.merchant_id])
        if not found or not actor.may_see_staff_of(found[0].institution_id):
            raise DomainError(ErrorCode.NOT_FOUND, field=("merchantId",))
        merchant = found[0]
        previous = merchant.status
        if command.decision not in _TRANSITIONS[previous]:
            raise DomainError(ErrorCode.INVALID_STATE)
        merchant.status = command.decision
        merchant.status_reason = reason
        merchant.reviewed_by = actor.id
        merchant.reviewed_at = merchant.updated_at = now
        if merchant.onboarded_by is None and command.decision is MerchantStatus.APPROVED:
            merchant.onboarded_by = actor.id
        await uow.merchants.save_status(merchant)
        if merchant.status is MerchantStatus.APPROVED and merchant.onboarded_by is not None:
            await start_managing(
                uow.performance,
                institution_id=merchant.institution_id,
                kind=SubjectKind.MERCHANT,
                subject_id=merchant.id,
                staff_id=merchant.onboarded_by,
                on=business_date(now),
                now=now,
            )
        await uow.identity.add_audit_event(
            AuditEvent.of(
                actor,
                _ACTIONS[command.decision],
                institution_id=merchant.institution_id,
                subject_type="merchant",
                subject_id=str(merchant.id),
                request_id=request_id,
                now=now,
                details={"reason": reason, "from": previous.value},
            )
        )
        await uow.commit()
    return merchant


async def add_operator(
    command: AddOperator,
    *,
    actor: Actor,
    uow: UnitOfWork,
    passwords: PasswordHasher,
    now: datetime,
) -> MerchantOperator:
    """A cashier for a merchant that was not rejected; USERNAME_TAKEN when the name is in use.
    The password is hashed off the event loop: the hash is deliberately slow."""
    if not is_merchant_staff(actor):
        raise PermissionDenied
    errors: list[DomainError] = []
    username = _text(command.username, "username", USERNAME_LENGTH, errors)
    display_name = _text(command.display_name, "displayName", (1, DISPLAY_NAME_MAX_LENGTH), errors)
    if not PASSWORD_LENGTH[0] <= len(command.password) <= PASSWORD_LENGTH[1]:
        errors.append(DomainError(ErrorCode.INVALID_LENGTH, field=("password",)))
    if errors:
        raise DomainErrors(errors)
    password_hash = await asyncio.to_thread(passwords.hash, command.password)
    async with uow:
        found = await uow.merchants.by_id([command.merchant_id])
        if not found or not keeps_merchant(actor, found[0].institution_id, found[0].id):
            raise DomainError(ErrorCode.NOT_FOUND, field=("merchantId",))
        merchant = found[0]
        if merchant.status is MerchantStatus.REJECTED:
            raise DomainError(ErrorCode.INVALID_STATE)
        operator = MerchantOperator(
            id=new_id(),
            institution_id=merchant.institution_id,
            merchant_id=merchant.id,
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            active=True,
            created_at=now,
        )
        await uow.merchants.add_operator(operator)
        await uow.commit()
    return operator

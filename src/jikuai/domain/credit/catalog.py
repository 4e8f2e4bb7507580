"""Use cases of the credit catalog: product versions, the LPR table, white and black lists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from jikuai.domain.credit.access import LIST_KEEPERS, LPR_KEEPERS, PRODUCT_ADMINS
from jikuai.domain.credit.decisions import KNOWN_VARIABLES
from jikuai.domain.credit.lists import CreditListEntry, ListKind
from jikuai.domain.credit.products import LoanProduct, LprRate, ProductTerms, validate_terms
from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.shared.money import cents, rate_form
from jikuai.domain.tenancy.actors import Actor
from jikuai.security import mask_id_number


@dataclass(frozen=True, slots=True)
class DefineProduct:
    code: str
    terms: ProductTerms
    active: bool = True


async def create_product(
    command: DefineProduct, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> LoanProduct:
    """Version 1 of a new product; PRODUCT_EXISTS if the code is taken."""
    institution_id = _product_admin_institution(actor)
    code = command.code.strip().upper()
    if not code or len(code) > 32:
        raise DomainError(ErrorCode.INVALID_PRODUCT, field=("code",))
    validate_terms(command.terms, known_variables=KNOWN_VARIABLES)
    async with uow:
        if await uow.products.latest(institution_id, code) is not None:
            raise DomainError(ErrorCode.PRODUCT_EXISTS, field=("code",))
        product = _version(institution_id, code, 1, command, actor, now)
        await uow.products.add(product)
        await uow.commit()
    return product


async def update_product(
    command: DefineProduct, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> LoanProduct:
    """A new version of an existing product; applications keep the version they were made on."""
    institution_id = _product_admin_institution(actor)
    validate_terms(command.terms, known_variables=KNOWN_VARIABLES)
    async with uow:
        latest = await uow.products.latest(institution_id, command.code.strip().upper())
        if latest is None:
            raise DomainError(ErrorCode.NOT_FOUND, field=("productId",))
        product = _version(institution_id, latest.code, latest.version + 1, command, actor, now)
        await uow.products.add(product)
        await uow.commit()
    return product


def _product_admin_institution(actor: Actor) -> uuid.UUID:
    if not actor.is_staff or actor.role not in PRODUCT_ADMINS or actor.institution_id is None:
        raise PermissionDenied
    return actor.institution_id


def _version(
    institution_id: uuid.UUID,
    code: str,
    version: int,
    command: DefineProduct,
    actor: Actor,
    now: datetime,
) -> LoanProduct:
    return LoanProduct(
        id=new_id(),
        institution_id=institution_id,
        code=code,
        version=version,
        terms=command.terms,
        active=command.active,
        created_by=actor.id,
        created_at=now,
    )


async def publish_lpr(
    rate: LprRate, *, actor: Actor, uow: UnitOfWork, now: datetime, request_id: str
) -> LprRate:
    """Record the LPR of a publication date (a correction replaces it), audited."""
    if not actor.is_staff or actor.role not in LPR_KEEPERS:
        raise PermissionDenied
    if not Decimal("0") < rate.rate < Decimal("0.2") or rate.rate != rate.rate.quantize(
        Decimal("0.000001")
    ):
        raise DomainError(ErrorCode.INVALID_RATE, field=("rate",))
    rate = LprRate(rate.tenor, rate.published_on, rate_form(rate.rate))
    async with uow:
        await uow.products.save_lpr(rate, by=actor.id, at=now, id=new_id())
        await uow.identity.add_audit_event(
            AuditEvent.of(
                actor,
                "lpr.publish",
                institution_id=None,
                subject_type="LprRate",
                subject_id=f"{rate.tenor}:{rate.published_on}",
                request_id=request_id,
                now=now,
                details={"rate": str(rate.rate)},
            )
        )
        await uow.commit()
    return rate


@dataclass(frozen=True, slots=True)
class AddListEntry:
    kind: ListKind
    id_number: str  # opened from its envelope; validated and normalised here
    source: str
    reason: str
    valid_from: date
    valid_until: date | None
    limit_amount: Decimal | None


async def add_list_entry(
    command: AddListEntry,
    *,
    actor: Actor,
    uow: UnitOfWork,
    id_number_index: bytes,
    now: datetime,
    request_id: str,
) -> CreditListEntry:
    """Put an ID number on the white or black list of the actor's institution, audited.
    `id_number_index` is the blind index of the (already validated) ID number."""
    if not actor.is_staff or actor.role not in LIST_KEEPERS or actor.institution_id is None:
        raise PermissionDenied
    if command.valid_until is not None and command.valid_until < command.valid_from:
        raise DomainError(ErrorCode.INVALID_DATE, field=("validUntil",))
    limit = command.limit_amount
    if limit is not None and (
        limit <= 0 or limit != cents(limit) or command.kind is ListKind.BLACKLIST
    ):
        raise DomainError(ErrorCode.INVALID_AMOUNT, field=("limitAmount",))
    if not command.source.strip() or not command.reason.strip():
        raise DomainError(ErrorCode.REQUIRED, field=("reason",))
    entry = CreditListEntry(
        id=new_id(),
        institution_id=actor.institution_id,
        kind=command.kind,
        id_number_bidx=id_number_index,
        id_number_masked=mask_id_number(command.id_number),
        source=command.source.strip()[:40],
        reason=command.reason.strip()[:200],
        valid_from=command.valid_from,
        valid_until=command.valid_until,
        limit_amount=limit,
        created_by=actor.id,
        created_at=now,
    )
    async with uow:
        await uow.credit_lists.add(entry)
        await uow.identity.add_audit_event(
            _list_event(actor, "credit_list.add", entry, request_id=request_id, now=now)
        )
        await uow.commit()
    return entry


async def revoke_list_entry(
    entry_id: uuid.UUID, *, actor: Actor, uow: UnitOfWork, now: datetime, request_id: str
) -> CreditListEntry:
    if not actor.is_staff or actor.role not in LIST_KEEPERS:
        raise PermissionDenied
    async with uow:
        entry = await uow.credit_lists.by_id(entry_id)
        if entry is None or entry.institution_id != actor.institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("entryId",))
        if not await uow.credit_lists.revoke(entry_id, by=actor.id, at=now):
            raise DomainError(ErrorCode.INVALID_STATE)
        entry.revoked_at, entry.revoked_by = now, actor.id
        await uow.identity.add_audit_event(
            _list_event(actor, "credit_list.revoke", entry, request_id=request_id, now=now)
        )
        await uow.commit()
    return entry


def _list_event(
    actor: Actor, action: str, entry: CreditListEntry, *, request_id: str, now: datetime
) -> AuditEvent:
    return AuditEvent.of(
        actor,
        action,
        institution_id=entry.institution_id,
        subject_type="CreditListEntry",
        subject_id=str(entry.id),
        request_id=request_id,
        now=now,
        details={"kind": entry.kind.value},
    )

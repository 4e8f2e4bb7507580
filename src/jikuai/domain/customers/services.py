"""Customer use cases: register, reveal to authorised staff, re-encrypt after key rotation."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jikuai.domain.customers.identity_numbers import (
    IdNumber,
    normalize_mobile,
    normalize_name,
    parse_id_number,
)
from jikuai.domain.customers.model import Customer, Segment, SensitiveField, new_referral_code
from jikuai.domain.customers.protection import CustomerVault
from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.performance.model import SubjectKind
from jikuai.domain.performance.portfolios import start_managing
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.batches import Progress, rewrite_in_batches
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor
from jikuai.security import load_client_public_key, seal

# The input field each sensitive value travels in; a sealed value names it as its `f`.
INPUT_FIELDS = {
    SensitiveField.NAME: "name",
    SensitiveField.ID_NUMBER: "idNumber",
    SensitiveField.PHONE: "phone",
}


@dataclass(frozen=True, slots=True)
class RegisterCustomer:
    """A registration, with the sealed fields already opened."""

    name: str
    id_number: str
    phone: str
    segment: Segment
    institution_id: uuid.UUID | None
    village_id: uuid.UUID | None = None
    referrer_code: str | None = None


@dataclass(frozen=True, slots=True)
class RevealCustomer:
    customer_id: uuid.UUID
    fields: Sequence[SensitiveField]
    public_key_pem: str


@dataclass(frozen=True, slots=True)
class SealedValue:
    field: SensitiveField
    jwe: str


async def register_customer(
    command: RegisterCustomer,
    *,
    actor: Actor,
    uow: UnitOfWork,
    vault: CustomerVault,
    now: datetime,
    today: date,
) -> Customer:
    if not actor.may_register_customers:
        raise PermissionDenied
    name, id_number, phone = _validated(command, today=today)
    async with uow:
        institution_id = await _registering_institution(command, actor, uow)
        if actor.is_customer and (actor.customer_id or await _already_bound(uow, actor)):
            raise DomainError(ErrorCode.ALREADY_REGISTERED)
        if command.village_id is not None:
            village = await uow.tenancy.village(command.village_id)
            if village is None or village.institution_id != institution_id:
                raise DomainError(ErrorCode.NOT_FOUND, field=("villageId",))
        referrer_id = None
        if command.referrer_code:
            referrer = await uow.customers.by_referral_code(
                institution_id, command.referrer_code.strip().upper()
            )
            if referrer is None:
                raise DomainError(ErrorCode.INVALID_REFERRER_CODE, field=("referrerCode",))
            referrer_id = referrer.id
        protected = vault.protect(
            customer_id := new_id(), name=name, id_number=id_number.value, phone=phone
        )
        if await uow.customers.id_number_taken(institution_id, protected.id_number_bidx):
            raise DomainError(ErrorCode.CUSTOMER_EXISTS, field=("idNumber",))
        # The head of a household on a whole-village roster is linked to it, and lives there.
        households = await uow.villages.households_by_index(
            institution_id, [protected.id_number_bidx]
        )
        home = households[0].village_id if households else None
        customer = Customer(
            id=customer_id,
            institution_id=institution_id,
            segment=command.segment,
            name_ct=protected.name_ct,
            id_number_ct=protected.id_number_ct,
            phone_ct=protected.phone_ct,
            id_number_bidx=protected.id_number_bidx,
            phone_bidx=protected.phone_bidx,
            key_id=protected.key_id,
            gender=id_number.gender,
            birth_date=id_number.birth_date,
            village_id=command.village_id or home,
            referral_code=new_referral_code(),
            referred_by_id=referrer_id,
            registered_by_staff_id=actor.id if actor.is_staff else None,
            created_at=now,
            updated_at=now,
        )
        await uow.customers.add(customer)
        if households:
            await uow.villages.link_customer(institution_id, customer.id_number_bidx, customer.id)
        if actor.is_staff:
            await start_managing(
                uow.performance,
                institution_id=institution_id,
                kind=SubjectKind.CUSTOMER,
                subject_id=customer.id,
                staff_id=actor.id,
                on=business_date(now),
                now=now,
            )
        if actor.is_customer and not await uow.identity.bind_wechat_account(actor.id, customer.id):
            raise DomainError(ErrorCode.ALREADY_REGISTERED)
        await uow.commit()
    return customer


def _validated(command: RegisterCustomer, *, today: date) -> tuple[str, IdNumber, str]:
    """The normalised name, ID number and phone; every invalid one is reported at once."""
    name = normalize_name(command.name)
    id_number = parse_id_number(command.id_number, today=today)
    phone = normalize_mobile(command.phone)
    if name is not None and id_number is not None and phone is not None:
        return name, id_number, phone
    errors = [
        DomainError(code, field=(field,))
        for code, field, value in (
            (ErrorCode.INVALID_NAME, "name", name),
            (ErrorCode.INVALID_ID_NUMBER, "idNumber", id_number),
            (ErrorCode.INVALID_PHONE, "phone", phone),
        )
        if value is None
    ]
    raise DomainErrors(errors)


async def _registering_institution(
    command: RegisterCustomer, actor: Actor, uow: UnitOfWork
) -> uuid.UUID:
    """Staff register into their own institution; a customer picks a member institution."""
    if actor.is_staff:
        own = actor.institution_id
        if own is None or command.institution_id not in (None, own):
            raise DomainError(ErrorCode.INVALID_INSTITUTION, field=("institutionId",))
        return own
    if command.institution_id is None:
        raise DomainError(ErrorCode.REQUIRED, field=("institutionId",))
    found = await uow.tenancy.institutions_by_id([command.institution_id])
    if not found or not found[0].accepts_customers:
        raise DomainError(ErrorCode.INVALID_INSTITUTION, field=("institutionId",))
    return found[0].id


async def _already_bound(uow: UnitOfWork, actor: Actor) -> bool:
    account = await uow.identity.wechat_account_by_id(actor.id)
    return account is None or account.customer_id is not None


async def reveal_customer(
    command: RevealCustomer,
    *,
    actor: Actor,
    uow: UnitOfWork,
    vault: CustomerVault,
    request_id: str,
    now: datetime,
) -> list[SealedValue]:
    """Seal the asked fields to the caller's own public key, and record who saw what."""
    if not actor.may_reveal:
        raise PermissionDenied
    try:
        public_key = load_client_public_key(command.public_key_pem)
    except ValueError:
        raise DomainError(ErrorCode.INVALID_PUBLIC_KEY, field=("publicKeyPem",)) from None
    fields = list(dict.fromkeys(command.fields))
    if not fields:
        raise DomainError(ErrorCode.REQUIRED, field=("fields",))
    async with uow:
        found = await uow.customers.by_id(
            [command.customer_id], institution_id=actor.institution_id
        )
        if not found:
            raise DomainError(ErrorCode.NOT_FOUND, field=("customerId",))
        customer = found[0]
        sealed = [
            SealedValue(
                field=field,
                jwe=seal(
                    vault.reveal(customer, field),
                    field=INPUT_FIELDS[field],
                    public_key=public_key,
                    kid=None,
                    now=now,
                ),
            )
            for field in fields
        ]
        await uow.identity.add_audit_event(
            AuditEvent(
                id=new_id(),
                institution_id=customer.institution_id,
                actor_kind=actor.kind,
                actor_id=actor.id,
                action="customer.reveal",
                subject_type="Customer",
                subject_id=str(customer.id),
                request_id=request_id,
                created_at=now,
                details={"fields": [field.value for field in fields]},
            )
        )
        await uow.commit()
    return sealed


async def reencrypt_customers(
    *,
    unit_of_work: Callable[[], UnitOfWork],
    vault: CustomerVault,
    now: datetime,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    """Re-encrypt every customer not yet under the current data key (after a key rotation)."""
    key_id = vault.current_key_id

    async def rewrite(uow: UnitOfWork, customer: Customer) -> None:
        protected = vault.reencrypt(customer)
        customer.name_ct = protected.name_ct
        customer.id_number_ct = protected.id_number_ct
        customer.phone_ct = protected.phone_ct
        customer.key_id = protected.key_id
        customer.updated_at = now
        await uow.customers.replace_ciphertexts(customer)

    return await rewrite_in_batches(
        unit_of_work=unit_of_work,
        count=lambda uow: uow.customers.count_encrypted_under_other_keys(key_id),
        fetch=lambda uow, limit: uow.customers.encrypted_under_other_keys(key_id, limit=limit),
        rewrite=rewrite,
        batch_size=batch_size,
        progress=progress,
    )

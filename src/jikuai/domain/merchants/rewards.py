"""Benefits (权益) a merchant offers for points: kept by its own cashiers or by staff of its
institution. A benefit is on offer while it is active, its merchant is approved and the day is
within its validity window."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from jikuai.domain.merchants.access import is_merchant_staff, keeps_merchant
from jikuai.domain.merchants.model import Reward, RewardKind
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 500


@dataclass(frozen=True, slots=True)
class RewardTerms:
    """What a benefit's keeper sets, all of it at once."""

    name: str
    description: str
    kind: RewardKind
    price_points: int
    stock: int | None
    per_customer_limit: int | None
    valid_from: date
    valid_until: date
    active: bool


async def create_reward(
    merchant_id: uuid.UUID, terms: RewardTerms, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> Reward:
    _require_keeper_role(actor)
    terms = _validated(terms)
    async with uow:
        found = await uow.merchants.by_id([merchant_id])
        if not found or not keeps_merchant(actor, found[0].institution_id, merchant_id):
            raise DomainError(ErrorCode.NOT_FOUND, field=("merchantId",))
        reward = _reward(
            terms,
            id=new_id(),
            institution_id=found[0].institution_id,
            merchant_id=merchant_id,
            created_at=now,
            now=now,
        )
        await uow.rewards.add(reward)
        await uow.commit()
    return reward


async def update_reward(
    reward_id: uuid.UUID, terms: RewardTerms, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> Reward:
    """Replace a benefit's terms; `stock` is what is left from now on."""
    _require_keeper_role(actor)
    terms = _validated(terms)
    async with uow:
        found = await uow.rewards.by_id([reward_id])
        if not found or not keeps_merchant(actor, found[0].institution_id, found[0].merchant_id):
            raise DomainError(ErrorCode.NOT_FOUND, field=("rewardId",))
        kept = found[0]
        reward = _reward(
            terms,
            id=kept.id,
            institution_id=kept.institution_id,
            merchant_id=kept.merchant_id,
            created_at=kept.created_at,
            now=now,
        )
        await uow.rewards.save(reward)
        await uow.commit()
    return reward


def _require_keeper_role(actor: Actor) -> None:
    if not (actor.is_merchant or is_merchant_staff(actor)):
        raise PermissionDenied


def _validated(terms: RewardTerms) -> RewardTerms:
    """The terms with name and description trimmed; every invalid field is reported at once."""
    errors: list[DomainError] = []
    name, description = terms.name.strip(), terms.description.strip()
    if not name:
        errors.append(DomainError(ErrorCode.REQUIRED, field=("name",)))
    elif len(name) > NAME_MAX_LENGTH:
        errors.append(DomainError(ErrorCode.INVALID_LENGTH, field=("name",)))
    if len(description) > DESCRIPTION_MAX_LENGTH:
        errors.append(DomainError(ErrorCode.INVALID_LENGTH, field=("description",)))
    if terms.price_points < 1:
        errors.append(DomainError(ErrorCode.INVALID_POINTS, field=("pricePoints",)))
    if terms.stock is not None and terms.stock < 0:
        errors.append(DomainError(ErrorCode.INVALID_QUANTITY, field=("stock",)))
    if terms.per_customer_limit is not None and terms.per_customer_limit < 1:
        errors.append(DomainError(ErrorCode.INVALID_QUANTITY, field=("perCustomerLimit",)))
    if terms.valid_until < terms.valid_from:
        errors.append(DomainError(ErrorCode.INVALID_DATE, field=("validUntil",)))
    if errors:
        raise DomainErrors(errors)
    return dataclasses.replace(terms, name=name, description=description)


def _reward(
    terms: RewardTerms,
    *,
    id: uuid.UUID,
    institution_id: uuid.UUID,
    merchant_id: uuid.UUID,
    created_at: datetime,
    now: datetime,
) -> Reward:
    return Reward(
        id=id,
        institution_id=institution_id,
        merchant_id=merchant_id,
        name=terms.name,
        description=terms.description,
        kind=terms.kind,
        price_points=terms.price_points,
        stock=terms.stock,
        per_customer_limit=terms.per_customer_limit,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        active=terms.active,
        created_at=created_at,
        updated_at=now,
    )

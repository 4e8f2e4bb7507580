"""Villages as the bank keeps them: which branch serves each, the committee's contact, and the
credit village rating (信用村) given with the committee; and how far whole-village credit has come
in a village, a branch or an institution."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date

from jikuai.domain.credit.access import CREDIT_STAFF
from jikuai.domain.ports import Repositories, UnitOfWork
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role, Village, VillageRating
from jikuai.domain.villages.model import VillageProgress

VILLAGE_KEEPERS = frozenset({Role.INSTITUTION_ADMIN, Role.BRANCH_MANAGER})
_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_OFFICE_PHONE = re.compile(r"[0-9+\-() ]{5,20}")
MAX_NAME = 100
MAX_CONTACT = 60
MAX_RATERS = 100


@dataclass(frozen=True, slots=True)
class VillageDetails:
    """What a village's keeper says of it; None leaves a detail unset (or as it was)."""

    name: str
    branch_id: uuid.UUID
    committee_contact: str | None = None
    committee_phone: str | None = None
    credit_rating: VillageRating | None = None
    rated_on: date | None = None
    raters: str | None = None


async def create_village(
    code: str, details: VillageDetails, *, actor: Actor, uow: UnitOfWork, today: date
) -> Village:
    institution_id = _keeper_institution(actor)
    code = code.strip()
    errors = (
        [] if _CODE.fullmatch(code) else [DomainError(ErrorCode.INVALID_LENGTH, field=("code",))]
    )
    details = _checked(details, today, errors)
    async with uow:
        await _own_branch(uow, institution_id, details.branch_id)
        if await uow.tenancy.village_by_code(code) is not None:
            raise DomainError(ErrorCode.VILLAGE_EXISTS, field=("code",))
        new = Village(new_id(), institution_id, details.branch_id, code, details.name)
        village = _described(new, details)
        await uow.tenancy.add_village(village)
        await uow.commit()
    return village


async def update_village(
    village_id: uuid.UUID,
    details: VillageDetails,
    *,
    actor: Actor,
    uow: UnitOfWork,
    today: date,
) -> Village:
    institution_id = _keeper_institution(actor)
    details = _checked(details, today, [])
    async with uow:
        village = await uow.tenancy.village(village_id)
        if village is None or village.institution_id != institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("villageId",))
        await _own_branch(uow, institution_id, details.branch_id)
        village = _described(village, details)
        await uow.tenancy.save_village(village)
        await uow.commit()
    return village


def follows_villages(actor: Actor) -> bool:
    """Credit staff follow their institution's villages, province staff every institution's."""
    return actor.is_staff and (actor.sees_all_institutions or actor.role in CREDIT_STAFF)


def sees_villages_of(actor: Actor, institution_id: uuid.UUID) -> bool:
    return follows_villages(actor) and (
        actor.sees_all_institutions or actor.institution_id == institution_id
    )


async def credit_progress(
    actor: Actor,
    reads: Repositories,
    *,
    institution_id: uuid.UUID | None,
    branch_id: uuid.UUID | None,
    village_id: uuid.UUID | None,
) -> VillageProgress | None:
    """The figures of one village, one branch, or one institution (by default the actor's; for
    province staff, with nothing named, the whole province). None for a village or branch the
    actor may not see, or that does not exist."""
    if not follows_villages(actor):
        raise PermissionDenied
    if sum(each is not None for each in (institution_id, branch_id, village_id)) > 1:
        raise DomainError(ErrorCode.INVALID_SCOPE)
    scope = institution_id if institution_id is not None else actor.institution_id
    if village_id is not None:
        village = await reads.tenancy.village(village_id)
        scope = village.institution_id if village else None
    elif branch_id is not None:
        branches = await reads.tenancy.branches_by_id([branch_id])
        scope = branches[0].institution_id if branches else None
    elif actor.sees_all_institutions and institution_id is None:
        return await reads.villages.progress(institution_id=None, branch_id=None, village_id=None)
    if scope is None or not sees_villages_of(actor, scope):
        return None
    return await reads.villages.progress(
        institution_id=scope, branch_id=branch_id, village_id=village_id
    )


def _described(village: Village, details: VillageDetails) -> Village:
    """The village with every detail as its keeper gave them."""
    return replace(
        village,
        name=details.name,
        branch_id=details.branch_id,
        committee_contact=details.committee_contact,
        committee_phone=details.committee_phone,
        credit_rating=details.credit_rating,
        rated_on=details.rated_on,
        raters=details.raters,
    )


def _keeper_institution(actor: Actor) -> uuid.UUID:
    if not actor.is_staff or actor.role not in VILLAGE_KEEPERS or actor.institution_id is None:
        raise PermissionDenied
    return actor.institution_id


async def _own_branch(uow: UnitOfWork, institution_id: uuid.UUID, branch_id: uuid.UUID) -> None:
    branches = await uow.tenancy.branches_by_id([branch_id])
    if not branches or branches[0].institution_id != institution_id:
        raise DomainError(ErrorCode.NOT_FOUND, field=("branchId",))


def _checked(details: VillageDetails, today: date, errors: list[DomainError]) -> VillageDetails:
    """The details trimmed, every fault reported at once (with those already found)."""
    name = details.name.strip()
    contact = (details.committee_contact or "").strip() or None
    phone = (details.committee_phone or "").strip() or None
    raters = (details.raters or "").strip() or None
    if not name or len(name) > MAX_NAME:
        errors.append(DomainError(ErrorCode.INVALID_LENGTH, field=("name",)))
    if contact is not None and len(contact) > MAX_CONTACT:
        errors.append(DomainError(ErrorCode.INVALID_LENGTH, field=("committeeContact",)))
    if phone is not None and not _OFFICE_PHONE.fullmatch(phone):
        errors.append(DomainError(ErrorCode.INVALID_PHONE, field=("committeePhone",)))
    if raters is not None and len(raters) > MAX_RATERS:
        errors.append(DomainError(ErrorCode.INVALID_LENGTH, field=("raters",)))
    rated = details.credit_rating is not None
    if rated != (details.rated_on is not None) or (
        details.rated_on is not None and details.rated_on > today
    ):
        errors.append(DomainError(ErrorCode.INVALID_DATE, field=("ratedOn",)))
    if errors:
        raise DomainErrors(errors)
    return replace(
        details, name=name, committee_contact=contact, committee_phone=phone, raters=raters
    )

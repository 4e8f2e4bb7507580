"""Institutions, branches, staff and the signed-in viewer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from jikuai.domain.customers.model import Customer
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Branch, Institution, Staff
from jikuai.resolvers.context import Context


@dataclass(frozen=True, slots=True)
class Viewer:
    actor: Actor
    staff: Staff | None
    customer: Customer | None


async def institutions(context: Context) -> Sequence[Institution]:
    """Every member institution and the province (public: customers pick theirs)."""
    reads = await context.db.reads()
    return await reads.tenancy.institutions()


async def institution(context: Context, institution_id: uuid.UUID) -> Institution:
    """An institution a row refers to (a foreign key guarantees it exists)."""
    (found,) = await institutions_of(context, [institution_id])
    if isinstance(found, LookupError):
        raise found
    return found


async def institutions_of(
    context: Context, institution_ids: Sequence[uuid.UUID]
) -> list[Institution | LookupError]:
    """The institutions rows refer to, in order. One that is missing (a foreign key broken)
    is its own error, so that it fails only the row that refers to it."""
    found = await context.loaders.institution_by_id.load_many(institution_ids)
    return [
        each or LookupError(f"institution {key} referred to but missing")
        for key, each in zip(institution_ids, found, strict=True)
    ]


async def branches(context: Context, institution_id: uuid.UUID) -> list[Branch]:
    return await context.loaders.branches_by_institution.load(institution_id)


async def branch(context: Context, branch_id: uuid.UUID) -> Branch | None:
    return await context.loaders.branch_by_id.load(branch_id)


async def staff_member(context: Context, staff_id: uuid.UUID) -> Staff | None:
    """A staff member, visible to staff of the same institution and to province roles."""
    actor = await context.require_actor()
    member = await context.loaders.staff_by_id.load(staff_id)
    if member is None or not actor.may_see_staff_of(member.institution_id):
        return None
    return member


async def viewer(context: Context) -> Viewer:
    actor = await context.require_actor()
    if actor.is_staff:
        return Viewer(actor, await context.loaders.staff_by_id.load(actor.id), None)
    customer = await context.visible_customer(actor.customer_id) if actor.customer_id else None
    return Viewer(actor, None, customer)

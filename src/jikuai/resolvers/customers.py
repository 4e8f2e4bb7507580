"""Customers: lookups scoped to the actor, registration and reveal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from jikuai.domain.customers import services
from jikuai.domain.customers.model import Customer, CustomerFilter, Segment, SensitiveField
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode
from jikuai.domain.tenancy.actors import Actor
from jikuai.resolvers.context import Context
from jikuai.resolvers.envelopes import open_sealed
from jikuai.resolvers.errors import Forbidden, NotFound
from jikuai.resolvers.outcomes import Attempt, attempt, bad_input
from jikuai.resolvers.pages import page_limit


@dataclass(frozen=True, slots=True)
class CustomerQuery:
    """The `customers` arguments, with sealed filters still sealed."""

    first: int
    after: uuid.UUID | None
    segment: Segment | None = None
    village_id: uuid.UUID | None = None
    id_number: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerPage:
    customers: Sequence[Customer]
    has_next_page: bool


async def customer(context: Context, customer_id: uuid.UUID | None) -> Customer:
    """A customer the actor may see; NOT_FOUND for a malformed, unknown or foreign id alike."""
    await context.require_actor()
    found = await context.visible_customer(customer_id, at_once=True) if customer_id else None
    if found is None:
        raise NotFound
    return found


async def customer_page(context: Context, query: CustomerQuery) -> CustomerPage:
    actor = await context.require_actor()
    if not (actor.is_staff or actor.is_customer):
        raise Forbidden
    if actor.is_customer and actor.customer_id is None:
        return CustomerPage([], has_next_page=False)
    limit = page_limit(query.first)
    reads = await context.db.reads()
    found = await reads.customers.page(
        institution_id=actor.staff_scope() if actor.is_staff else None,
        only_id=actor.customer_id if actor.is_customer else None,
        filter=_filter(context, query),
        after=query.after,
        limit=limit + 1,
    )
    page = found[:limit]
    for customer in page:
        context.loaders.customer_by_id.prime(customer.id, customer)
    return CustomerPage(page, has_next_page=len(found) > limit)


def _filter(context: Context, query: CustomerQuery) -> CustomerFilter:
    """The filter with sealed values opened, normalised and blind-indexed."""
    sealed = {
        name: token
        for name, token in (("idNumber", query.id_number), ("phone", query.phone))
        if token
    }
    try:
        opened = open_sealed(context, sealed)
    except DomainErrors as errors:
        raise bad_input(errors, under=("filter",)) from None
    vault = context.services.vault
    id_number, phone = opened.get("idNumber"), opened.get("phone")
    return CustomerFilter(
        segment=query.segment,
        village_id=query.village_id,
        id_number_bidx=vault.id_number_lookup(id_number) if id_number is not None else None,
        phone_bidx=vault.phone_lookup(phone) if phone is not None else None,
    )


async def register(
    context: Context,
    *,
    sealed: dict[str, str],
    segment: Segment,
    institution_id: uuid.UUID | None,
    village_id: uuid.UUID | None,
    referrer_code: str | None,
) -> Attempt[Customer]:
    actor = await context.require_actor()
    if not actor.may_register_customers:
        raise Forbidden  # before opening envelopes: a forbidden caller learns nothing about them
    if actor.is_customer and not await _registration_allowed(context, actor):
        return Attempt(errors=[DomainError(ErrorCode.TOO_MANY_ATTEMPTS)])

    async def registered() -> Customer:
        opened = open_sealed(context, sealed)
        customer = await services.register_customer(
            services.RegisterCustomer(
                name=opened["name"],
                id_number=opened["idNumber"],
                phone=opened["phone"],
                segment=segment,
                institution_id=institution_id,
                village_id=village_id,
                referrer_code=referrer_code,
            ),
            actor=actor,
            uow=context.db.unit_of_work(),
            vault=context.services.vault,
            now=context.now,
            today=context.today,
        )
        context.loaders.customer_by_id.prime(customer.id, customer)
        return customer

    return await attempt(registered())


async def reveal(
    context: Context,
    *,
    customer_id: uuid.UUID | None,
    fields: Sequence[SensitiveField],
    public_key_pem: str,
) -> Attempt[list[services.SealedValue]]:
    actor = await context.require_actor()
    if not actor.may_reveal:
        raise Forbidden
    if customer_id is None:
        return Attempt(errors=[DomainError(ErrorCode.NOT_FOUND, field=("customerId",))])
    return await attempt(
        services.reveal_customer(
            services.RevealCustomer(customer_id, fields, public_key_pem),
            actor=actor,
            uow=context.db.unit_of_work(),
            vault=context.services.vault,
            request_id=context.request_id,
            now=context.now,
        )
    )


async def _registration_allowed(context: Context, actor: Actor) -> bool:
    """A WeChat user gets a few registration attempts an hour: each answer (`CUSTOMER_EXISTS`
    included) tells something about an ID number, so they must not be free to ask."""
    attempts = await context.services.cache.increment(
        f"registration-attempts:{actor.id}", ttl_seconds=3600
    )
    return attempts <= context.services.settings.registration_attempts_per_hour

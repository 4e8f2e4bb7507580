"""Merchants (商户): who may read what, and the mutations as calls into `domain/merchants`."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date

from jikuai.domain.merchants import onboarding, rewards
from jikuai.domain.merchants.access import (
    applies_for_merchants,
    sees_back_office,
    sees_merchant,
)
from jikuai.domain.merchants.model import (
    Merchant,
    MerchantCategory,
    MerchantOperator,
    MerchantStatus,
    Reward,
    RewardFilter,
)
from jikuai.domain.merchants.protection import MerchantVault
from jikuai.domain.shared.errors import DomainError
from jikuai.domain.tenancy.actors import Actor
from jikuai.resolvers.context import Context
from jikuai.resolvers.envelopes import open_sealed
from jikuai.resolvers.errors import Forbidden
from jikuai.resolvers.identity import SignIn
from jikuai.resolvers.loaders import RewardsOf
from jikuai.resolvers.outcomes import Attempt, attempt
from jikuai.resolvers.pages import Page, page_limit, paged


@dataclass(frozen=True, slots=True)
class BackOffice:
    """What staff and the merchant's own cashiers see of it, masked."""

    contact_phone_masked: str
    settlement_account_last4: str
    legal_representative_id_masked: str
    status_reason: str


@dataclass(frozen=True, slots=True)
class MerchantView:
    """A merchant as the viewer may see it; `back_office` is None for a customer."""

    merchant: Merchant
    back_office: BackOffice | None

    @property
    def id(self) -> uuid.UUID:
        return self.merchant.id


@dataclass(frozen=True, slots=True)
class CashierSignIn:
    sign_in: SignIn
    operator: MerchantOperator | None = None


def _vault(context: Context) -> MerchantVault:
    return MerchantVault(context.services.cipher)


def view(context: Context, actor: Actor, merchant: Merchant) -> MerchantView:
    """`merchant` as `actor` may see it (the caller knows they may see it at all)."""
    if not sees_back_office(actor, merchant):
        return MerchantView(merchant, None)
    merchants = _vault(context)
    return MerchantView(
        merchant,
        BackOffice(
            contact_phone_masked=merchants.contact_phone_masked(merchant),
            settlement_account_last4=merchant.settlement_account_last4,
            legal_representative_id_masked=merchants.legal_representative_id_masked(merchant),
            status_reason=merchant.status_reason,
        ),
    )


# Reads ----------------------------------------------------------------------------------------


async def merchant(context: Context, key: uuid.UUID) -> MerchantView | None:
    """A merchant the viewer may see; None, as if it did not exist, otherwise."""
    actor = await context.require_actor()
    found = await context.loaders.merchant_by_id.load(key)
    if found is None or not sees_merchant(actor, found):
        return None
    return view(context, actor, found)


async def merchant_or_own(context: Context, key: uuid.UUID | None) -> MerchantView | None:
    """A merchant by id; with none, a cashier's own merchant."""
    actor = await context.require_actor()
    key = key or (actor.merchant_id if actor.is_merchant else None)
    return await merchant(context, key) if key else None


async def merchant_page(
    context: Context, status: MerchantStatus | None, *, first: int, after: uuid.UUID | None
) -> Page[MerchantView]:
    """Staff: their institution's merchants (province staff: every institution's)."""
    actor = await context.require_actor()
    if not actor.is_staff:
        raise Forbidden
    reads = await context.db.reads()
    page = await paged(
        first,
        lambda limit: reads.merchants.page(
            institution_id=actor.staff_scope(), status=status, after=after, limit=limit
        ),
    )
    for each in page.items:
        context.loaders.merchant_by_id.prime(each.id, each)
    return Page([view(context, actor, each) for each in page.items], page.has_next_page)


async def reward(context: Context, key: uuid.UUID) -> Reward | None:
    """A reward: in any state for its merchant's back office, on offer only for a customer."""
    actor = await context.require_actor()
    found = await context.loaders.reward_by_id.load(key)
    if found is None:
        return None
    owner = await context.loaders.merchant_by_id.load(found.merchant_id)
    if owner is None or not sees_merchant(actor, owner):
        return None
    if not sees_back_office(actor, owner) and not found.offered_on(context.today):
        return None
    return found


async def reward_page(
    context: Context,
    *,
    institution_id: uuid.UUID | None,
    category: MerchantCategory | None,
    merchant_id: uuid.UUID | None,
    first: int,
    after: uuid.UUID | None,
) -> Page[Reward]:
    """A customer sees what their institution offers today, a cashier their merchant's, staff
    their institution's in any state; a filter outside the viewer's scope finds nothing."""
    actor = await context.require_actor()
    asked = RewardFilter(institution_id=institution_id, merchant_id=merchant_id, category=category)
    scoped = _reward_scope(actor, asked, context.today)
    if scoped is None:
        return Page([], has_next_page=False)
    reads = await context.db.reads()
    page = await paged(first, lambda limit: reads.rewards.page(scoped, after=after, limit=limit))
    for each in page.items:
        context.loaders.reward_by_id.prime(each.id, each)
    return page


def _reward_scope(actor: Actor, asked: RewardFilter, today: date) -> RewardFilter | None:
    """`asked` narrowed to what `actor` may list; None when that is nothing."""
    if actor.is_customer:
        if actor.customer_id is None:
            return None
        scoped, scope = dataclasses.replace(asked, offered_on=today), actor.institution_id
    elif actor.is_merchant:
        if asked.merchant_id not in (None, actor.merchant_id):
            return None
        scoped = dataclasses.replace(asked, merchant_id=actor.merchant_id)
        scope = actor.institution_id
    elif actor.is_staff:
        scoped, scope = asked, actor.staff_scope()
    else:
        raise Forbidden
    if scope is not None and asked.institution_id not in (None, scope):
        return None
    return dataclasses.replace(scoped, institution_id=scope or asked.institution_id)


async def rewards_of(
    context: Context, merchant: Merchant, *, first: int, after: uuid.UUID | None
) -> Page[Reward]:
    """A visible merchant's rewards: all for its back office, those on offer for a customer."""
    actor = await context.require_actor()
    day = None if sees_back_office(actor, merchant) else context.today
    limit = page_limit(first)
    found = await context.loaders.rewards_by_merchant.load(
        RewardsOf(merchant.id, day, after, limit + 1)
    )
    return Page(found[:limit], has_next_page=len(found) > limit)


async def operators_of(context: Context, merchant: Merchant) -> list[MerchantOperator]:
    """A merchant's cashiers, for its back office only."""
    if not sees_back_office(await context.require_actor(), merchant):
        return []
    return await context.loaders.operators_by_merchant.load(merchant.id)


async def operator(context: Context, key: uuid.UUID) -> MerchantOperator | None:
    """A cashier, for staff of its institution and the cashiers of its merchant."""
    actor = await context.require_actor()
    found = await context.loaders.operator_by_id.load(key)
    if found is None:
        return None
    if actor.is_merchant:
        return found if actor.merchant_id == found.merchant_id else None
    return found if actor.may_see_staff_of(found.institution_id) else None


# Mutations ------------------------------------------------------------------------------------


async def apply(
    context: Context,
    *,
    sealed: dict[str, str],
    name: str,
    uscc: str,
    category: MerchantCategory,
    address: str,
) -> Attempt[MerchantView]:
    actor = await context.require_actor()
    if not applies_for_merchants(actor):
        raise Forbidden  # before opening envelopes: a forbidden caller learns nothing about them

    async def applied() -> MerchantView:
        opened = open_sealed(context, sealed)
        found = await onboarding.apply_merchant(
            onboarding.ApplyMerchant(
                name=name,
                uscc=uscc,
                category=category,
                address=address,
                contact_phone=opened["contactPhone"],
                settlement_account=opened["settlementAccount"],
                legal_representative_id_number=opened["legalRepresentativeIdNumber"],
            ),
            actor=actor,
            uow=context.db.unit_of_work(),
            vault=_vault(context),
            now=context.now,
            today=context.today,
        )
        return view(context, actor, found)

    return await attempt(applied())


async def review(context: Context, command: onboarding.ReviewMerchant) -> Attempt[MerchantView]:
    actor = await context.require_actor()

    async def reviewed() -> MerchantView:
        found = await onboarding.review_merchant(
            command,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            request_id=context.request_id,
        )
        return view(context, actor, found)

    return await attempt(reviewed())


async def add_operator(
    context: Context, command: onboarding.AddOperator
) -> Attempt[MerchantOperator]:
    actor = await context.require_actor()
    return await attempt(
        onboarding.add_operator(
            command,
            actor=actor,
            uow=context.db.unit_of_work(),
            passwords=context.services.passwords,
            now=context.now,
        )
    )


async def create_reward(
    context: Context, merchant_id: uuid.UUID, terms: rewards.RewardTerms
) -> Attempt[Reward]:
    actor = await context.require_actor()
    return await attempt(
        rewards.create_reward(
            merchant_id, terms, actor=actor, uow=context.db.unit_of_work(), now=context.now
        )
    )


async def update_reward(
    context: Context, reward_id: uuid.UUID, terms: rewards.RewardTerms
) -> Attempt[Reward]:
    actor = await context.require_actor()
    return await attempt(
        rewards.update_reward(
            reward_id, terms, actor=actor, uow=context.db.unit_of_work(), now=context.now
        )
    )


async def merchant_login(context: Context, *, username: str, password: str) -> CashierSignIn:
    """A cashier's sign-in; on success the rest of the response is answered as them."""
    try:
        tokens, found = await context.services.authenticator.merchant_login(
            context.db.unit_of_work(), username=username, password=password, now=context.now
        )
    except DomainError as error:
        return CashierSignIn(SignIn(errors=[error]))
    context.sign_in_as(tokens.actor)
    return CashierSignIn(SignIn(tokens=tokens), found)

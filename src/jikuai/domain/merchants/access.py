"""Who may read and change merchants, their cashiers and their benefits.

Staff who work with merchants (loan officers, branch managers, institution admins) onboard them
and keep their cashiers and benefits for their own institution; branch managers and institution
admins review them, and so may the province. Every staff member reads the merchants of their
institution (province staff: all). A cashier reads and keeps only their own merchant. A
registered customer sees the approved merchants of their institution, without their back-office
details.
"""

from __future__ import annotations

import uuid

from jikuai.domain.merchants.model import Merchant, MerchantStatus
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role

MERCHANT_STAFF = frozenset({Role.LOAN_OFFICER, Role.BRANCH_MANAGER, Role.INSTITUTION_ADMIN})
MERCHANT_REVIEWERS = frozenset({Role.BRANCH_MANAGER, Role.INSTITUTION_ADMIN, Role.PROVINCE_ADMIN})


def sees_back_office(actor: Actor, merchant: Merchant) -> bool:
    """Staff of the merchant's institution, province staff, or one of its own cashiers."""
    if actor.is_merchant:
        return actor.merchant_id == merchant.id
    return actor.may_see_staff_of(merchant.institution_id)


def sees_merchant(actor: Actor, merchant: Merchant) -> bool:
    """Back office, or a registered customer of its institution once it is approved."""
    if actor.is_customer:
        return (
            actor.customer_id is not None
            and actor.institution_id == merchant.institution_id
            and merchant.status is MerchantStatus.APPROVED
        )
    return sees_back_office(actor, merchant)


def keeps_merchant(actor: Actor, institution_id: uuid.UUID, merchant_id: uuid.UUID) -> bool:
    """Whether `actor` may keep a merchant's cashiers and benefits: its own cashier, or merchant
    staff of its institution."""
    if actor.is_merchant:
        return actor.merchant_id == merchant_id
    return is_merchant_staff(actor) and actor.institution_id == institution_id


def applies_for_merchants(actor: Actor) -> bool:
    """Merchant staff (for their institution) and registered customers (for theirs)."""
    if actor.is_customer:
        return actor.customer_id is not None and actor.institution_id is not None
    return is_merchant_staff(actor) and actor.institution_id is not None


def is_merchant_staff(actor: Actor) -> bool:
    return actor.is_staff and actor.role in MERCHANT_STAFF


def reviews_merchants(actor: Actor) -> bool:
    return actor.is_staff and actor.role in MERCHANT_REVIEWERS

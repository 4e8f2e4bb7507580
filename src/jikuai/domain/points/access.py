"""Who may move points."""

from __future__ import annotations

from jikuai.domain.points.model import DIRECT_AWARDS, EventType, PointsEvent, Redemption, Settlement
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role

# Staff who configure the programme, mark settlements paid and reverse redemptions.
POINTS_ADMINS = frozenset({Role.INSTITUTION_ADMIN})
# Staff who read customers' points and the merchants' settlements.
POINTS_READERS = frozenset(
    {Role.LOAN_OFFICER, Role.BRANCH_MANAGER, Role.INSTITUTION_ADMIN, Role.PROVINCE_ADMIN}
)


def may_record(actor: Actor, event_type: EventType) -> bool:
    """The bank's systems report every kind of event; an institution admin may also award
    campaign points and adjust by hand."""
    if actor.is_service:
        return True
    return actor.is_staff and actor.role in POINTS_ADMINS and event_type in DIRECT_AWARDS


def reads_points(actor: Actor) -> bool:
    """Staff who read customers' points, redemptions and settlements (their institution's)."""
    return actor.is_staff and actor.role in POINTS_READERS


def sees_redemption(actor: Actor, redemption: Redemption) -> bool:
    """Its cashier's merchant, its customer, or points-reading staff of its institution."""
    if actor.is_merchant:
        return redemption.merchant_id == actor.merchant_id
    if actor.is_customer:
        return redemption.customer_id == actor.customer_id
    return reads_points(actor) and actor.may_see_staff_of(redemption.institution_id)


def sees_settlement(actor: Actor, settlement: Settlement) -> bool:
    """Its merchant's cashiers, or points-reading staff of its institution."""
    if actor.is_merchant:
        return settlement.merchant_id == actor.merchant_id
    return reads_points(actor) and actor.may_see_staff_of(settlement.institution_id)


def sees_event(actor: Actor, event: PointsEvent) -> bool:
    """Its customer, its institution's service accounts, or points-reading staff there."""
    if actor.is_customer:
        return event.customer_id == actor.customer_id
    if actor.is_service:
        return event.institution_id == actor.institution_id
    return reads_points(actor) and actor.may_see_staff_of(event.institution_id)

"""Who may move points."""

from __future__ import annotations

from jikuai.domain.points.model import DIRECT_AWARDS, EventType
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

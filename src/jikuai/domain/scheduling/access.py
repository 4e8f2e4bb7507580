"""Who may look at the scheduling centre: the administrators of an institution and of the
province. Job runs are the platform's own records, not any institution's: they hold counts
and errors, never a customer's data."""

from __future__ import annotations

from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role

SCHEDULE_VIEWERS = frozenset({Role.INSTITUTION_ADMIN, Role.PROVINCE_ADMIN})


def sees_schedule(actor: Actor) -> bool:
    return actor.is_staff and actor.role in SCHEDULE_VIEWERS

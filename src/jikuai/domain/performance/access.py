"""Who may see and change performance results.

A loan officer sees their own results; a branch manager their branch's; an institution admin
everything of their institution, and configures it; province admins see every institution. An
institution's figures are shown to its managers, never to another institution's staff.
"""

from __future__ import annotations

import uuid

from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role, Staff

# Roles an assessment scheme may score.
ASSESSED_ROLES = frozenset({Role.LOAN_OFFICER, Role.BRANCH_MANAGER, Role.RISK_OFFICER})
# Staff who see the figures of a whole branch or institution.
PERFORMANCE_MANAGERS = frozenset({Role.BRANCH_MANAGER, Role.INSTITUTION_ADMIN, Role.PROVINCE_ADMIN})
# Staff who configure schemes, reassign portfolios across branches and close periods.
PERFORMANCE_ADMINS = frozenset({Role.INSTITUTION_ADMIN, Role.PROVINCE_ADMIN})


def sees_institution(actor: Actor, institution_id: uuid.UUID) -> bool:
    """Whole-institution figures: its admins and the province's."""
    return (
        actor.is_staff
        and actor.role in PERFORMANCE_ADMINS
        and (actor.sees_all_institutions or actor.institution_id == institution_id)
    )


def sees_branch(
    actor: Actor, me: Staff | None, institution_id: uuid.UUID, branch_id: uuid.UUID
) -> bool:
    """A branch's figures: its own manager, and whoever sees the whole institution."""
    if sees_institution(actor, institution_id):
        return True
    return (
        actor.role is Role.BRANCH_MANAGER
        and me is not None
        and me.institution_id == institution_id
        and me.branch_id == branch_id
    )


def sees_staff(actor: Actor, me: Staff | None, staff: Staff) -> bool:
    """One person's results and the rows behind them: the person, their branch's manager, and
    whoever sees their institution."""
    if actor.is_staff and actor.id == staff.id:
        return True
    return (
        staff.branch_id is not None
        and sees_branch(actor, me, staff.institution_id, staff.branch_id)
    ) or sees_institution(actor, staff.institution_id)


def administers(actor: Actor, institution_id: uuid.UUID) -> bool:
    """Configures schemes and closes periods of the institution."""
    return sees_institution(actor, institution_id)


def assigns_in(actor: Actor, me: Staff | None, staff: Staff) -> bool:
    """Hands a customer or merchant to `staff`: an admin within the institution, a branch
    manager within their branch."""
    if not staff.active:
        return False
    if administers(actor, staff.institution_id):
        return True
    return staff.branch_id is not None and sees_branch(
        actor, me, staff.institution_id, staff.branch_id
    )


def may_import_facts(actor: Actor) -> bool:
    """Imports daily facts into its institution: core banking (a service account) or an
    institution admin."""
    if actor.institution_id is None:
        return False
    return actor.is_service or (actor.is_staff and actor.role is Role.INSTITUTION_ADMIN)

"""Who may read and do what in retail credit.

A customer reads and acts on their own credit records only. Staff read those of their own
institution if their role works in credit, province staff read every institution's, and each
action names the roles that may take it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role

PRODUCT_ADMINS = frozenset({Role.INSTITUTION_ADMIN})
LPR_KEEPERS = frozenset({Role.PROVINCE_ADMIN})
LIST_KEEPERS = frozenset({Role.INSTITUTION_ADMIN, Role.RISK_OFFICER})
CREDIT_STAFF = frozenset(
    {Role.LOAN_OFFICER, Role.BRANCH_MANAGER, Role.RISK_OFFICER, Role.INSTITUTION_ADMIN}
)
APPLYING_STAFF = frozenset({Role.LOAN_OFFICER, Role.BRANCH_MANAGER})
DISBURSING_STAFF = frozenset({Role.LOAN_OFFICER, Role.BRANCH_MANAGER})
REPAYMENT_STAFF = frozenset({Role.LOAN_OFFICER, Role.BRANCH_MANAGER})
CLASSIFYING_STAFF = frozenset({Role.RISK_OFFICER})


def sees_credit_of(actor: Actor, institution_id: uuid.UUID, customer_id: uuid.UUID) -> bool:
    """Whether `actor` may read a credit record (application, line, loan) of this customer."""
    return credit_reader(actor)(institution_id, customer_id)


def credit_reader(actor: Actor) -> Callable[[uuid.UUID, uuid.UUID], bool]:
    """`sees_credit_of` for one actor, as a check of (institution, customer) decided once for
    a page of records."""
    if actor.is_customer:
        own = actor.customer_id
        return lambda _, customer_id: own is not None and customer_id == own
    if actor.sees_all_institutions:
        return lambda _, __: True
    if actor.role in CREDIT_STAFF:
        mine = actor.institution_id
        return lambda institution_id, _: institution_id == mine
    return lambda _, __: False


def acts_on_credit_of(
    actor: Actor, institution_id: uuid.UUID, customer_id: uuid.UUID, roles: frozenset[Role]
) -> bool:
    """Whether `actor` may change a credit record of this customer: the customer, or staff of
    `roles` in the record's institution."""
    if actor.is_customer:
        return actor.customer_id == customer_id
    return actor.role in roles and actor.institution_id == institution_id

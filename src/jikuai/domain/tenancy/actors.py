"""The actor behind a request, and the tenancy rules that follow from it.

Staff reads of tenant-owned rows are scoped through `Actor.staff_scope()`: `None` means every
institution (province roles), otherwise the one institution the staff member belongs to. A
customer sees only their own records, and nothing before they have registered. A merchant's
cashier acts only for their merchant, and a service account (one of the bank's own systems) only
records points events for its institution.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from jikuai.domain.merchants.model import MerchantOperator
from jikuai.domain.shared.errors import PermissionDenied
from jikuai.domain.tenancy.model import PROVINCE_ROLES, Role, ServiceClient, Staff

REVEALING_ROLES = frozenset({Role.LOAN_OFFICER, Role.RISK_OFFICER, Role.INSTITUTION_ADMIN})
REGISTERING_ROLES = frozenset({Role.LOAN_OFFICER, Role.BRANCH_MANAGER, Role.INSTITUTION_ADMIN})


class ActorKind(StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"
    MERCHANT = "merchant"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking. A customer actor is a WeChat account that may not have registered yet."""

    kind: ActorKind
    id: uuid.UUID
    role: Role
    institution_id: uuid.UUID | None
    customer_id: uuid.UUID | None = None
    merchant_id: uuid.UUID | None = None

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls(
            kind=ActorKind.STAFF, id=staff.id, role=staff.role, institution_id=staff.institution_id
        )

    @classmethod
    def of_operator(cls, operator: MerchantOperator) -> Actor:
        return cls(
            kind=ActorKind.MERCHANT,
            id=operator.id,
            role=Role.MERCHANT_OPERATOR,
            institution_id=operator.institution_id,
            merchant_id=operator.merchant_id,
        )

    @classmethod
    def of_service(cls, client: ServiceClient) -> Actor:
        return cls(
            kind=ActorKind.SERVICE,
            id=client.id,
            role=Role.SERVICE_ACCOUNT,
            institution_id=client.institution_id,
        )

    @property
    def is_staff(self) -> bool:
        return self.kind is ActorKind.STAFF

    @property
    def is_customer(self) -> bool:
        return self.kind is ActorKind.CUSTOMER

    @property
    def is_merchant(self) -> bool:
        return self.kind is ActorKind.MERCHANT

    @property
    def is_service(self) -> bool:
        return self.kind is ActorKind.SERVICE

    @property
    def sees_all_institutions(self) -> bool:
        return self.role in PROVINCE_ROLES

    def staff_scope(self) -> uuid.UUID | None:
        """The institution a staff member's queries are limited to; None for province roles."""
        if not self.is_staff:
            raise PermissionDenied
        return None if self.sees_all_institutions else self.institution_id

    def may_see_customer(self, customer_id: uuid.UUID, institution_id: uuid.UUID) -> bool:
        if self.is_customer:
            return self.customer_id is not None and self.customer_id == customer_id
        return self.is_staff and (
            self.sees_all_institutions or self.institution_id == institution_id
        )

    def may_see_staff_of(self, institution_id: uuid.UUID) -> bool:
        return self.is_staff and (
            self.sees_all_institutions or self.institution_id == institution_id
        )

    @property
    def may_reveal(self) -> bool:
        return self.is_staff and self.role in REVEALING_ROLES

    @property
    def may_register_customers(self) -> bool:
        return self.is_customer or self.role in REGISTERING_ROLES

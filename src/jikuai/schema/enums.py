"""Enums more than one context's types use, registered once before any type refers to them."""

from __future__ import annotations

import strawberry

from jikuai.domain.customers.model import Segment
from jikuai.domain.tenancy.actors import ActorKind
from jikuai.domain.tenancy.model import Role

strawberry.enum(Segment, name="Segment", description="Customer segment (客群).")
strawberry.enum(Role, name="Role", description="What an actor may do (角色).")
strawberry.enum(
    ActorKind,
    name="ActorKind",
    description="A staff member, customer, merchant cashier or service account.",
)

__all__ = ["ActorKind", "Role", "Segment"]

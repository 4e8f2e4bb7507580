"""The root Query and Mutation, merged from every bounded context, and the Schema object."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from jikuai.config import Settings
from jikuai.schema.credit.operations import CreditMutation, CreditQuery
from jikuai.schema.customers import CustomerMutation, CustomerQuery
from jikuai.schema.identity import IdentityMutation, IdentityQuery
from jikuai.schema.merchants import MerchantMutation, MerchantQuery
from jikuai.schema.nodes import NodeQuery
from jikuai.schema.performance import PerformanceMutation, PerformanceQuery
from jikuai.schema.points import PointsMutation, PointsQuery
from jikuai.schema.scalars import SCALARS
from jikuai.schema.scheduling import SchedulingQuery
from jikuai.schema.tenancy import TenancyQuery
from jikuai.schema.villages import VillageMutation, VillageQuery


@strawberry.type(description="Everything that can be read.")
class Query(
    NodeQuery,
    IdentityQuery,
    TenancyQuery,
    CustomerQuery,
    CreditQuery,
    MerchantQuery,
    PointsQuery,
    PerformanceQuery,
    VillageQuery,
    SchedulingQuery,
):
    pass


@strawberry.type(description="Everything that can be changed; one `input`, a payload back.")
class Mutation(
    IdentityMutation,
    CustomerMutation,
    CreditMutation,
    MerchantMutation,
    PointsMutation,
    PerformanceMutation,
    VillageMutation,
):
    pass


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema; operations run through `schema.execution.OperationRunner`."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(
            disable_field_suggestions=settings.is_production, scalar_map=dict(SCALARS)
        ),
    )

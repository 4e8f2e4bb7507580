"""`node(id:)`: any object by global ID, under exactly the rules of its own field."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import strawberry
from strawberry.types import Info

from jikuai.resolvers import credit as resolve_credit
from jikuai.resolvers import merchants as resolve_merchants
from jikuai.resolvers import performance as resolve_performance
from jikuai.resolvers import points as resolve_points
from jikuai.resolvers import scheduling as resolve_scheduling
from jikuai.resolvers import tenancy as resolve_tenancy
from jikuai.resolvers import villages as resolve_villages
from jikuai.resolvers.context import Context
from jikuai.resolvers.errors import NotFound
from jikuai.schema.credit.loans import CreditLine, Loan, LoanApplication
from jikuai.schema.credit.products import LoanProduct
from jikuai.schema.credit.risk import CreditListEntry, RiskAlert
from jikuai.schema.customers import Customer
from jikuai.schema.merchants import Merchant, MerchantOperator, Reward
from jikuai.schema.performance.schemes import AssessmentScheme
from jikuai.schema.points import PointsEvent, Redemption, Settlement
from jikuai.schema.relay import Node, from_global_id
from jikuai.schema.scheduling import JobRun
from jikuai.schema.tenancy import Branch, Institution, Staff
from jikuai.schema.villages import RosterImport, Village, VillageHousehold


async def _node(context: Context, global_id: str) -> Node | None:
    decoded = from_global_id(global_id)
    if decoded is None:
        return None
    type_name, key = decoded
    if type_name == "Customer":
        customer = await context.visible_customer(key)
        return Customer.of(customer, context) if customer else None
    if type_name in _CREDIT_NODES:
        return await _CREDIT_NODES[type_name](context, key)
    if type_name in _MERCHANT_NODES:
        return await _MERCHANT_NODES[type_name](context, key)
    if type_name in _POINTS_NODES:
        return await _POINTS_NODES[type_name](context, key)
    if type_name in _VILLAGE_NODES:
        return await _VILLAGE_NODES[type_name](context, key)
    if type_name == "AssessmentScheme":
        scheme = await resolve_performance.scheme(context, key)
        return AssessmentScheme.of(scheme) if scheme else None
    if type_name == "JobRun":
        run = await resolve_scheduling.job_run(context, key)
        return JobRun.of(run) if run else None
    if type_name == "Institution":
        institution = await context.loaders.institution_by_id.load(key)
        return Institution.of(institution) if institution else None
    if type_name == "Branch":
        branch = await context.loaders.branch_by_id.load(key)
        return Branch.of(branch) if branch else None
    if type_name == "Staff":
        staff = await resolve_tenancy.staff_member(context, key)
        return Staff.of(staff) if staff else None
    return None


async def _application(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_credit.application(context, key)
    return LoanApplication.of(found) if found else None


async def _loan(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_credit.loan(context, key)
    return Loan.of(found) if found else None


async def _credit_line(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_credit.credit_line(context, key)
    return CreditLine.of(found) if found else None


async def _risk_alert(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_credit.risk_alert(context, key)
    return RiskAlert.of(found) if found else None


async def _list_entry(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_credit.list_entry(context, key)
    return CreditListEntry.of(found) if found else None


async def _product(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_credit.product(context, key)
    return LoanProduct.of(found) if found else None


_CREDIT_NODES: dict[str, Callable[[Context, uuid.UUID], Awaitable[Node | None]]] = {
    "LoanApplication": _application,
    "Loan": _loan,
    "CreditLine": _credit_line,
    "LoanProduct": _product,
    "RiskAlert": _risk_alert,
    "CreditListEntry": _list_entry,
}


async def _merchant(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_merchants.merchant(context, key)
    return Merchant.of(found) if found else None


async def _reward(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_merchants.reward(context, key)
    return Reward.of(found) if found else None


async def _operator(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_merchants.operator(context, key)
    return MerchantOperator.of(found) if found else None


_MERCHANT_NODES: dict[str, Callable[[Context, uuid.UUID], Awaitable[Node | None]]] = {
    "Merchant": _merchant,
    "Reward": _reward,
    "MerchantOperator": _operator,
}


async def _redemption(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_points.redemption_by_id(context, key)
    return Redemption.of(found) if found else None


async def _settlement(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_points.settlement_by_id(context, key)
    return Settlement.of(found) if found else None


async def _points_event(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_points.event_by_id(context, key)
    return PointsEvent.of(found) if found else None


_POINTS_NODES: dict[str, Callable[[Context, uuid.UUID], Awaitable[Node | None]]] = {
    "Redemption": _redemption,
    "Settlement": _settlement,
    "PointsEvent": _points_event,
}


async def _village(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_villages.village(context, key)
    return Village.of(found) if found else None


async def _household(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_villages.household(context, key)
    return VillageHousehold.of(found, context) if found else None


async def _roster_import(context: Context, key: uuid.UUID) -> Node | None:
    found = await resolve_villages.roster_import(context, key)
    return RosterImport.of(found, context.language) if found else None


_VILLAGE_NODES: dict[str, Callable[[Context, uuid.UUID], Awaitable[Node | None]]] = {
    "Village": _village,
    "VillageHousehold": _household,
    "RosterImport": _roster_import,
}


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Fetch any object by its global ID; NOT_FOUND if not visible.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        found = await _node(info.context, id)
        if found is None:
            raise NotFound
        return found

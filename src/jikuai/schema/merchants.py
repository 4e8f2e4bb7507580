"""Merchants (商户), their cashiers (收银员) and the benefits (权益) they offer for points."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.enum import has_enum_definition

from jikuai.domain.merchants import model
from jikuai.domain.merchants.onboarding import AddOperator, ReviewMerchant
from jikuai.domain.merchants.rewards import RewardTerms
from jikuai.resolvers import merchants as resolve
from jikuai.resolvers import tenancy as resolve_tenancy
from jikuai.resolvers.context import Context
from jikuai.resolvers.errors import NotFound
from jikuai.resolvers.outcomes import Attempt
from jikuai.schema.errors import UserError, user_errors
from jikuai.schema.identity import SignInPayload, sign_in_fields
from jikuai.schema.relay import (
    Connection,
    Node,
    after_cursor,
    input_id,
    optional_input_id,
    to_global_id,
)
from jikuai.schema.scalars import Sealed
from jikuai.schema.tenancy import Institution, Staff

E = TypeVar("E", bound=Enum)


def _register(enum: type[E], *, name: str, description: str, values: Mapping[E, str]) -> None:
    """Register a domain enum with a description of each value (the domain knows no GraphQL)."""
    registered = strawberry.enum(enum, name=name, description=description)
    if has_enum_definition(registered):
        for value in registered.__strawberry_definition__.values:
            value.description = values[enum[value.name]]


_register(
    model.MerchantStatus,
    name="MerchantStatus",
    description="Where a merchant's onboarding stands (商户状态).",
    values={
        model.MerchantStatus.PENDING: "Applied, waiting for review (待审核).",
        model.MerchantStatus.APPROVED: "Onboarded: its benefits are on offer (已入驻).",
        model.MerchantStatus.REJECTED: "Turned down at review; final (已驳回).",
        model.MerchantStatus.SUSPENDED: "Approved, then suspended; may be reinstated (已暂停).",
    },
)
_register(
    model.MerchantCategory,
    name="MerchantCategory",
    description="What a merchant does (商户类别).",
    values={
        model.MerchantCategory.SUPERMARKET: "Supermarket or village shop (超市).",
        model.MerchantCategory.CATERING: "Restaurant (餐饮).",
        model.MerchantCategory.AGRICULTURAL_SUPPLIES: "Seeds, fertiliser, tools (农资).",
        model.MerchantCategory.PHARMACY: "Pharmacy (药店).",
        model.MerchantCategory.TELECOM: "Mobile and broadband (通信).",
        model.MerchantCategory.FUEL: "Fuel station (加油站).",
        model.MerchantCategory.SERVICES: "Services, e.g. repairs (生活服务).",
        model.MerchantCategory.OTHER: "Anything else (其他).",
    },
)
_register(
    model.RewardKind,
    name="RewardKind",
    description="What a benefit gives (权益类型).",
    values={
        model.RewardKind.ITEM: "Goods handed over at the counter (实物).",
        model.RewardKind.VOUCHER: "A voucher taken off a bill (代金券).",
    },
)


@strawberry.type(
    description="A merchant of the points ecosystem (商户). Its back-office details are masked, "
    "and shown only to staff of its institution and its own cashiers."
)
class Merchant(Node):
    name: str = strawberry.field(description="Trading name (商户名称).")
    uscc: str = strawberry.field(description="Unified Social Credit Code (统一社会信用代码).")
    category: model.MerchantCategory = strawberry.field(description="What it does (类别).")
    address: str = strawberry.field(description="Where it is (地址).")
    status: model.MerchantStatus = strawberry.field(description="Onboarding status (状态).")
    contact_phone_masked: str | None = strawberry.field(
        description='Contact mobile, e.g. "138****5678" (联系电话); null for customers.'
    )
    settlement_account_last4: str | None = strawberry.field(
        description="Last 4 digits of the settlement account (结算账号); null for customers."
    )
    legal_representative_id_masked: str | None = strawberry.field(
        description="Legal representative's ID number, first 1 and last 1 (法人身份证号); "
        "null for customers."
    )
    status_reason: str | None = strawberry.field(
        description="Reason of the last review (审核意见); null for customers."
    )
    reviewed_at: datetime.datetime | None = strawberry.field(description="Last reviewed at.")
    created_at: datetime.datetime = strawberry.field(description="Applied at.")
    _merchant: strawberry.Private[model.Merchant]

    @classmethod
    def of(cls, found: resolve.MerchantView) -> Merchant:
        merchant, back_office = found.merchant, found.back_office
        return cls(
            id=to_global_id("Merchant", merchant.id),
            name=merchant.name,
            uscc=merchant.uscc,
            category=merchant.category,
            address=merchant.address,
            status=merchant.status,
            contact_phone_masked=back_office.contact_phone_masked if back_office else None,
            settlement_account_last4=back_office.settlement_account_last4 if back_office else None,
            legal_representative_id_masked=(
                back_office.legal_representative_id_masked if back_office else None
            ),
            status_reason=back_office.status_reason if back_office else None,
            reviewed_at=merchant.reviewed_at,
            created_at=merchant.created_at,
            _merchant=merchant,
        )

    @strawberry.field(description="The staff member who onboarded it (拓展人员), if visible.")
    async def onboarded_by(self, info: Info[Context, None]) -> Staff | None:
        staff_id = self._merchant.onboarded_by
        found = await resolve_tenancy.staff_member(info.context, staff_id) if staff_id else None
        return Staff.of(found) if found else None

    @strawberry.field(description="The institution it is onboarded with (所属行社).")
    async def institution(self, info: Info[Context, None]) -> Institution:
        found = await resolve_tenancy.institution(info.context, self._merchant.institution_id)
        return Institution.of(found)

    @strawberry.field(description="Its benefits; a customer sees only those on offer today.")
    async def rewards(
        self,
        info: Info[Context, None],
        first: Annotated[int, strawberry.argument(description="Page size, at most 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to continue after.")
        ] = None,
    ) -> Connection[Reward]:
        page = await resolve.rewards_of(
            info.context, self._merchant, first=first, after=after_cursor(after)
        )
        return Connection[Reward].of_rows(
            page.items, Reward.of, has_next_page=page.has_next_page, after=after is not None
        )

    @strawberry.field(description="Its cashiers (收银员), oldest first; empty for customers.")
    async def operators(self, info: Info[Context, None]) -> list[MerchantOperator]:
        found = await resolve.operators_of(info.context, self._merchant)
        return [MerchantOperator.of(each) for each in found]


@strawberry.type(description="A cashier (收银员) who signs in to the merchant app.")
class MerchantOperator(Node):
    username: str = strawberry.field(description="Sign-in name.")
    display_name: str = strawberry.field(description="Name shown in the app.")
    active: bool = strawberry.field(description="May sign in.")
    created_at: datetime.datetime = strawberry.field(description="Added at.")
    _operator: strawberry.Private[model.MerchantOperator]

    @classmethod
    def of(cls, operator: model.MerchantOperator) -> MerchantOperator:
        return cls(
            id=to_global_id("MerchantOperator", operator.id),
            username=operator.username,
            display_name=operator.display_name,
            active=operator.active,
            created_at=operator.created_at,
            _operator=operator,
        )

    @strawberry.field(description="The merchant they work for.")
    async def merchant(self, info: Info[Context, None]) -> Merchant:
        found = await resolve.merchant(info.context, self._operator.merchant_id)
        if found is None:
            raise NotFound
        return Merchant.of(found)


@strawberry.type(description="A benefit offered for points (权益).")
class Reward(Node):
    name: str = strawberry.field(description="Name (权益名称).")
    description: str = strawberry.field(description="What the customer gets (权益说明).")
    kind: model.RewardKind = strawberry.field(description="Goods or a voucher.")
    price_points: int = strawberry.field(description="Points it costs (所需积分).")
    stock: int | None = strawberry.field(description="Items left (库存); null is unlimited.")
    per_customer_limit: int | None = strawberry.field(
        description="How many one customer may redeem (每人限兑); null is no limit."
    )
    valid_from: datetime.date = strawberry.field(description="First day on offer.")
    valid_until: datetime.date = strawberry.field(description="Last day on offer.")
    active: bool = strawberry.field(description="Offered at all (上架).")
    created_at: datetime.datetime = strawberry.field(description="Created at.")
    updated_at: datetime.datetime = strawberry.field(description="Last changed at.")
    _reward: strawberry.Private[model.Reward]

    @classmethod
    def of(cls, reward: model.Reward) -> Reward:
        return cls(
            id=to_global_id("Reward", reward.id),
            name=reward.name,
            description=reward.description,
            kind=reward.kind,
            price_points=reward.price_points,
            stock=reward.stock,
            per_customer_limit=reward.per_customer_limit,
            valid_from=reward.valid_from,
            valid_until=reward.valid_until,
            active=reward.active,
            created_at=reward.created_at,
            updated_at=reward.updated_at,
            _reward=reward,
        )

    @strawberry.field(description="The merchant offering it.")
    async def merchant(self, info: Info[Context, None]) -> Merchant:
        found = await resolve.merchant(info.context, self._reward.merchant_id)
        if found is None:
            raise NotFound
        return Merchant.of(found)


@strawberry.input(
    description="A merchant's application (商户入驻申请); the contact phone, settlement account "
    "and legal representative's ID number arrive sealed."
)
class ApplyMerchantInput:
    name: str = strawberry.field(description="Trading name, 2–100 characters.")
    uscc: str = strawberry.field(description="Unified Social Credit Code, 18 characters.")
    category: model.MerchantCategory = strawberry.field(description="What it does.")
    address: str = strawberry.field(description="Where it is, up to 200 characters.")
    contact_phone: Sealed = strawberry.field(
        description="Mainland mobile number, sealed for field `contactPhone`."
    )
    settlement_account: Sealed = strawberry.field(
        description="Settlement account, 12–30 digits, sealed for field `settlementAccount`."
    )
    legal_representative_id_number: Sealed = strawberry.field(
        description="Legal representative's ID number, sealed for field "
        "`legalRepresentativeIdNumber`."
    )


@strawberry.input(description="A review decision on a merchant, with its reason (审核意见).")
class MerchantReviewInput:
    merchant_id: strawberry.ID = strawberry.field(description="The merchant.")
    reason: str = strawberry.field(description="Why, up to 200 characters.")


@strawberry.input(description="A new cashier for a merchant.")
class AddMerchantOperatorInput:
    merchant_id: strawberry.ID = strawberry.field(description="The merchant.")
    username: str = strawberry.field(description="Sign-in name, 3–64 characters, unique.")
    display_name: str = strawberry.field(description="Name shown in the app, up to 50.")
    password: str = strawberry.field(description="8–128 characters; never stored or returned.")


@strawberry.input(description="The terms of a benefit, all of them.")
class RewardTermsInput:
    name: str = strawberry.field(description="Name, up to 100 characters.")
    kind: model.RewardKind = strawberry.field(description="Goods or a voucher.")
    price_points: int = strawberry.field(description="Points it costs, at least 1.")
    valid_from: datetime.date = strawberry.field(description="First day on offer.")
    valid_until: datetime.date = strawberry.field(description="Last day on offer.")
    description: str = strawberry.field(default="", description="Up to 500 characters.")
    stock: int | None = strawberry.field(
        default=None, description="Items left, 0 or more; null is unlimited."
    )
    per_customer_limit: int | None = strawberry.field(
        default=None, description="At least 1; null is no limit."
    )
    active: bool = strawberry.field(default=True, description="Offered at all.")


@strawberry.input(description="A new benefit of a merchant.")
class CreateRewardInput(RewardTermsInput):
    merchant_id: strawberry.ID = strawberry.field(description="The merchant offering it.")


@strawberry.input(description="New terms for a benefit.")
class UpdateRewardInput(RewardTermsInput):
    reward_id: strawberry.ID = strawberry.field(description="The benefit.")


@strawberry.input(description="Cashier credentials.")
class MerchantLoginInput:
    username: str = strawberry.field(description="Sign-in name.")
    password: str = strawberry.field(description="Password; never stored or returned.")


@strawberry.type(description="Result of a merchant mutation.")
class MerchantPayload:
    merchant: Merchant | None = strawberry.field(description="The merchant, on success.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `addMerchantOperator`.")
class MerchantOperatorPayload:
    operator: MerchantOperator | None = strawberry.field(description="The cashier, on success.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of a benefit mutation.")
class RewardPayload:
    reward: Reward | None = strawberry.field(description="The benefit, on success.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Tokens for a cashier; they act only for the cashier's merchant.")
class MerchantLoginPayload(SignInPayload):
    operator: MerchantOperator | None = strawberry.field(description="Who signed in, on success.")


def _terms(input: RewardTermsInput) -> RewardTerms:
    return RewardTerms(
        name=input.name,
        description=input.description,
        kind=input.kind,
        price_points=input.price_points,
        stock=input.stock,
        per_customer_limit=input.per_customer_limit,
        valid_from=input.valid_from,
        valid_until=input.valid_until,
        active=input.active,
    )


def _merchant_payload(attempt: Attempt[resolve.MerchantView], context: Context) -> MerchantPayload:
    return MerchantPayload(
        merchant=Merchant.of(attempt.result) if attempt.result else None,
        user_errors=user_errors(attempt.errors, context.language),
    )


def _reward_payload(attempt: Attempt[model.Reward], context: Context) -> RewardPayload:
    return RewardPayload(
        reward=Reward.of(attempt.result) if attempt.result else None,
        user_errors=user_errors(attempt.errors, context.language),
    )


async def _review(
    context: Context, input: MerchantReviewInput, decision: model.MerchantStatus
) -> MerchantPayload:
    command = ReviewMerchant(input_id(input.merchant_id, "Merchant"), decision, input.reason)
    return _merchant_payload(await resolve.review(context, command), context)


@strawberry.type
class MerchantQuery:
    @strawberry.field(description="Merchants of the viewer's institution, oldest first (staff).")
    async def merchants(
        self,
        info: Info[Context, None],
        status: Annotated[
            model.MerchantStatus | None, strawberry.argument(description="Only this status.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, at most 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to continue after.")
        ] = None,
    ) -> Connection[Merchant]:
        page = await resolve.merchant_page(
            info.context, status, first=first, after=after_cursor(after)
        )
        return Connection[Merchant].of_rows(
            page.items, Merchant.of, has_next_page=page.has_next_page, after=after is not None
        )

    @strawberry.field(description="One merchant; NOT_FOUND unless the viewer may see it.")
    async def merchant(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Its global ID; a cashier may leave it out."),
        ] = None,
    ) -> Merchant:
        found = await resolve.merchant_or_own(info.context, optional_input_id(id, "Merchant"))
        if found is None:
            raise NotFound
        return Merchant.of(found)

    @strawberry.field(
        description="Benefits the viewer may see, oldest first: a customer's institution's on "
        "offer today, a cashier's merchant's, staff's institution's in any state."
    )
    async def rewards(
        self,
        info: Info[Context, None],
        institution_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this institution's.")
        ] = None,
        category: Annotated[
            model.MerchantCategory | None,
            strawberry.argument(description="Only of merchants of this category."),
        ] = None,
        merchant_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this merchant's.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, at most 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to continue after.")
        ] = None,
    ) -> Connection[Reward]:
        page = await resolve.reward_page(
            info.context,
            institution_id=optional_input_id(institution_id, "Institution"),
            category=category,
            merchant_id=optional_input_id(merchant_id, "Merchant"),
            first=first,
            after=after_cursor(after),
        )
        return Connection[Reward].of_rows(
            page.items, Reward.of, has_next_page=page.has_next_page, after=after is not None
        )


@strawberry.type
class MerchantMutation:
    @strawberry.mutation(
        description="Apply as a merchant (商户入驻): staff for their institution, or a "
        "registered customer for theirs. The merchant waits in PENDING for review."
    )
    async def apply_merchant(
        self, info: Info[Context, None], input: ApplyMerchantInput
    ) -> MerchantPayload:
        context = info.context
        attempt = await resolve.apply(
            context,
            sealed={
                "contactPhone": input.contact_phone,
                "settlementAccount": input.settlement_account,
                "legalRepresentativeIdNumber": input.legal_representative_id_number,
            },
            name=input.name,
            uscc=input.uscc,
            category=input.category,
            address=input.address,
        )
        return _merchant_payload(attempt, context)

    @strawberry.mutation(description="Approve a pending merchant, or reinstate a suspended one.")
    async def approve_merchant(
        self, info: Info[Context, None], input: MerchantReviewInput
    ) -> MerchantPayload:
        return await _review(info.context, input, model.MerchantStatus.APPROVED)

    @strawberry.mutation(description="Reject a pending merchant (final).")
    async def reject_merchant(
        self, info: Info[Context, None], input: MerchantReviewInput
    ) -> MerchantPayload:
        return await _review(info.context, input, model.MerchantStatus.REJECTED)

    @strawberry.mutation(description="Suspend an approved merchant: its benefits leave the shelf.")
    async def suspend_merchant(
        self, info: Info[Context, None], input: MerchantReviewInput
    ) -> MerchantPayload:
        return await _review(info.context, input, model.MerchantStatus.SUSPENDED)

    @strawberry.mutation(description="Add a cashier to a merchant (staff of its institution).")
    async def add_merchant_operator(
        self, info: Info[Context, None], input: AddMerchantOperatorInput
    ) -> MerchantOperatorPayload:
        context = info.context
        attempt = await resolve.add_operator(
            context,
            AddOperator(
                merchant_id=input_id(input.merchant_id, "Merchant"),
                username=input.username,
                display_name=input.display_name,
                password=input.password,
            ),
        )
        return MerchantOperatorPayload(
            operator=MerchantOperator.of(attempt.result) if attempt.result else None,
            user_errors=user_errors(attempt.errors, context.language),
        )

    @strawberry.mutation(description="Create a benefit (its merchant's cashiers, or staff).")
    async def create_reward(
        self, info: Info[Context, None], input: CreateRewardInput
    ) -> RewardPayload:
        attempt = await resolve.create_reward(
            info.context, input_id(input.merchant_id, "Merchant"), _terms(input)
        )
        return _reward_payload(attempt, info.context)

    @strawberry.mutation(description="Replace a benefit's terms (its cashiers, or staff).")
    async def update_reward(
        self, info: Info[Context, None], input: UpdateRewardInput
    ) -> RewardPayload:
        attempt = await resolve.update_reward(
            info.context, input_id(input.reward_id, "Reward"), _terms(input)
        )
        return _reward_payload(attempt, info.context)

    @strawberry.mutation(description="Cashier sign-in to the merchant app (商户登录).")
    async def merchant_login(
        self, info: Info[Context, None], input: MerchantLoginInput
    ) -> MerchantLoginPayload:
        result = await resolve.merchant_login(
            info.context, username=input.username, password=input.password
        )
        return MerchantLoginPayload(
            operator=MerchantOperator.of(result.operator) if result.operator else None,
            **sign_in_fields(result.sign_in, info.context.language),
        )

"""Points (积分): the customer's account and history, earning events, redemption at merchants,
and the merchants' settlements."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from jikuai.domain.points import earning, model, redemption
from jikuai.domain.shared.ids import new_id
from jikuai.resolvers import merchants as resolve_merchants
from jikuai.resolvers import points as resolve
from jikuai.resolvers.context import Context
from jikuai.resolvers.outcomes import Attempt
from jikuai.schema.errors import UserError, user_errors
from jikuai.schema.merchants import Merchant, Reward
from jikuai.schema.relay import (
    Connection,
    Node,
    after_cursor,
    input_id,
    optional_input_id,
    to_global_id,
)

strawberry.enum(model.EventType, name="PointsEventType", description="What earned points.")
strawberry.enum(model.EventStatus, name="PointsEventStatus", description="Where an event stands.")
strawberry.enum(model.EarningMethod, name="EarningMethod", description="How a rule counts points.")
strawberry.enum(model.ExpiryMode, name="PointsExpiryMode", description="When earned points end.")
strawberry.enum(
    model.JournalKind, name="PointsMovementKind", description="What moved a customer's points."
)
strawberry.enum(
    model.RedemptionStatus, name="RedemptionStatus", description="Where a redemption stands."
)
strawberry.enum(
    model.SettlementStatus, name="SettlementStatus", description="Whether a batch is paid."
)


@strawberry.type(description="Points that stop being spendable after a day.")
class ExpiringPoints:
    points: int = strawberry.field(description="How many.")
    date: datetime.date = strawberry.field(description="Their last day (到期日).")


@strawberry.type(description="A customer's points (积分账户).")
class PointsAccount:
    balance: int = strawberry.field(description="Spendable now (可用积分).")
    pending: int = strawberry.field(description="Earned, spendable after a waiting period.")
    held: int = strawberry.field(description="Held for a redemption waiting for confirmation.")
    debt: int = strawberry.field(
        description="Owed for points spent from an earning later reversed; later earnings settle "
        "it first."
    )
    _customer_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Spendable points by last day, soonest first.")
    async def expiring_soon(
        self,
        info: Info[Context, None],
        within_days: Annotated[
            int, strawberry.argument(description="Look this far ahead (at most 3,660 days).")
        ] = 30,
    ) -> list[ExpiringPoints]:
        found = await resolve.expiring_soon(info.context, self._customer_id, within_days)
        return [ExpiringPoints(points=each.points, date=each.on) for each in found]


@strawberry.type(description="One line of a customer's points history (积分明细).")
class PointsMovement:
    id: strawberry.ID = strawberry.field(description="Opaque ID of the movement.")
    kind: model.JournalKind = strawberry.field(description="What happened.")
    points: int = strawberry.field(description="Points gained (positive) or given (negative).")
    event_type: model.EventType | None = strawberry.field(description="For earnings: why.")
    business_date: datetime.date = strawberry.field(description="Business date.")
    created_at: datetime.datetime = strawberry.field(description="When.")
    _redemption_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def of(cls, movement: model.Movement) -> PointsMovement:
        return cls(
            id=to_global_id("PointsMovement", movement.id),
            kind=movement.kind,
            points=movement.points,
            event_type=movement.event_type,
            business_date=movement.business_date,
            created_at=movement.created_at,
            _redemption_id=movement.redemption_id,
        )

    @strawberry.field(description="For redemptions: where and what.")
    async def redemption(self, info: Info[Context, None]) -> Redemption | None:
        if self._redemption_id is None:
            return None
        found = await resolve.redemption_by_id(info.context, self._redemption_id)
        return Redemption.of(found) if found else None


@strawberry.type(description="An event reported by the bank's systems that earns points.")
class PointsEvent(Node):
    event_type: model.EventType = strawberry.field(description="What happened.")
    source_ref: str = strawberry.field(description="The reporting system's reference.")
    amount: Decimal | None = strawberry.field(description="The amount it concerned, CNY.")
    points: int = strawberry.field(description="Points earned, after the caps.")
    debt_settled: int = strawberry.field(description="Of them, what settled an earlier debt.")
    capped: bool = strawberry.field(description="A daily, monthly or yearly cap cut the award.")
    status: model.EventStatus = strawberry.field(description="Pending, posted, or undone.")
    business_date: datetime.date = strawberry.field(description="Business date recorded.")
    created_at: datetime.datetime = strawberry.field(description="Recorded at.")

    @classmethod
    def of(cls, event: model.PointsEvent) -> PointsEvent:
        return cls(
            id=to_global_id("PointsEvent", event.id),
            event_type=event.event_type,
            source_ref=event.source_ref,
            amount=event.amount,
            points=event.points,
            debt_settled=event.debt_settled,
            capped=event.capped,
            status=event.status,
            business_date=event.business_date,
            created_at=event.created_at,
        )


@strawberry.type(description="A redemption at a merchant (积分核销).")
class Redemption(Node):
    points: int = strawberry.field(description="Points taken.")
    status: model.RedemptionStatus = strawberry.field(description="Where it stands.")
    business_date: datetime.date = strawberry.field(description="Business date.")
    confirm_by: datetime.datetime | None = strawberry.field(
        description="For one awaiting the customer: when it lapses unconfirmed."
    )
    created_at: datetime.datetime = strawberry.field(description="Scanned at.")
    updated_at: datetime.datetime = strawberry.field(description="Last change.")
    _redemption: strawberry.Private[model.Redemption]

    @classmethod
    def of(cls, found: model.Redemption) -> Redemption:
        return cls(
            id=to_global_id("Redemption", found.id),
            points=found.points,
            status=found.status,
            business_date=found.business_date,
            confirm_by=found.confirm_by,
            created_at=found.created_at,
            updated_at=found.updated_at,
            _redemption=found,
        )

    @strawberry.field(description="Where.")
    async def merchant(self, info: Info[Context, None]) -> Merchant | None:
        context = info.context
        found = await context.loaders.merchant_by_id.load(self._redemption.merchant_id)
        if found is None:
            return None
        return Merchant.of(resolve_merchants.view(context, await context.require_actor(), found))

    @strawberry.field(description="The benefit taken, if it was one.")
    async def reward(self, info: Info[Context, None]) -> Reward | None:
        if self._redemption.reward_id is None:
            return None
        found = await info.context.loaders.reward_by_id.load(self._redemption.reward_id)
        return Reward.of(found) if found else None


@strawberry.type(description="A one-time code for a merchant to scan (核销码).")
class RedemptionCode:
    code: str = strawberry.field(description="18 digits; show them and as a QR code.")
    expires_at: datetime.datetime = strawberry.field(description="Valid until (60 seconds).")


@strawberry.type(description="A merchant's redemptions of one business day, in CNY (结算批次).")
class Settlement(Node):
    business_date: datetime.date = strawberry.field(description="The day settled.")
    redemptions: int = strawberry.field(description="Redemptions, less voided or reversed ones.")
    points: int = strawberry.field(description="Net points redeemed.")
    cny_per_point: Decimal = strawberry.field(description="The institution's rate, CNY.")
    amount: Decimal = strawberry.field(description="What the merchant is paid, CNY.")
    status: model.SettlementStatus = strawberry.field(description="Paid or not.")
    paid_at: datetime.datetime | None = strawberry.field(description="Marked paid at.")
    payment_reference: str | None = strawberry.field(description="The bank's payment reference.")
    created_at: datetime.datetime = strawberry.field(description="Closed at.")
    _merchant_id: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, found: model.Settlement) -> Settlement:
        return cls(
            id=to_global_id("Settlement", found.id),
            business_date=found.business_date,
            redemptions=found.redemptions,
            points=found.points,
            cny_per_point=found.cny_per_point,
            amount=found.amount,
            status=found.status,
            paid_at=found.paid_at,
            payment_reference=found.payment_reference,
            created_at=found.created_at,
            _merchant_id=found.merchant_id,
        )

    @strawberry.field(description="Whose.")
    async def merchant(self, info: Info[Context, None]) -> Merchant | None:
        found = await resolve_merchants.merchant(info.context, self._merchant_id)
        return Merchant.of(found) if found else None


@strawberry.type(description="An institution's points programme (积分方案).")
class PointsProgram:
    cny_per_point: Decimal = strawberry.field(description="CNY a merchant is paid per point.")
    confirm_above_points: int = strawberry.field(
        description="A redemption above this many points waits for the customer to confirm."
    )
    confirm_window_seconds: int = strawberry.field(description="How long it waits.")
    customer_daily_points: int = strawberry.field(description="A customer redeems at most this.")
    merchant_daily_points: int = strawberry.field(description="A merchant takes at most this.")

    @classmethod
    def of(cls, found: model.PointsProgram) -> PointsProgram:
        return cls(
            cny_per_point=found.cny_per_point,
            confirm_above_points=found.confirm_above_points,
            confirm_window_seconds=found.confirm_window_seconds,
            customer_daily_points=found.customer_daily_points,
            merchant_daily_points=found.merchant_daily_points,
        )


@strawberry.type(description="How an event type earns points (积分规则).")
class EarningRule:
    event_type: model.EventType = strawberry.field(description="The event type.")
    method: model.EarningMethod = strawberry.field(description="Per CNY, fixed, or as stated.")
    points_per_cny: Decimal | None = strawberry.field(description="For PER_CNY.")
    fixed_points: int | None = strawberry.field(description="For FIXED.")
    daily_cap: int | None = strawberry.field(description="Most per customer a day.")
    monthly_cap: int | None = strawberry.field(description="Most per customer a month.")
    yearly_cap: int | None = strawberry.field(description="Most per customer a year.")
    pending_days: int = strawberry.field(description="Days before the points can be spent.")
    expiry_mode: model.ExpiryMode = strawberry.field(description="How the last day is set.")
    expiry_period: int = strawberry.field(description="Months (rolling) or years (year end).")
    active: bool = strawberry.field(description="Whether events of the type earn.")

    @classmethod
    def of(cls, rule: model.EarningRule) -> EarningRule:
        return cls(
            event_type=rule.event_type,
            method=rule.method,
            points_per_cny=rule.points_per_cny,
            fixed_points=rule.fixed_points,
            daily_cap=rule.daily_cap,
            monthly_cap=rule.monthly_cap,
            yearly_cap=rule.yearly_cap,
            pending_days=rule.pending_days,
            expiry_mode=rule.expiry_mode,
            expiry_period=rule.expiry_period,
            active=rule.active,
        )


# Inputs and payloads --------------------------------------------------------------------------


@strawberry.input(description="An event that earns points, from the bank's systems.")
class RecordPointsEventInput:
    customer_id: strawberry.ID = strawberry.field(description="Whose.")
    event_type: model.EventType = strawberry.field(description="What happened.")
    source_ref: str = strawberry.field(
        description="The system's own reference (1–64 characters); the same one earns once."
    )
    amount: Decimal | None = strawberry.field(
        default=None, description="CNY, for rules that count per CNY."
    )
    points: int | None = strawberry.field(
        default=None, description="Points to award, for CAMPAIGN and MANUAL_ADJUSTMENT only."
    )


@strawberry.input(description="An event by its source reference.")
class PointsEventRefInput:
    event_type: model.EventType = strawberry.field(description="Its type.")
    source_ref: str = strawberry.field(description="Its source reference.")


@strawberry.input(description="What a cashier scanned and takes (核销).")
class RedeemPointsInput:
    code: str = strawberry.field(description="The customer's one-time code.")
    idempotency_key: str = strawberry.field(
        description="The same key with the same input answers with the first result (24 hours)."
    )
    points: int | None = strawberry.field(
        default=None, description="Points for a sum; give this or `rewardId`."
    )
    reward_id: strawberry.ID | None = strawberry.field(
        default=None, description="A benefit of this merchant, at its price."
    )


@strawberry.input(description="A redemption by ID.")
class RedemptionIdInput:
    redemption_id: strawberry.ID = strawberry.field(description="The redemption.")


@strawberry.input(description="A redemption to reverse, and why.")
class ReverseRedemptionInput:
    redemption_id: strawberry.ID = strawberry.field(description="The redemption.")
    reason: str = strawberry.field(description="Why (audited).")


@strawberry.input(description="A settlement batch paid out.")
class MarkSettlementPaidInput:
    settlement_id: strawberry.ID = strawberry.field(description="The batch.")
    payment_reference: str = strawberry.field(description="The bank's transfer reference.")


@strawberry.input(description="The institution's points programme.")
class PointsProgramInput:
    cny_per_point: Decimal = strawberry.field(description="CNY per point, up to 4 decimals.")
    confirm_above_points: int = strawberry.field(description="Confirmation threshold.")
    confirm_window_seconds: int = strawberry.field(description="30 to 600 seconds.")
    customer_daily_points: int = strawberry.field(description="Per customer per day.")
    merchant_daily_points: int = strawberry.field(description="Per merchant per day.")


@strawberry.input(description="How an event type earns points.")
class EarningRuleInput:
    event_type: model.EventType = strawberry.field(description="The event type.")
    method: model.EarningMethod = strawberry.field(
        description="PER_CNY or FIXED; DIRECT for CAMPAIGN and MANUAL_ADJUSTMENT."
    )
    expiry_mode: model.ExpiryMode = strawberry.field(description="How the last day is set.")
    expiry_period: int = strawberry.field(
        description="Months after earning (1–120), or years after the year's end (0–120)."
    )
    points_per_cny: Decimal | None = strawberry.field(default=None, description="For PER_CNY.")
    fixed_points: int | None = strawberry.field(default=None, description="For FIXED.")
    daily_cap: int | None = strawberry.field(default=None, description="Per customer a day.")
    monthly_cap: int | None = strawberry.field(default=None, description="Per customer a month.")
    yearly_cap: int | None = strawberry.field(default=None, description="Per customer a year.")
    pending_days: int = strawberry.field(default=0, description="Waiting days (0–366).")
    active: bool = strawberry.field(default=True, description="Whether events earn.")


@strawberry.type(description="Result of `recordPointsEvent`.")
class RecordPointsEventPayload:
    event: PointsEvent | None = strawberry.field(description="The event, on success.")
    replayed: bool = strawberry.field(description="True when it had been recorded before.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="An event after a cancellation or reversal.")
class PointsEventPayload:
    event: PointsEvent | None = strawberry.field(description="The event, on success.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `createRedemptionCode`.")
class CreateRedemptionCodePayload:
    redemption_code: RedemptionCode | None = strawberry.field(description="The code.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `redeemPoints`.")
class RedeemPointsPayload:
    redemption: Redemption | None = strawberry.field(
        description="COMPLETED, or AWAITING_CONFIRMATION by the customer."
    )
    replayed: bool = strawberry.field(description="True when the key had been used before.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="A redemption after a change.")
class RedemptionPayload:
    redemption: Redemption | None = strawberry.field(description="The redemption.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="A settlement batch after a change.")
class SettlementPayload:
    settlement: Settlement | None = strawberry.field(description="The batch.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `setPointsProgram`.")
class PointsProgramPayload:
    program: PointsProgram | None = strawberry.field(description="The programme.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `setEarningRule`.")
class EarningRulePayload:
    rule: EarningRule | None = strawberry.field(description="The rule.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


def _redemption_payload(attempt: Attempt[model.Redemption], context: Context) -> RedemptionPayload:
    return RedemptionPayload(
        redemption=Redemption.of(attempt.result) if attempt.result else None,
        user_errors=user_errors(attempt.errors, context.language),
    )


def _event_payload(attempt: Attempt[model.PointsEvent], context: Context) -> PointsEventPayload:
    return PointsEventPayload(
        event=PointsEvent.of(attempt.result) if attempt.result else None,
        user_errors=user_errors(attempt.errors, context.language),
    )


@strawberry.type
class PointsQuery:
    @strawberry.field(
        description="A customer's points: the viewer's own, or (staff) a customer's by ID."
    )
    async def points_account(
        self,
        info: Info[Context, None],
        customer_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Staff: whose. Customers leave it out."),
        ] = None,
    ) -> PointsAccount | None:
        found = await resolve.points_account(
            info.context, optional_input_id(customer_id, "Customer")
        )
        if found is None:
            return None
        balances = found.balances
        return PointsAccount(
            balance=balances.available,
            pending=balances.pending,
            held=balances.held,
            debt=balances.debt,
            _customer_id=found.customer_id,
        )

    @strawberry.field(description="A customer's points history, newest first (积分明细).")
    async def points_history(
        self,
        info: Info[Context, None],
        customer_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Staff: whose. Customers leave it out."),
        ] = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[PointsMovement]:
        page = await resolve.history(
            info.context,
            optional_input_id(customer_id, "Customer"),
            first=first,
            after=after_cursor(after),
        )
        return Connection[PointsMovement].of_rows(
            page.items, PointsMovement.of, has_next_page=page.has_next_page, after=after is not None
        )

    @strawberry.field(
        description="Redemptions, newest first: a cashier's merchant's, a customer's own, or "
        "(staff) their institution's."
    )
    async def redemptions(
        self,
        info: Info[Context, None],
        status: model.RedemptionStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Redemption]:
        page = await resolve.redemption_page(
            info.context, status, first=first, after=after_cursor(after)
        )
        return Connection[Redemption].of_rows(
            page.items, Redemption.of, has_next_page=page.has_next_page, after=after is not None
        )

    @strawberry.field(
        description="Settlement batches, newest first: a cashier's merchant's, or (staff) their "
        "institution's."
    )
    async def settlements(
        self,
        info: Info[Context, None],
        merchant_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Staff: one merchant's only.")
        ] = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Settlement]:
        page = await resolve.settlement_page(
            info.context,
            optional_input_id(merchant_id, "Merchant"),
            first=first,
            after=after_cursor(after),
        )
        return Connection[Settlement].of_rows(
            page.items, Settlement.of, has_next_page=page.has_next_page, after=after is not None
        )

    @strawberry.field(description="The points programme of the viewer's institution.")
    async def points_program(self, info: Info[Context, None]) -> PointsProgram | None:
        found = await resolve.points_program(info.context)
        return PointsProgram.of(found) if found else None

    @strawberry.field(description="How points are earned at the viewer's institution.")
    async def earning_rules(self, info: Info[Context, None]) -> list[EarningRule]:
        return [EarningRule.of(rule) for rule in await resolve.earning_rules(info.context)]


@strawberry.type
class PointsMutation:
    @strawberry.mutation(
        description="Record an event that earns points (service accounts; admins for CAMPAIGN "
        "and MANUAL_ADJUSTMENT). Idempotent on (eventType, sourceRef)."
    )
    async def record_points_event(
        self, info: Info[Context, None], input: RecordPointsEventInput
    ) -> RecordPointsEventPayload:
        context = info.context
        attempt = await resolve.record_event(
            context,
            earning.RecordEvent(
                customer_id=input_id(input.customer_id, "Customer"),
                event_type=input.event_type,
                source_ref=input.source_ref,
                amount=input.amount,
                points=input.points,
            ),
        )
        recorded = attempt.result
        return RecordPointsEventPayload(
            event=PointsEvent.of(recorded.event) if recorded else None,
            replayed=recorded.replayed if recorded else False,
            user_errors=user_errors(attempt.errors, context.language),
        )

    @strawberry.mutation(description="Cancel a pending earning within its waiting days.")
    async def cancel_points_event(
        self, info: Info[Context, None], input: PointsEventRefInput
    ) -> PointsEventPayload:
        ref = earning.EventRef(input.event_type, input.source_ref)
        return _event_payload(await resolve.cancel_event(info.context, ref), info.context)

    @strawberry.mutation(
        description="Reverse an earning: its points are clawed back, what was spent becomes debt."
    )
    async def reverse_points_event(
        self, info: Info[Context, None], input: PointsEventRefInput
    ) -> PointsEventPayload:
        ref = earning.EventRef(input.event_type, input.source_ref)
        return _event_payload(await resolve.reverse_event(info.context, ref), info.context)

    @strawberry.mutation(description="A one-time code to show a merchant (customers).")
    async def create_redemption_code(
        self, info: Info[Context, None]
    ) -> CreateRedemptionCodePayload:
        attempt = await resolve.create_code(info.context)
        issued = attempt.result
        return CreateRedemptionCodePayload(
            redemption_code=(
                RedemptionCode(code=issued.code, expires_at=issued.expires_at) if issued else None
            ),
            user_errors=user_errors(attempt.errors, info.context.language),
        )

    @strawberry.mutation(description="Take points for a sum or a benefit (merchant cashiers).")
    async def redeem_points(
        self, info: Info[Context, None], input: RedeemPointsInput
    ) -> RedeemPointsPayload:
        context = info.context
        attempt = await resolve.redeem(
            context,
            redemption.RedeemPoints(
                code=input.code,
                idempotency_key=input.idempotency_key,
                points=input.points,
                reward_id=optional_input_id(input.reward_id, "Reward"),
            ),
        )
        redeemed = attempt.result
        return RedeemPointsPayload(
            redemption=Redemption.of(redeemed.redemption) if redeemed else None,
            replayed=redeemed.replayed if redeemed else False,
            user_errors=user_errors(attempt.errors, context.language),
        )

    @strawberry.mutation(description="Accept a redemption waiting for you (customers).")
    async def confirm_redemption(
        self, info: Info[Context, None], input: RedemptionIdInput
    ) -> RedemptionPayload:
        key = input_id(input.redemption_id, "Redemption")
        attempt = await resolve.redemption_step(info.context, resolve.CONFIRM, key)
        return _redemption_payload(attempt, info.context)

    @strawberry.mutation(description="Refuse a redemption waiting for you (customers).")
    async def decline_redemption(
        self, info: Info[Context, None], input: RedemptionIdInput
    ) -> RedemptionPayload:
        key = input_id(input.redemption_id, "Redemption")
        attempt = await resolve.redemption_step(info.context, resolve.DECLINE, key)
        return _redemption_payload(attempt, info.context)

    @strawberry.mutation(description="Void a redemption of today (merchant cashiers, 撤销).")
    async def void_redemption(
        self, info: Info[Context, None], input: RedemptionIdInput
    ) -> RedemptionPayload:
        key = input_id(input.redemption_id, "Redemption")
        attempt = await resolve.redemption_step(info.context, resolve.VOID, key)
        return _redemption_payload(attempt, info.context)

    @strawberry.mutation(description="Reverse a completed redemption (institution admins).")
    async def reverse_redemption(
        self, info: Info[Context, None], input: ReverseRedemptionInput
    ) -> RedemptionPayload:
        key = input_id(input.redemption_id, "Redemption")
        attempt = await resolve.reverse_redemption(info.context, key, input.reason)
        return _redemption_payload(attempt, info.context)

    @strawberry.mutation(description="Record a settlement batch as paid (institution admins).")
    async def mark_settlement_paid(
        self, info: Info[Context, None], input: MarkSettlementPaidInput
    ) -> SettlementPayload:
        key = input_id(input.settlement_id, "Settlement")
        attempt = await resolve.mark_paid(info.context, key, input.payment_reference)
        return SettlementPayload(
            settlement=Settlement.of(attempt.result) if attempt.result else None,
            user_errors=user_errors(attempt.errors, info.context.language),
        )

    @strawberry.mutation(description="Configure the institution's points programme (admins).")
    async def set_points_program(
        self, info: Info[Context, None], input: PointsProgramInput
    ) -> PointsProgramPayload:
        context = info.context
        attempt = await resolve.set_program(
            context,
            model.PointsProgram(
                institution_id=uuid.UUID(int=0),
                cny_per_point=input.cny_per_point,
                confirm_above_points=input.confirm_above_points,
                confirm_window_seconds=input.confirm_window_seconds,
                customer_daily_points=input.customer_daily_points,
                merchant_daily_points=input.merchant_daily_points,
                updated_at=context.now,
            ),
        )
        return PointsProgramPayload(
            program=PointsProgram.of(attempt.result) if attempt.result else None,
            user_errors=user_errors(attempt.errors, context.language),
        )

    @strawberry.mutation(description="Create or replace an earning rule (admins).")
    async def set_earning_rule(
        self, info: Info[Context, None], input: EarningRuleInput
    ) -> EarningRulePayload:
        context = info.context
        attempt = await resolve.set_rule(
            context,
            model.EarningRule(
                id=new_id(),
                institution_id=uuid.UUID(int=0),
                event_type=input.event_type,
                method=input.method,
                points_per_cny=input.points_per_cny,
                fixed_points=input.fixed_points,
                daily_cap=input.daily_cap,
                monthly_cap=input.monthly_cap,
                yearly_cap=input.yearly_cap,
                pending_days=input.pending_days,
                expiry_mode=input.expiry_mode,
                expiry_period=input.expiry_period,
                active=input.active,
                updated_at=context.now,
            ),
        )
        return EarningRulePayload(
            rule=EarningRule.of(attempt.result) if attempt.result else None,
            user_errors=user_errors(attempt.errors, context.language),
        )

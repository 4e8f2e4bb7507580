"""The retail credit fields of the root Query and Mutation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import strawberry
from strawberry.types import Info

from jikuai.domain.credit import (
    alerts,
    applications,
    lending,
    model,
    monitoring,
    origination,
    products,
)
from jikuai.domain.credit.applications import ApplicationState
from jikuai.domain.credit.catalog import AddListEntry, DefineProduct
from jikuai.domain.credit.lists import ListKind
from jikuai.domain.credit.ports import AlertFilter, ApplicationFilter, LoanFilter
from jikuai.domain.credit.products import LoanProduct as LoanProductModel
from jikuai.domain.shared.errors import DomainError
from jikuai.resolvers import credit as resolve
from jikuai.resolvers.context import Context
from jikuai.resolvers.errors import NotFound
from jikuai.resolvers.outcomes import Attempt
from jikuai.schema.credit.loans import (
    Loan,
    LoanApplication,
    LoanApplicationPayload,
    LoanPayload,
    RepayLoanPayload,
    Repayment,
)
from jikuai.schema.credit.products import (
    LoanDecision,
    LoanProduct,
    LoanProductInput,
    LoanProductPayload,
    LoanSchedule,
    LoanSchedulePreviewInput,
    LprRate,
    PublishLprInput,
    PublishLprPayload,
    schedule_of,
    to_define_product,
)
from jikuai.schema.credit.risk import (
    AddCreditListEntryInput,
    CreditListEntry,
    CreditListEntryPayload,
    RiskAlert,
    RiskAlertPayload,
)
from jikuai.schema.enums import Segment
from jikuai.schema.errors import user_errors
from jikuai.schema.relay import Connection, after_cursor, input_id, optional_input_id


@strawberry.input(description="A loan application (贷款申请).")
class LoanApplicationInput:
    customer_id: strawberry.ID = strawberry.field(description="The applicant.")
    product_id: strawberry.ID = strawberry.field(description="The product (any of its versions).")
    amount: Decimal = strawberry.field(description="Amount, or the credit line asked for.")
    method: model.RepaymentMethod = strawberry.field(description="Repayment method.")
    annual_income: Decimal = strawberry.field(description="Annual income, CNY (年收入).")
    term_months: int | None = strawberry.field(default=None, description="Not for REVOLVING.")
    monthly_debt_payments: Decimal = strawberry.field(
        default=Decimal(0), description="Monthly payments on other debts."
    )
    purpose: str = strawberry.field(default="", description="Purpose (用途).")


@strawberry.input(description="An application being filled in (贷款申请草稿).")
class SaveLoanApplicationDraftInput(LoanApplicationInput):
    application_id: strawberry.ID | None = strawberry.field(
        default=None, description="The draft to change; a new draft if omitted."
    )


@strawberry.input(description="An application by ID.")
class LoanApplicationIdInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")


@strawberry.input(description="A reviewer's decision on an application in manual review.")
class ReviewLoanApplicationInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    approve: bool = strawberry.field(description="Approve, or reject.")
    reason: str = strawberry.field(description="Why (审批意见).")
    amount: Decimal | None = strawberry.field(default=None, description="Approved amount.")
    term_months: int | None = strawberry.field(default=None, description="Approved term.")


@strawberry.input(description="An application by ID, with an optional reason.")
class LoanApplicationActionInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    reason: str = strawberry.field(default="", description="Why.")


@strawberry.input(description="A drawdown (用信) on a credit line.")
class DrawCreditInput:
    credit_line_id: strawberry.ID = strawberry.field(description="The line.")
    amount: Decimal = strawberry.field(description="Amount, CNY.")
    days: int = strawberry.field(description="For how many days.")
    idempotency_key: str = strawberry.field(description="The same key never draws twice.")


@strawberry.input(description="A repayment (还款).")
class RepayLoanInput:
    loan_id: strawberry.ID = strawberry.field(description="The loan.")
    amount: Decimal = strawberry.field(description="Cash, CNY.")
    idempotency_key: str = strawberry.field(description="The same key never pays twice.")
    prepayment_mode: model.PrepaymentMode = strawberry.field(
        default=model.PrepaymentMode.REDUCE_INSTALLMENT,
        description="What a partial prepayment shortens.",
    )


@strawberry.input(description="A risk officer's classification of a loan.")
class ClassifyLoanInput:
    loan_id: strawberry.ID = strawberry.field(description="The loan.")
    classification: model.Classification | None = strawberry.field(
        description="The category; null returns to the derived one."
    )
    reason: str = strawberry.field(description="Why (认定理由).")


@strawberry.input(description="An action on an alert.")
class RiskAlertActionInput:
    alert_id: strawberry.ID = strawberry.field(description="The alert.")
    note: str | None = strawberry.field(default=None, description="A note.")


@strawberry.input(description="Hand an alert to a staff member of its institution.")
class AssignRiskAlertInput:
    alert_id: strawberry.ID = strawberry.field(description="The alert.")
    assignee_id: strawberry.ID = strawberry.field(description="The staff member.")
    note: str | None = strawberry.field(default=None, description="A note.")


@strawberry.input(description="Narrows `loanApplications`.")
class LoanApplicationFilter:
    states: list[ApplicationState] | None = strawberry.field(
        default=None, description="Only these states; MANUAL_REVIEW is the review queue."
    )
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="One customer.")


@strawberry.input(description="Narrows `loans`.")
class LoanFilterInput:
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="One customer.")
    status: model.LoanStatus | None = strawberry.field(default=None, description="Only this.")
    overdue_only: bool = strawberry.field(default=False, description="Only past due loans.")


@strawberry.input(description="Narrows `riskAlerts`.")
class RiskAlertFilter:
    statuses: list[alerts.AlertStatus] | None = strawberry.field(
        default=None, description="States."
    )
    kinds: list[alerts.AlertKind] | None = strawberry.field(default=None, description="Kinds.")
    assigned_to_me: bool = strawberry.field(default=False, description="Only mine.")
    loan_id: strawberry.ID | None = strawberry.field(default=None, description="One loan.")


def _application_command(input: LoanApplicationInput) -> origination.ApplyForLoan:
    return origination.ApplyForLoan(
        customer_id=input_id(input.customer_id, "Customer"),
        product_id=input_id(input.product_id, "LoanProduct"),
        amount=input.amount,
        term_months=input.term_months,
        method=input.method,
        annual_income=input.annual_income,
        monthly_debt_payments=input.monthly_debt_payments,
        purpose=input.purpose,
    )


def _application_payload(
    attempt: Attempt[applications.LoanApplication], context: Context
) -> LoanApplicationPayload:
    found = attempt.result
    return LoanApplicationPayload(
        application=LoanApplication.of(found) if found is not None else None,
        user_errors=user_errors(attempt.errors, context.language),
    )


def _loan_payload(attempt: Attempt[model.Loan], context: Context) -> LoanPayload:
    return LoanPayload(
        loan=Loan.of(attempt.result) if attempt.result else None,
        user_errors=user_errors(attempt.errors, context.language),
    )


def _alert_payload(attempt: Attempt[alerts.RiskAlert], context: Context) -> RiskAlertPayload:
    return RiskAlertPayload(
        alert=RiskAlert.of(attempt.result) if attempt.result else None,
        user_errors=user_errors(attempt.errors, context.language),
    )


@strawberry.type
class CreditQuery:
    @strawberry.field(description="Loan products the viewer may apply for or manage.")
    async def loan_products(
        self, info: Info[Context, None], segment: Segment | None = None
    ) -> list[LoanProduct]:
        return [LoanProduct.of(each) for each in await resolve.products(info.context, segment)]

    @strawberry.field(description="Published LPRs, newest first (贷款市场报价利率).")
    async def lpr_rates(self, info: Info[Context, None]) -> list[LprRate]:
        found = await resolve.lpr_rates(info.context)
        return [
            LprRate(tenor=each.tenor, published_on=each.published_on, rate=each.rate)
            for each in found
        ]

    @strawberry.field(description="Repayment calculator (还款计算器); no sign-in needed.")
    def loan_schedule_preview(
        self, info: Info[Context, None], input: LoanSchedulePreviewInput
    ) -> LoanSchedule:
        return schedule_of(input, info.context.today)

    @strawberry.field(description="Run admission, rating and limit without saving (staff).")
    async def preview_loan_decision(
        self, info: Info[Context, None], input: LoanApplicationInput
    ) -> LoanDecision:
        decision = await resolve.preview_decision(info.context, _application_command(input))
        return LoanDecision.of(decision)

    @strawberry.field(description="One application; NOT_FOUND unless the viewer may see it.")
    async def loan_application(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> LoanApplication:
        found = await resolve.application(info.context, input_id(id, "LoanApplication"))
        if found is None:
            raise NotFound
        return LoanApplication.of(found)

    @strawberry.field(description="Applications the viewer may see, oldest first.")
    async def loan_applications(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: LoanApplicationFilter | None = None,
    ) -> Connection[LoanApplication]:
        given = filter or LoanApplicationFilter()
        page = await resolve.application_page(
            info.context,
            ApplicationFilter(
                customer_id=optional_input_id(given.customer_id, "Customer"),
                states=tuple(given.states or ()),
            ),
            first=first,
            after=after_cursor(after),
        )
        return Connection[LoanApplication].of_rows(
            page.items,
            LoanApplication.of,
            has_next_page=page.has_next_page,
            after=after is not None,
        )

    @strawberry.field(description="One loan; NOT_FOUND unless the viewer may see it.")
    async def loan(self, info: Info[Context, None], id: strawberry.ID) -> Loan:
        found = await resolve.loan(info.context, input_id(id, "Loan"))
        if found is None:
            raise NotFound
        return Loan.of(found)

    @strawberry.field(description="Loans the viewer may see, oldest first.")
    async def loans(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: LoanFilterInput | None = None,
    ) -> Connection[Loan]:
        given = filter or LoanFilterInput()
        page = await resolve.loan_page(
            info.context,
            LoanFilter(
                customer_id=optional_input_id(given.customer_id, "Customer"),
                status=given.status,
                overdue_only=given.overdue_only,
            ),
            first=first,
            after=after_cursor(after),
        )
        return Connection[Loan].of_rows(
            page.items, Loan.of, has_next_page=page.has_next_page, after=after is not None
        )

    @strawberry.field(description="Early warnings of the viewer's institution (staff).")
    async def risk_alerts(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        filter: RiskAlertFilter | None = None,
    ) -> Connection[RiskAlert]:
        given = filter or RiskAlertFilter()
        actor = await info.context.require_actor()
        page = await resolve.alert_page(
            info.context,
            AlertFilter(
                statuses=tuple(given.statuses or ()),
                kinds=tuple(given.kinds or ()),
                assignee_id=actor.id if given.assigned_to_me else None,
                loan_id=optional_input_id(given.loan_id, "Loan"),
            ),
            first=first,
            after=after_cursor(after),
        )
        return Connection[RiskAlert].of_rows(
            page.items, RiskAlert.of, has_next_page=page.has_next_page, after=after is not None
        )

    @strawberry.field(description="White and black list entries (list keepers).")
    async def credit_list_entries(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        kind: ListKind | None = None,
    ) -> Connection[CreditListEntry]:
        page = await resolve.list_entry_page(
            info.context, kind, first=first, after=after_cursor(after)
        )
        return Connection[CreditListEntry].of_rows(
            page.items,
            CreditListEntry.of,
            has_next_page=page.has_next_page,
            after=after is not None,
        )


@strawberry.type
class CreditMutation:
    @strawberry.mutation(description="Create a loan product, version 1 (institution admins).")
    async def create_loan_product(
        self, info: Info[Context, None], input: LoanProductInput
    ) -> LoanProductPayload:
        return await _product_change(info.context, input, resolve.create_product)

    @strawberry.mutation(description="A new version of a product (institution admins).")
    async def update_loan_product(
        self, info: Info[Context, None], input: LoanProductInput
    ) -> LoanProductPayload:
        return await _product_change(info.context, input, resolve.update_product)

    @strawberry.mutation(description="Record a published LPR (province admins), audited.")
    async def publish_lpr_rate(
        self, info: Info[Context, None], input: PublishLprInput
    ) -> PublishLprPayload:
        context = info.context
        attempt = await resolve.publish_lpr(
            context, products.LprRate(input.tenor, input.published_on, input.rate)
        )
        found = attempt.result
        return PublishLprPayload(
            rate=LprRate(tenor=found.tenor, published_on=found.published_on, rate=found.rate)
            if found
            else None,
            user_errors=user_errors(attempt.errors, context.language),
        )

    @strawberry.mutation(description="Add a white or black list entry, audited.")
    async def add_credit_list_entry(
        self, info: Info[Context, None], input: AddCreditListEntryInput
    ) -> CreditListEntryPayload:
        context = info.context
        attempt = await resolve.add_list_entry(
            context,
            input.id_number,
            AddListEntry(
                kind=input.kind,
                id_number="",
                source=input.source,
                reason=input.reason,
                valid_from=input.valid_from,
                valid_until=input.valid_until,
                limit_amount=input.limit_amount,
            ),
        )
        return CreditListEntryPayload(
            entry=CreditListEntry.of(attempt.result) if attempt.result else None,
            user_errors=user_errors(attempt.errors, context.language),
        )

    @strawberry.mutation(description="Revoke a list entry, audited.")
    async def revoke_credit_list_entry(
        self, info: Info[Context, None], entry_id: strawberry.ID
    ) -> CreditListEntryPayload:
        context = info.context
        attempt = await resolve.revoke_list_entry(context, input_id(entry_id, "CreditListEntry"))
        return CreditListEntryPayload(
            entry=CreditListEntry.of(attempt.result) if attempt.result else None,
            user_errors=user_errors(attempt.errors, context.language),
        )

    @strawberry.mutation(description="Apply (the customer, or a loan officer on their behalf).")
    async def submit_loan_application(
        self, info: Info[Context, None], input: LoanApplicationInput
    ) -> LoanApplicationPayload:
        attempt = await resolve.submit_application(info.context, _application_command(input))
        return _application_payload(attempt, info.context)

    @strawberry.mutation(description="Save an application as a draft, new or changed; no decision.")
    async def save_loan_application_draft(
        self, info: Info[Context, None], input: SaveLoanApplicationDraftInput
    ) -> LoanApplicationPayload:
        attempt = await resolve.save_draft(
            info.context,
            _application_command(input),
            optional_input_id(input.application_id, "LoanApplication"),
        )
        return _application_payload(attempt, info.context)

    @strawberry.mutation(description="Submit a draft: decided at once, as `submitLoanApplication`.")
    async def submit_loan_application_draft(
        self, info: Info[Context, None], input: LoanApplicationIdInput
    ) -> LoanApplicationPayload:
        attempt = await resolve.submit_draft(
            info.context, input_id(input.application_id, "LoanApplication")
        )
        return _application_payload(attempt, info.context)

    @strawberry.mutation(description="Approve or reject an application in manual review.")
    async def review_loan_application(
        self, info: Info[Context, None], input: ReviewLoanApplicationInput
    ) -> LoanApplicationPayload:
        attempt = await resolve.review_application(
            info.context,
            origination.Review(
                application_id=input_id(input.application_id, "LoanApplication"),
                approve=input.approve,
                amount=input.amount,
                term_months=input.term_months,
                reason=input.reason,
            ),
        )
        return _application_payload(attempt, info.context)

    @strawberry.mutation(description="Withdraw an application that has not been disbursed.")
    async def withdraw_loan_application(
        self, info: Info[Context, None], input: LoanApplicationActionInput
    ) -> LoanApplicationPayload:
        attempt = await resolve.withdraw_application(
            info.context, input_id(input.application_id, "LoanApplication"), input.reason
        )
        return _application_payload(attempt, info.context)

    @strawberry.mutation(description="The customer signs the contract; the rate is fixed now.")
    async def sign_loan_contract(
        self, info: Info[Context, None], input: LoanApplicationIdInput
    ) -> LoanApplicationPayload:
        attempt = await resolve.sign_contract(
            info.context, input_id(input.application_id, "LoanApplication")
        )
        return _application_payload(attempt, info.context)

    @strawberry.mutation(description="Disburse a signed contract (放款); books loan and schedule.")
    async def disburse_loan(
        self, info: Info[Context, None], input: LoanApplicationIdInput
    ) -> LoanPayload:
        attempt = await resolve.disburse(
            info.context, input_id(input.application_id, "LoanApplication")
        )
        return _loan_payload(attempt, info.context)

    @strawberry.mutation(description="Draw on a credit line (用信), idempotent by key.")
    async def draw_credit(self, info: Info[Context, None], input: DrawCreditInput) -> LoanPayload:
        attempt = await resolve.draw_credit(
            info.context,
            lending.DrawCredit(
                credit_line_id=input_id(input.credit_line_id, "CreditLine"),
                amount=input.amount,
                days=input.days,
                idempotency_key=input.idempotency_key,
            ),
        )
        return _loan_payload(attempt, info.context)

    @strawberry.mutation(description="Repay (还款): penalty → interest → principal, then prepay.")
    async def repay_loan(
        self, info: Info[Context, None], input: RepayLoanInput
    ) -> RepayLoanPayload:
        context = info.context
        attempt = await resolve.repay(
            context,
            lending.RepayLoan(
                loan_id=input_id(input.loan_id, "Loan"),
                amount=input.amount,
                idempotency_key=input.idempotency_key,
                mode=input.prepayment_mode,
            ),
        )
        repaid = attempt.result
        return RepayLoanPayload(
            loan=Loan.of(repaid.loan) if repaid else None,
            repayment=Repayment.of(repaid.repayment) if repaid else None,
            replayed=repaid.replayed if repaid else False,
            user_errors=user_errors(attempt.errors, context.language),
        )

    @strawberry.mutation(description="Override a loan's five-category classification (risk).")
    async def classify_loan(
        self, info: Info[Context, None], input: ClassifyLoanInput
    ) -> LoanPayload:
        attempt = await resolve.override_classification(
            info.context, input_id(input.loan_id, "Loan"), input.classification, input.reason
        )
        return _loan_payload(attempt, info.context)

    @strawberry.mutation(description="Acknowledge an alert.")
    async def acknowledge_risk_alert(
        self, info: Info[Context, None], input: RiskAlertActionInput
    ) -> RiskAlertPayload:
        return await _alert_action(info.context, input, monitoring.acknowledge_alert)

    @strawberry.mutation(description="Assign an alert to a staff member of the institution.")
    async def assign_risk_alert(
        self, info: Info[Context, None], input: AssignRiskAlertInput
    ) -> RiskAlertPayload:
        attempt = await resolve.assign_alert(
            info.context,
            monitoring.AlertAction(alert_id=input_id(input.alert_id, "RiskAlert"), note=input.note),
            input_id(input.assignee_id, "Staff"),
        )
        return _alert_payload(attempt, info.context)

    @strawberry.mutation(description="Close an alert.")
    async def close_risk_alert(
        self, info: Info[Context, None], input: RiskAlertActionInput
    ) -> RiskAlertPayload:
        return await _alert_action(info.context, input, monitoring.close_alert)


async def _product_change(
    context: Context,
    input: LoanProductInput,
    change: Callable[[Context, DefineProduct], Awaitable[Attempt[LoanProductModel]]],
) -> LoanProductPayload:
    try:
        command = to_define_product(input)
    except DomainError as error:
        attempt: Attempt[LoanProductModel] = Attempt(errors=[error])
    else:
        attempt = await change(context, command)
    return LoanProductPayload(
        product=LoanProduct.of(attempt.result) if attempt.result else None,
        user_errors=user_errors(attempt.errors, context.language),
    )


async def _alert_action(
    context: Context,
    input: RiskAlertActionInput,
    action: Callable[..., Awaitable[alerts.RiskAlert]],
) -> RiskAlertPayload:
    attempt = await resolve.act_on_alert(
        context,
        action,
        monitoring.AlertAction(
            alert_id=input_id(input.alert_id, "RiskAlert"),
            note=input.note,
        ),
    )
    return _alert_payload(attempt, context)

"""Applications (贷款申请), credit lines (授信), loans (贷款) and repayments (还款)."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from jikuai.domain.credit import applications, lines, model
from jikuai.domain.credit.ports import RepaymentRecord
from jikuai.domain.credit.servicing import Dues
from jikuai.resolvers import credit as resolve
from jikuai.resolvers.context import Context
from jikuai.schema.credit.products import LoanDecision, LoanProduct
from jikuai.schema.enums import ActorKind
from jikuai.schema.errors import UserError
from jikuai.schema.relay import Node, to_global_id

if TYPE_CHECKING:
    from jikuai.schema.customers import Customer

CustomerType = Annotated["Customer", strawberry.lazy("jikuai.schema.customers")]

strawberry.enum(applications.ApplicationState, name="ApplicationState", description="申请状态.")
strawberry.enum(lines.CreditLineStatus, name="CreditLineStatus", description="授信状态.")
strawberry.enum(model.LoanStatus, name="LoanStatus", description="Active or closed.")
strawberry.enum(model.Classification, name="LoanClassification", description="五级分类.")
strawberry.enum(model.DelinquencyBucket, name="DelinquencyBucket", description="逾期阶段.")
strawberry.enum(model.PrepaymentMode, name="PrepaymentMode", description="提前还款方式.")


async def _customer(info: Info[Context, None], customer_id: uuid.UUID) -> CustomerType | None:
    from jikuai.schema.customers import Customer  # the two modules refer to each other

    found = await info.context.visible_customer(customer_id)
    return Customer.of(found, info.context) if found else None


async def _product(info: Info[Context, None], product_id: uuid.UUID) -> LoanProduct | None:
    found = await info.context.loaders.product_by_id.load(product_id)
    return LoanProduct.of(found) if found else None


@strawberry.type(description="A move of an application between states, with who and why.")
class ApplicationTransition:
    from_state: applications.ApplicationState | None = strawberry.field(description="From.")
    to_state: applications.ApplicationState = strawberry.field(description="To.")
    actor_kind: ActorKind | None = strawberry.field(description="Who; null for the system.")
    reason: str | None = strawberry.field(description="Why.")
    created_at: datetime.datetime = strawberry.field(description="When.")


@strawberry.type(description="The signed loan contract (借款合同).")
class LoanContract:
    contract_no: str = strawberry.field(description="Contract number.")
    annual_rate: Decimal = strawberry.field(description="Rate fixed at signing.")
    lpr_rate: Decimal | None = strawberry.field(description="The LPR it was priced on.")
    lpr_published_on: datetime.date | None = strawberry.field(description="That LPR's date.")
    signed_at: datetime.datetime = strawberry.field(description="When it was signed.")


@strawberry.type(description="A loan application (贷款申请).")
class LoanApplication(Node):
    state: applications.ApplicationState = strawberry.field(description="Where it stands.")
    amount: Decimal = strawberry.field(description="Amount asked for.")
    term_months: int | None = strawberry.field(description="Term asked for.")
    method: model.RepaymentMethod = strawberry.field(description="Repayment method.")
    purpose: str = strawberry.field(description="Purpose (用途).")
    approved_amount: Decimal | None = strawberry.field(description="Amount approved.")
    approved_term_months: int | None = strawberry.field(description="Term approved.")
    decision: LoanDecision | None = strawberry.field(
        description="The decision taken at submission; none while a draft."
    )
    contract: LoanContract | None = strawberry.field(description="Once signed.")
    created_at: datetime.datetime = strawberry.field(description="Submitted at.")
    updated_at: datetime.datetime = strawberry.field(description="Last change.")
    _application: strawberry.Private[applications.LoanApplication]

    @classmethod
    def of(cls, found: applications.LoanApplication) -> LoanApplication:
        contract = found.contract
        return cls(
            id=to_global_id("LoanApplication", found.id),
            state=found.state,
            amount=found.amount,
            term_months=found.term_months,
            method=found.method,
            purpose=found.purpose,
            approved_amount=found.approved_amount,
            approved_term_months=found.approved_term_months,
            decision=LoanDecision.of_record(found.decision) if found.decision else None,
            contract=LoanContract(
                contract_no=contract.contract_no,
                annual_rate=contract.annual_rate,
                lpr_rate=contract.lpr_rate,
                lpr_published_on=contract.lpr_published_on,
                signed_at=contract.signed_at,
            )
            if contract
            else None,
            created_at=found.created_at,
            updated_at=found.updated_at,
            _application=found,
        )

    @strawberry.field(description="The product version it was made under.")
    async def product(self, info: Info[Context, None]) -> LoanProduct | None:
        return await _product(info, self._application.product_id)

    @strawberry.field(description="The applicant.")
    async def customer(self, info: Info[Context, None]) -> CustomerType | None:
        return await _customer(info, self._application.customer_id)

    @strawberry.field(description="Every state change, oldest first.")
    async def transitions(self, info: Info[Context, None]) -> list[ApplicationTransition]:
        found = await info.context.loaders.transitions_by_application.load(self._application.id)
        return [
            ApplicationTransition(
                from_state=each.from_state,
                to_state=each.to_state,
                actor_kind=each.actor_kind,
                reason=each.reason,
                created_at=each.created_at,
            )
            for each in found
        ]


@strawberry.type(description="A revolving credit line (授信额度).")
class CreditLine(Node):
    limit_amount: Decimal = strawberry.field(description="Limit (授信额度).")
    used_amount: Decimal = strawberry.field(description="Drawn and not repaid (已用).")
    available: Decimal = strawberry.field(description="What may be drawn (可用).")
    annual_rate: Decimal = strawberry.field(description="Rate of drawdowns.")
    contract_no: str = strawberry.field(description="Credit contract number.")
    valid_until: datetime.date = strawberry.field(description="Last day to draw.")
    status: lines.CreditLineStatus = strawberry.field(description="Status.")
    _line: strawberry.Private[lines.CreditLine]

    @classmethod
    def of(cls, line: lines.CreditLine) -> CreditLine:
        return cls(
            id=to_global_id("CreditLine", line.id),
            limit_amount=line.limit_amount,
            used_amount=line.used_amount,
            available=line.available,
            annual_rate=line.annual_rate,
            contract_no=line.contract_no,
            valid_until=line.valid_until,
            status=line.status,
            _line=line,
        )

    @strawberry.field(description="The product.")
    async def product(self, info: Info[Context, None]) -> LoanProduct | None:
        return await _product(info, self._line.product_id)


@strawberry.type(description="An installment as booked, with what has been paid (还款计划).")
class LoanInstallment:
    number: int = strawberry.field(description="1, 2, …")
    due_date: datetime.date = strawberry.field(description="Due date.")
    principal: Decimal = strawberry.field(description="Principal (本金).")
    interest: Decimal = strawberry.field(description="Interest (利息).")
    payment: Decimal = strawberry.field(description="Principal + interest.")
    principal_paid: Decimal = strawberry.field(description="Principal paid.")
    interest_paid: Decimal = strawberry.field(description="Interest paid.")
    penalty_paid: Decimal = strawberry.field(description="Penalty interest paid (罚息).")
    paid_on: datetime.date | None = strawberry.field(description="When settled in full.")


@strawberry.type(description="A repayment as booked (还款流水).")
class Repayment:
    amount: Decimal = strawberry.field(description="Cash received.")
    paid_on: datetime.date = strawberry.field(description="Business date.")
    principal_paid: Decimal = strawberry.field(description="Principal settled.")
    interest_paid: Decimal = strawberry.field(description="Interest settled.")
    penalty_paid: Decimal = strawberry.field(description="Penalty settled.")
    prepaid_principal: Decimal = strawberry.field(description="Principal paid before due.")
    created_at: datetime.datetime = strawberry.field(description="Booked at.")

    @classmethod
    def of(cls, record: RepaymentRecord) -> Repayment:
        return cls(
            amount=record.amount,
            paid_on=record.paid_on,
            principal_paid=record.principal_paid,
            interest_paid=record.interest_paid,
            penalty_paid=record.penalty_paid,
            prepaid_principal=record.prepaid_principal,
            created_at=record.created_at,
        )


@strawberry.type(description="Amounts owed now, by component.")
class AmountsDue:
    penalty: Decimal = strawberry.field(description="Penalty interest (罚息).")
    interest: Decimal = strawberry.field(description="Interest.")
    principal: Decimal = strawberry.field(description="Principal.")
    total: Decimal = strawberry.field(description="All of it.")


@strawberry.type(description="A loan (贷款): a disbursement or a drawdown, and its schedule.")
class Loan(Node):
    contract_no: str = strawberry.field(description="Contract number.")
    method: model.RepaymentMethod = strawberry.field(description="Repayment method.")
    principal: Decimal = strawberry.field(description="Amount lent.")
    annual_rate: Decimal = strawberry.field(description="Contract rate.")
    penalty_rate: Decimal = strawberry.field(description="Annual rate on overdue principal.")
    term_months: int | None = strawberry.field(description="Term in months.")
    term_days: int | None = strawberry.field(description="Term of a drawdown in days.")
    start_date: datetime.date = strawberry.field(description="Disbursed on.")
    maturity_date: datetime.date = strawberry.field(description="Final due date (到期日).")
    status: model.LoanStatus = strawberry.field(description="Active or closed.")
    outstanding_principal: Decimal = strawberry.field(description="Principal owed (贷款余额).")
    days_past_due: int = strawberry.field(description="Days past due (逾期天数).")
    bucket: model.DelinquencyBucket = strawberry.field(description="M0 … M3+.")
    classification: model.Classification = strawberry.field(
        description="Five-category classification in force (an override wins)."
    )
    derived_classification: model.Classification = strawberry.field(
        description="As derived from days past due."
    )
    classification_override: model.Classification | None = strawberry.field(
        description="A risk officer's override."
    )
    closed_on: datetime.date | None = strawberry.field(description="When paid off.")
    _loan: strawberry.Private[model.Loan]
    # Today's dues and payoff come from one computation, shared by the fields that show them.
    _standing: strawberry.Private[asyncio.Future[tuple[Dues, Decimal]] | None] = None

    @classmethod
    def of(cls, loan: model.Loan) -> Loan:
        return cls(
            id=to_global_id("Loan", loan.id),
            contract_no=loan.contract_no,
            method=loan.method,
            principal=loan.principal,
            annual_rate=loan.annual_rate,
            penalty_rate=loan.penalty_rate,
            term_months=loan.term_months,
            term_days=loan.term_days,
            start_date=loan.start_date,
            maturity_date=loan.maturity_date,
            status=loan.status,
            outstanding_principal=loan.outstanding_principal,
            days_past_due=loan.days_past_due,
            bucket=loan.bucket,
            classification=loan.effective_classification,
            derived_classification=loan.classification,
            classification_override=loan.classification_override,
            closed_on=loan.closed_on,
            _loan=loan,
        )

    @strawberry.field(description="The schedule with what has been paid.")
    async def installments(self, info: Info[Context, None]) -> list[LoanInstallment]:
        found = await resolve.installments(info.context, self._loan.id)
        return [
            LoanInstallment(
                number=each.number,
                due_date=each.due_date,
                principal=each.principal,
                interest=each.interest,
                payment=each.principal + each.interest,
                principal_paid=each.principal_paid,
                interest_paid=each.interest_paid,
                penalty_paid=each.penalty_paid,
                paid_on=each.paid_on,
            )
            for each in found
        ]

    @strawberry.field(description="The first installment not yet settled.")
    async def next_due_date(self, info: Info[Context, None]) -> datetime.date | None:
        found = await resolve.installments(info.context, self._loan.id)
        return next((each.due_date for each in found if not each.is_paid), None)

    @strawberry.field(description="What is owed today (应还).")
    async def amounts_due(self, info: Info[Context, None]) -> AmountsDue:
        due, _ = await self._standing_today(info.context)
        return AmountsDue(
            penalty=due.penalty, interest=due.interest, principal=due.principal, total=due.total
        )

    @strawberry.field(description="What would settle the loan in full today (提前结清).")
    async def payoff_amount(self, info: Info[Context, None]) -> Decimal:
        _, payoff = await self._standing_today(info.context)
        return payoff

    def _standing_today(self, context: Context) -> asyncio.Future[tuple[Dues, Decimal]]:
        if self._standing is None:
            self._standing = asyncio.ensure_future(resolve.standing(context, self._loan))
        return self._standing

    @strawberry.field(description="Repayments, oldest first.")
    async def repayments(self, info: Info[Context, None]) -> list[Repayment]:
        found = await info.context.loaders.repayments_by_loan.load(self._loan.id)
        return [Repayment.of(each) for each in found]

    @strawberry.field(description="The product.")
    async def product(self, info: Info[Context, None]) -> LoanProduct | None:
        return await _product(info, self._loan.product_id)

    @strawberry.field(description="The borrower.")
    async def customer(self, info: Info[Context, None]) -> CustomerType | None:
        return await _customer(info, self._loan.customer_id)


@strawberry.type(description="Result of a mutation on an application.")
class LoanApplicationPayload:
    application: LoanApplication | None = strawberry.field(description="The application.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `disburseLoan`, `drawCredit` or a classification change.")
class LoanPayload:
    loan: Loan | None = strawberry.field(description="The loan.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `repayLoan`.")
class RepayLoanPayload:
    loan: Loan | None = strawberry.field(description="The loan after the repayment.")
    repayment: Repayment | None = strawberry.field(description="How the cash was applied.")
    replayed: bool = strawberry.field(description="The key was used before: nothing new was paid.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")

"""Loan products (贷款产品), the LPR, the repayment calculator and the decision preview."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jikuai.domain.credit import model, products
from jikuai.domain.credit.catalog import DefineProduct
from jikuai.domain.credit.decisions import Decision, Outcome
from jikuai.domain.credit.documents import terms_document, terms_from_document
from jikuai.domain.credit.scorecards import Grade
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.resolvers import credit as resolve
from jikuai.resolvers.context import Context
from jikuai.schema.enums import Role, Segment
from jikuai.schema.errors import UserError
from jikuai.schema.relay import Node, to_global_id

strawberry.enum(model.RepaymentMethod, name="RepaymentMethod", description="还款方式.")
strawberry.enum(
    model.Component, name="RepaymentComponent", description="Penalty, interest or principal."
)
strawberry.enum(products.LprTenor, name="LprTenor", description="LPR tenor (期限品种).")
strawberry.enum(products.PricingKind, name="PricingKind", description="LPR-based or fixed.")
strawberry.enum(Grade, name="CreditGrade", description="Credit grade (信用等级), AAA … C.")
strawberry.enum(Outcome, name="DecisionOutcome", description="Automatic approval, review or not.")


@strawberry.type(description="How a product is priced (定价).")
class Pricing:
    kind: products.PricingKind = strawberry.field(description="LPR + spread, or fixed.")
    lpr_tenor: products.LprTenor | None = strawberry.field(description="Which LPR it follows.")
    spread_bp: int = strawberry.field(description="Spread over the LPR in basis points (加点).")
    floor_rate: Decimal | None = strawberry.field(description="The rate never goes below this.")
    fixed_rate: Decimal | None = strawberry.field(description="The rate of a fixed-rate product.")


@strawberry.type(description="A loan product (贷款产品), one version of it.")
class LoanProduct(Node):
    code: str = strawberry.field(description="Product code, e.g. JNKD.")
    version: int = strawberry.field(description="Version; an update makes the next one.")
    name: str = strawberry.field(description="Name, e.g. 吉农快贷.")
    description: str = strawberry.field(description="One line for the customer.")
    active: bool = strawberry.field(description="Offered to new applications.")
    segments: list[Segment] = strawberry.field(description="Who it is for (目标客群).")
    min_amount: Decimal = strawberry.field(description="Smallest amount, CNY.")
    max_amount: Decimal = strawberry.field(description="Largest amount, CNY.")
    term_months: list[int] = strawberry.field(description="Allowed terms in months.")
    max_draw_days: int = strawberry.field(description="Longest drawdown of a credit line, days.")
    methods: list[model.RepaymentMethod] = strawberry.field(description="Repayment methods.")
    pricing: Pricing = strawberry.field(description="How the rate is set.")
    penalty_uplift: Decimal = strawberry.field(description="Penalty rate uplift (罚息上浮).")
    grace_days: int = strawberry.field(description="Days after a due date without penalty.")
    created_at: datetime.datetime = strawberry.field(description="When this version was made.")
    _product: strawberry.Private[products.LoanProduct]

    @classmethod
    def of(cls, product: products.LoanProduct) -> LoanProduct:
        terms = product.terms
        pricing = terms.pricing
        return cls(
            id=to_global_id("LoanProduct", product.id),
            code=product.code,
            version=product.version,
            name=terms.name,
            description=terms.description,
            active=product.active,
            segments=list(terms.segments),
            min_amount=terms.min_amount,
            max_amount=terms.max_amount,
            term_months=list(terms.term_months),
            max_draw_days=terms.max_draw_days,
            methods=list(terms.methods),
            pricing=Pricing(
                kind=pricing.kind,
                lpr_tenor=pricing.lpr_tenor,
                spread_bp=pricing.spread_bp,
                floor_rate=pricing.floor_rate,
                fixed_rate=pricing.fixed_rate,
            ),
            penalty_uplift=terms.penalty_uplift,
            grace_days=terms.grace_days,
            created_at=product.created_at,
            _product=product,
        )

    @strawberry.field(description="The rate a contract signed today would get.")
    async def current_rate(self, info: Info[Context, None]) -> Decimal | None:
        return await resolve.current_rate(info.context, self._product)

    @strawberry.field(
        description="Everything configured: rules, scorecard, limit policy, authority (staff)."
    )
    async def terms(self, info: Info[Context, None]) -> JSON | None:
        actor = await info.context.require_actor()
        return JSON(terms_document(self._product.terms)) if actor.is_staff else None


@strawberry.type(description="A published Loan Prime Rate (贷款市场报价利率).")
class LprRate:
    tenor: products.LprTenor = strawberry.field(description="1-year or 5-year-plus.")
    published_on: datetime.date = strawberry.field(description="Publication date.")
    rate: Decimal = strawberry.field(description='Annual rate as a fraction, e.g. "0.0300".')


@strawberry.input(description="A repayment calculation for the app's calculator.")
class LoanSchedulePreviewInput:
    amount: Decimal = strawberry.field(description="Principal, CNY.")
    method: model.RepaymentMethod = strawberry.field(description="Repayment method.")
    annual_rate: Decimal = strawberry.field(description='Annual rate as a fraction ("0.0435").')
    term_months: int | None = strawberry.field(default=None, description="Term; not REVOLVING.")
    days: int | None = strawberry.field(default=None, description="Days drawn; REVOLVING only.")
    start_date: datetime.date | None = strawberry.field(
        default=None, description="Disbursement date; today if omitted."
    )


@strawberry.type(description="One installment of a schedule (还款计划).")
class ScheduleInstallment:
    number: int = strawberry.field(description="1, 2, …")
    due_date: datetime.date = strawberry.field(description="Due date (还款日).")
    principal: Decimal = strawberry.field(description="Principal part (本金).")
    interest: Decimal = strawberry.field(description="Interest part (利息).")
    payment: Decimal = strawberry.field(description="Principal + interest (月供).")
    remaining_principal: Decimal = strawberry.field(description="Owed after this installment.")


@strawberry.type(description="A repayment schedule, to the cent.")
class LoanSchedule:
    installments: list[ScheduleInstallment] = strawberry.field(description="In order.")
    total_interest: Decimal = strawberry.field(description="Total interest (总利息).")
    total_payment: Decimal = strawberry.field(description="Total to repay (还款总额).")


@strawberry.input(description="A rule of admission: an expression that must hold (准入规则).")
class AdmissionRuleInput:
    name: str = strawberry.field(description="Name, e.g. age.")
    expression: str = strawberry.field(description="e.g. `between(applicant.age, 18, 65)`.")
    reason_code: str = strawberry.field(description="Reported when the rule fails.")


@strawberry.input(description="A bin of a scorecard characteristic: an interval or values.")
class ScorecardBinInput:
    points: Decimal = strawberry.field(description="Log-odds contribution of this bin.")
    lower: Decimal | None = strawberry.field(default=None, description="Inclusive lower bound.")
    upper: Decimal | None = strawberry.field(default=None, description="Exclusive upper bound.")
    values: list[str] = strawberry.field(
        default_factory=list, description="Enumerated text values, e.g. segments."
    )
    flag: bool | None = strawberry.field(
        default=None, description="For a yes/no variable: the value this bin holds."
    )


@strawberry.input(description="One characteristic of a scorecard.")
class CharacteristicInput:
    name: str = strawberry.field(description="Name, e.g. age.")
    variable: str = strawberry.field(description="What it reads, e.g. applicant.age.")
    bins: list[ScorecardBinInput] = strawberry.field(description="Its bins.")
    default_points: Decimal | None = strawberry.field(
        default=None, description="For a value in no bin; otherwise such a value is unscorable."
    )


@strawberry.input(description="A score band of the grade table.")
class GradeBandInput:
    min_score: int = strawberry.field(description="Lowest score of the band.")
    grade: Grade = strawberry.field(description="Grade given.")
    coefficient: Decimal = strawberry.field(description="Limit coefficient (额度系数).")


@strawberry.input(description="A scorecard (评分卡) with PDO scaling.")
class ScorecardInput:
    base_score: int = strawberry.field(description="Score at the base odds, e.g. 600.")
    base_odds: Decimal = strawberry.field(description="Good:bad odds at the base score, e.g. 50.")
    pdo: Decimal = strawberry.field(description="Points to double the odds, e.g. 20.")
    intercept: Decimal = strawberry.field(description="Log-odds before any characteristic.")
    characteristics: list[CharacteristicInput] = strawberry.field(description="Characteristics.")
    grades: list[GradeBandInput] = strawberry.field(description="The grade table.")


@strawberry.input(description="Pricing: LPR + spread with a floor, or fixed.")
class PricingInput:
    kind: products.PricingKind = strawberry.field(description="LPR or FIXED.")
    lpr_tenor: products.LprTenor | None = strawberry.field(default=None, description="For LPR.")
    spread_bp: int = strawberry.field(default=0, description="Spread in basis points.")
    floor_rate: Decimal | None = strawberry.field(default=None, description="Floor rate.")
    fixed_rate: Decimal | None = strawberry.field(default=None, description="For FIXED.")


@strawberry.input(description="Base limit of a segment.")
class BaseAmountInput:
    segment: Segment = strawberry.field(description="Segment.")
    amount: Decimal = strawberry.field(description="Base limit, CNY.")


@strawberry.input(description="Limit policy (额度政策).")
class LimitPolicyInput:
    base_amounts: list[BaseAmountInput] = strawberry.field(description="Base limit by segment.")
    max_total_exposure: Decimal = strawberry.field(description="Cap on a customer's exposure.")
    rounding_unit: Decimal = strawberry.field(
        default=Decimal(100), description="Limits are rounded down to this."
    )
    whitelist_base: bool = strawberry.field(
        default=False,
        description=(
            "A whitelist entry's pre-approved amount (整村授信) is the limit before the caps, "
            "unless the grade gives none."
        ),
    )


@strawberry.input(description="Up to which amount a role may approve (授权).")
class ApprovalAuthorityInput:
    role: Role = strawberry.field(description="Role.")
    max_amount: Decimal = strawberry.field(description="Largest amount it may approve.")


@strawberry.input(description="Days past due from which each worse category applies.")
class ClassificationThresholdsInput:
    special_mention: int = strawberry.field(default=1, description="关注 from.")
    substandard: int = strawberry.field(default=91, description="次级 from.")
    doubtful: int = strawberry.field(default=271, description="可疑 from.")
    loss: int = strawberry.field(default=361, description="损失 from.")


@strawberry.input(description="Everything a product version is.")
class LoanProductTermsInput:
    name: str = strawberry.field(description="Name, e.g. 吉农快贷.")
    segments: list[Segment] = strawberry.field(description="Target segments.")
    min_amount: Decimal = strawberry.field(description="Smallest amount.")
    max_amount: Decimal = strawberry.field(description="Largest amount.")
    term_months: list[int] = strawberry.field(description="Allowed terms (empty if revolving).")
    methods: list[model.RepaymentMethod] = strawberry.field(description="Repayment methods.")
    pricing: PricingInput = strawberry.field(description="Pricing.")
    admission_rules: list[AdmissionRuleInput] = strawberry.field(description="Admission rules.")
    scorecard: ScorecardInput = strawberry.field(description="Scorecard.")
    limit_policy: LimitPolicyInput = strawberry.field(description="Limit policy.")
    auto_approval_max: Decimal = strawberry.field(description="Automatic approval up to this.")
    approval_authority: list[ApprovalAuthorityInput] = strawberry.field(
        description="Manual approval authority by role."
    )
    description: str = strawberry.field(default="", description="One line for customers.")
    max_draw_days: int = strawberry.field(default=365, description="Longest drawdown, days.")
    credit_line_months: int = strawberry.field(default=12, description="Credit line validity.")
    days_in_year: int = strawberry.field(default=360, description="Daily rate basis, 360 or 365.")
    penalty_uplift: Decimal = strawberry.field(
        default=Decimal("0.5"), description="Penalty uplift on overdue principal (罚息)."
    )
    grace_days: int = strawberry.field(default=3, description="Grace days (宽限期).")
    allocation_order: list[model.Component] = strawberry.field(
        default_factory=lambda: list(model.DEFAULT_ALLOCATION),
        description="Order a repayment settles components in.",
    )
    offer_valid_days: int = strawberry.field(
        default=30, description="An approval or review lapses after this many days."
    )
    classification: ClassificationThresholdsInput = strawberry.field(
        default_factory=ClassificationThresholdsInput,
        description="Five-category thresholds (五级分类).",
    )


@strawberry.input(description="A product version to create or update.")
class LoanProductInput:
    code: str = strawberry.field(description="Product code; an update names an existing one.")
    terms: LoanProductTermsInput = strawberry.field(description="Its terms.")
    active: bool = strawberry.field(default=True, description="Offered to new applications.")


@strawberry.type(description="Result of `createLoanProduct` or `updateLoanProduct`.")
class LoanProductPayload:
    product: LoanProduct | None = strawberry.field(description="The new version.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.input(description="A published LPR.")
class PublishLprInput:
    tenor: products.LprTenor = strawberry.field(description="Tenor.")
    published_on: datetime.date = strawberry.field(description="Publication date (每月20日).")
    rate: Decimal = strawberry.field(description='Annual rate as a fraction, "0.0300".')


@strawberry.type(description="Result of `publishLprRate`.")
class PublishLprPayload:
    rate: LprRate | None = strawberry.field(description="The rate as recorded.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


def to_define_product(input: LoanProductInput) -> DefineProduct:
    """The input as domain terms; malformed terms are INVALID_PRODUCT."""
    try:
        terms = terms_from_document(_document(input.terms))
    except (KeyError, TypeError, ValueError):
        raise DomainError(ErrorCode.INVALID_PRODUCT, field=("terms",)) from None
    return DefineProduct(code=input.code, terms=terms, active=input.active)


def _document(value: object) -> Any:
    """An input object as the camelCase document `terms_from_document` reads."""
    if isinstance(value, ScorecardBinInput):
        flags = [] if value.flag is None else [value.flag]
        return {
            "points": str(value.points),
            "lower": _document(value.lower),
            "upper": _document(value.upper),
            "values": [*value.values, *flags],
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            _camel(item.name): _document(getattr(value, item.name))
            for item in dataclasses.fields(value)
        }
    if isinstance(value, list):
        return [_document(each) for each in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def schedule_of(input: LoanSchedulePreviewInput, today: datetime.date) -> LoanSchedule:
    schedule = resolve.schedule(
        input.amount,
        annual_rate=input.annual_rate,
        method=input.method,
        start=input.start_date or today,
        term_months=input.term_months,
        days=input.days,
    )
    return LoanSchedule(
        installments=[
            ScheduleInstallment(
                number=each.number,
                due_date=each.due_date,
                principal=each.principal,
                interest=each.interest,
                payment=each.payment,
                remaining_principal=each.remaining_principal,
            )
            for each in schedule.installments
        ],
        total_interest=schedule.total_interest,
        total_payment=schedule.total_payment,
    )


@strawberry.type(description="One admission rule's result.")
class RuleOutcome:
    name: str = strawberry.field(description="Rule name.")
    passed: bool = strawberry.field(description="Whether it held.")
    reason_code: str | None = strawberry.field(description="Why it failed.")


@strawberry.type(description="The limit (额度) and how it was reached.")
class LimitSteps:
    base_amount: Decimal = strawberry.field(description="Base by segment or whitelist.")
    coefficient: Decimal = strawberry.field(description="Grade coefficient.")
    graded_amount: Decimal = strawberry.field(
        description="Base × coefficient; a pre-approved amount as it is."
    )
    product_max: Decimal = strawberry.field(description="Product maximum.")
    exposure_room: Decimal = strawberry.field(description="Room under the exposure cap.")
    limit: Decimal = strawberry.field(description="The limit, rounded down.")


@strawberry.type(description="A credit decision: admission → rating → limit (授信决策).")
class LoanDecision:
    outcome: Outcome = strawberry.field(description="What the decision was.")
    reasons: list[str] = strawberry.field(description="Reason codes.")
    rules: list[RuleOutcome] = strawberry.field(description="Every admission rule's result.")
    score: int | None = strawberry.field(description="Scorecard score.")
    grade: Grade | None = strawberry.field(description="Credit grade.")
    probability_of_default: Decimal | None = strawberry.field(description="From the score.")
    limit: LimitSteps | None = strawberry.field(description="The limit and its steps.")
    approved_amount: Decimal | None = strawberry.field(description="Amount approved or suggested.")
    record: JSON = strawberry.field(description="Every input and step, as recorded.")

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> LoanDecision:
        score = record.get("score")
        limit = record.get("limit")
        approved = record.get("approved_amount")
        return cls(
            outcome=Outcome(record["outcome"]),
            reasons=list(record["reasons"]),
            rules=[
                RuleOutcome(
                    name=each["name"], passed=each["passed"], reason_code=each["reason_code"]
                )
                for each in record["rules"]
            ],
            score=score["score"] if score else None,
            grade=Grade(score["grade"]) if score else None,
            probability_of_default=Decimal(score["probability_of_default"]) if score else None,
            limit=LimitSteps(**{key: Decimal(value) for key, value in limit.items()})
            if limit
            else None,
            approved_amount=Decimal(approved) if approved is not None else None,
            record=JSON(record),
        )

    @classmethod
    def of(cls, decision: Decision) -> LoanDecision:
        return cls.of_record(decision.record())

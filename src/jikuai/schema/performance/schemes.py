"""Assessment schemes (考核方案), portfolio assignments and period closing."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import strawberry
from strawberry.types import Info

from jikuai.domain.performance import closing, model, portfolios, schemes
from jikuai.domain.performance.periods import PeriodKind
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.tenancy.model import Role
from jikuai.resolvers import performance as resolve
from jikuai.resolvers import tenancy as resolve_tenancy
from jikuai.resolvers.context import Context
from jikuai.schema.errors import UserError, user_errors
from jikuai.schema.performance.indicators import Indicator
from jikuai.schema.relay import Node, from_global_id, input_id, optional_input_id, to_global_id
from jikuai.schema.tenancy import Branch, Staff

strawberry.enum(
    model.SubjectKind, name="PortfolioSubjectKind", description="What a staff member manages."
)


@strawberry.type(description="An indicator's place in a scheme.")
class SchemeIndicator:
    indicator: Indicator = strawberry.field(description="Which indicator.")
    weight: Decimal = strawberry.field(description="Its weight; a scheme's weights add to 100.")
    target: Decimal = strawberry.field(description="The default target (目标值).")
    ceiling: Decimal = strawberry.field(
        description="Attainment counts at most this (封顶), e.g. 1.2."
    )
    floor: Decimal = strawberry.field(description="Attainment below this counts as zero (保底).")


@strawberry.type(description="A target for one branch or one person in place of the default.")
class SchemeTarget:
    indicator: Indicator = strawberry.field(description="Which indicator.")
    value: Decimal = strawberry.field(description="The target.")
    branch_id: strawberry.ID | None = strawberry.field(description="The branch it is for.")
    staff_id: strawberry.ID | None = strawberry.field(description="The person it is for.")


@strawberry.type(description="One version of an assessment scheme (考核方案).")
class AssessmentScheme(Node):
    name: str = strawberry.field(description="Its name, e.g. 客户经理月度考核.")
    version: int = strawberry.field(description="Its version; a revision adds one.")
    role: Role = strawberry.field(description="The role it scores.")
    period_kind: PeriodKind = strawberry.field(description="The periods it scores.")
    bonus_pool: Decimal = strawberry.field(
        description="CNY per period shared by score among the staff it scores (奖金池)."
    )
    active: bool = strawberry.field(description="False once retired: it scores nobody.")
    created_at: datetime.datetime = strawberry.field(description="When this version was made.")
    indicators: list[SchemeIndicator] = strawberry.field(description="What it scores.")
    targets: list[SchemeTarget] = strawberry.field(description="Branch and personal targets.")
    _scheme: strawberry.Private[model.Scheme]

    @classmethod
    def of(cls, scheme: model.Scheme) -> AssessmentScheme:
        return cls(
            id=to_global_id("AssessmentScheme", scheme.id),
            name=scheme.name,
            version=scheme.version,
            role=scheme.role,
            period_kind=scheme.period_kind,
            bonus_pool=scheme.bonus_pool,
            active=scheme.active,
            created_at=scheme.created_at,
            indicators=[
                SchemeIndicator(
                    indicator=Indicator.by_code(item.code),
                    weight=item.weight,
                    target=item.target,
                    ceiling=item.ceiling,
                    floor=item.floor,
                )
                for item in scheme.indicators
            ],
            targets=[
                SchemeTarget(
                    indicator=Indicator.by_code(target.code),
                    value=target.value,
                    branch_id=_global_id("Branch", target.branch_id),
                    staff_id=_global_id("Staff", target.staff_id),
                )
                for target in scheme.targets
            ],
            _scheme=scheme,
        )

    @strawberry.field(description="The branch it is limited to, if any.")
    async def branch(self, info: Info[Context, None]) -> Branch | None:
        if self._scheme.branch_id is None:
            return None
        found = await resolve_tenancy.branch(info.context, self._scheme.branch_id)
        return Branch.of(found) if found else None

    @strawberry.field(description="The person it is limited to, if any.")
    async def staff(self, info: Info[Context, None]) -> Staff | None:
        if self._scheme.staff_id is None:
            return None
        found = await info.context.loaders.staff_by_id.load(self._scheme.staff_id)
        return Staff.of(found) if found else None

    @strawberry.field(description="Every version of this scheme, newest first.")
    async def versions(self, info: Info[Context, None]) -> list[AssessmentScheme]:
        found = await resolve.scheme_versions(info.context, self._scheme)
        return [AssessmentScheme.of(scheme) for scheme in found]


@strawberry.type(description="Who managed a customer or merchant over a span of days.")
class PortfolioAssignment:
    subject_kind: model.SubjectKind = strawberry.field(description="Customer or merchant.")
    subject_id: strawberry.ID = strawberry.field(description="Global ID of what is managed.")
    valid_from: datetime.date = strawberry.field(description="First day managed.")
    valid_until: datetime.date | None = strawberry.field(
        description="The day it passed to someone else; null while it lasts."
    )
    _assignment: strawberry.Private[model.Assignment]

    @classmethod
    def of(cls, assignment: model.Assignment) -> PortfolioAssignment:
        type_name = (
            "Customer" if assignment.subject_kind is model.SubjectKind.CUSTOMER else "Merchant"
        )
        return cls(
            subject_kind=assignment.subject_kind,
            subject_id=to_global_id(type_name, assignment.subject_id),
            valid_from=assignment.valid_from,
            valid_until=assignment.valid_until,
            _assignment=assignment,
        )

    @strawberry.field(description="The staff member who manages it (客户经理).")
    async def staff(self, info: Info[Context, None]) -> Staff | None:
        found = await info.context.loaders.staff_by_id.load(self._assignment.staff_id)
        return Staff.of(found) if found else None


# Inputs ---------------------------------------------------------------------------------------


@strawberry.input(description="What a scheme asks of one indicator.")
class SchemeIndicatorInput:
    code: str = strawberry.field(description="The indicator's code (see `performanceIndicators`).")
    weight: Decimal = strawberry.field(description="Its weight; all weights add up to 100.")
    target: Decimal = strawberry.field(description="The default target, greater than zero.")
    ceiling: Decimal = strawberry.field(
        default=schemes.DEFAULT_CEILING, description="The cap on attainment, 1 to 10 (1.2: 120%)."
    )
    floor: Decimal = strawberry.field(
        default=Decimal(0), description="Attainment below this counts as zero (0: none)."
    )


@strawberry.input(description="A branch's or a person's own target for one indicator.")
class SchemeTargetInput:
    code: str = strawberry.field(description="The indicator's code.")
    value: Decimal = strawberry.field(description="The target, greater than zero.")
    branch_id: strawberry.ID | None = strawberry.field(default=None, description="For a branch.")
    staff_id: strawberry.ID | None = strawberry.field(default=None, description="For a person.")


@strawberry.input(description="A new assessment scheme.")
class CreateAssessmentSchemeInput:
    name: str = strawberry.field(description="Its name (1–100 characters).")
    role: Role = strawberry.field(description="The role it scores.")
    period_kind: PeriodKind = strawberry.field(description="The periods it scores.")
    indicators: list[SchemeIndicatorInput] = strawberry.field(description="What it scores.")
    targets: list[SchemeTargetInput] = strawberry.field(
        default_factory=list, description="Branch and personal targets."
    )
    bonus_pool: Decimal = strawberry.field(
        default=Decimal(0), description="CNY per period shared by score."
    )
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Province admins: whose. Others leave it out."
    )
    branch_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this branch's staff."
    )
    staff_id: strawberry.ID | None = strawberry.field(default=None, description="Only this person.")


@strawberry.input(description="A new version of a scheme; whom it applies to stays.")
class ReviseAssessmentSchemeInput:
    scheme_id: strawberry.ID = strawberry.field(description="Any version of the scheme.")
    name: str = strawberry.field(description="Its name.")
    indicators: list[SchemeIndicatorInput] = strawberry.field(description="What it scores.")
    targets: list[SchemeTargetInput] = strawberry.field(
        default_factory=list, description="Branch and personal targets."
    )
    bonus_pool: Decimal = strawberry.field(
        default=Decimal(0), description="CNY per period shared by score."
    )
    active: bool = strawberry.field(default=True, description="False retires the scheme.")


@strawberry.input(description="Customers or merchants handed to a staff member from a day.")
class ReassignPortfolioInput:
    subject_ids: list[strawberry.ID] = strawberry.field(
        description="Global IDs of customers, or of merchants (one kind per call, at most 500)."
    )
    staff_id: strawberry.ID = strawberry.field(description="Who manages them from now on.")
    effective_on: datetime.date | None = strawberry.field(
        default=None,
        description="The first day they count for the new manager (today if left out); not "
        "inside a closed period.",
    )


@strawberry.input(description="A period to close.")
class ClosePerformancePeriodInput:
    period: str = strawberry.field(description="`2026-11`, `2026-Q4` or `2026`, once it is over.")
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Province admins: whose. Others leave it out."
    )


# Payloads -------------------------------------------------------------------------------------


@strawberry.type(description="Result of a scheme mutation.")
class AssessmentSchemePayload:
    scheme: AssessmentScheme | None = strawberry.field(description="The new version, on success.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `reassignPortfolio`.")
class ReassignPortfolioPayload:
    assignments: list[PortfolioAssignment] = strawberry.field(
        description="The assignments made; subjects that already had that manager are left as "
        "they were."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of `closePerformancePeriod`.")
class ClosePerformancePeriodPayload:
    period: str | None = strawberry.field(description="The period closed, on success.")
    closed_at: datetime.datetime | None = strawberry.field(description="When.")
    results: int | None = strawberry.field(description="Staff results frozen.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


def _terms(
    name: str,
    indicators: list[SchemeIndicatorInput],
    targets: list[SchemeTargetInput],
    bonus_pool: Decimal,
    active: bool = True,
) -> schemes.Terms:
    return schemes.Terms(
        name=name,
        indicators=[
            schemes.IndicatorTerms(item.code, item.weight, item.target, item.ceiling, item.floor)
            for item in indicators
        ],
        targets=[
            model.Target(
                target.code,
                target.value,
                optional_input_id(target.branch_id, "Branch"),
                optional_input_id(target.staff_id, "Staff"),
            )
            for target in targets
        ],
        bonus_pool=bonus_pool,
        active=active,
    )


def _subjects(ids: list[strawberry.ID]) -> tuple[model.SubjectKind, list[uuid.UUID]] | None:
    """The kind and ids of the subjects named; None when they are not all customers or all
    merchants."""
    decoded = [from_global_id(each) for each in ids]
    kinds = {pair[0] if pair else None for pair in decoded}
    if kinds == {"Customer"}:
        kind = model.SubjectKind.CUSTOMER
    elif kinds == {"Merchant"}:
        kind = model.SubjectKind.MERCHANT
    else:
        return None
    return kind, [pair[1] for pair in decoded if pair]


@strawberry.type
class SchemeMutation:
    @strawberry.mutation(description="Create an assessment scheme (institution admins).")
    async def create_assessment_scheme(
        self, info: Info[Context, None], input: CreateAssessmentSchemeInput
    ) -> AssessmentSchemePayload:
        context = info.context
        actor = await context.require_actor()
        institution_id = optional_input_id(input.institution_id, "Institution")
        command = schemes.CreateScheme(
            institution_id=institution_id or actor.institution_id or input_id(None, "Institution"),
            role=input.role,
            period_kind=input.period_kind,
            terms=_terms(input.name, input.indicators, input.targets, input.bonus_pool),
            branch_id=optional_input_id(input.branch_id, "Branch"),
            staff_id=optional_input_id(input.staff_id, "Staff"),
        )
        done = await resolve.create_scheme(context, command)
        return AssessmentSchemePayload(
            scheme=AssessmentScheme.of(done.result) if done.result else None,
            user_errors=user_errors(done.errors, context.language),
        )

    @strawberry.mutation(description="Revise a scheme into a new version (institution admins).")
    async def revise_assessment_scheme(
        self, info: Info[Context, None], input: ReviseAssessmentSchemeInput
    ) -> AssessmentSchemePayload:
        command = schemes.ReviseScheme(
            scheme_id=input_id(input.scheme_id, "AssessmentScheme"),
            terms=_terms(
                input.name, input.indicators, input.targets, input.bonus_pool, input.active
            ),
        )
        done = await resolve.revise_scheme(info.context, command)
        return AssessmentSchemePayload(
            scheme=AssessmentScheme.of(done.result) if done.result else None,
            user_errors=user_errors(done.errors, info.context.language),
        )

    @strawberry.mutation(
        description="Hand customers or merchants to a staff member from a day (branch managers "
        "within their branch, institution admins)."
    )
    async def reassign_portfolio(
        self, info: Info[Context, None], input: ReassignPortfolioInput
    ) -> ReassignPortfolioPayload:
        language = info.context.language
        subjects = _subjects(input.subject_ids)
        if subjects is None:
            error = DomainError(ErrorCode.NOT_FOUND, field=("subjectIds",))
            return ReassignPortfolioPayload(
                assignments=[], user_errors=user_errors([error], language)
            )
        kind, subject_ids = subjects
        command = portfolios.Reassign(
            kind, subject_ids, input_id(input.staff_id, "Staff"), input.effective_on
        )
        done = await resolve.reassign(info.context, command)
        return ReassignPortfolioPayload(
            assignments=[PortfolioAssignment.of(each) for each in done.result or []],
            user_errors=user_errors(done.errors, language),
        )

    @strawberry.mutation(
        description="Freeze a period's results (关账): they are read from then on as they stand "
        "now, with the schemes they were scored with."
    )
    async def close_performance_period(
        self, info: Info[Context, None], input: ClosePerformancePeriodInput
    ) -> ClosePerformancePeriodPayload:
        done = await resolve.close_period(
            info.context, optional_input_id(input.institution_id, "Institution"), input.period
        )
        closed: closing.Closed | None = done.result
        return ClosePerformancePeriodPayload(
            period=closed.closure.period if closed else None,
            closed_at=closed.closure.closed_at if closed else None,
            results=closed.results if closed else None,
            user_errors=user_errors(done.errors, info.context.language),
        )


def _global_id(type_name: str, key: uuid.UUID | None) -> strawberry.ID | None:
    return None if key is None else to_global_id(type_name, key)

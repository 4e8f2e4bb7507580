"""Scoreboards, one person's explained results, branch figures and the institution dashboard."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from jikuai.domain.performance import dashboards, model
from jikuai.domain.performance import indicators as catalog
from jikuai.domain.performance.ports import Contribution
from jikuai.domain.performance.results import Scoreboard, Standing
from jikuai.domain.tenancy.model import Role
from jikuai.resolvers import performance as resolve
from jikuai.resolvers.context import Context
from jikuai.resolvers.errors import BadInput
from jikuai.resolvers.pages import page_limit
from jikuai.schema.performance.indicators import (
    Indicator,
    IndicatorFigure,
    MonthlyFigure,
    PerformanceContribution,
)
from jikuai.schema.performance.schemes import AssessmentScheme, PortfolioAssignment
from jikuai.schema.relay import (
    Connection,
    after_cursor,
    from_global_id,
    input_id,
    optional_input_id,
    to_global_id,
)
from jikuai.schema.tenancy import Branch, Institution, Staff

MAX_CONTRIBUTION_OFFSET = 10_000_000  # far beyond any staff member's rows in a period
_REFERENCE_TYPES = {
    "LOAN": "Loan",
    "CREDIT_LINE": "CreditLine",
    "CUSTOMER": "Customer",
    "MERCHANT": "Merchant",
    "REDEMPTION": "Redemption",
}


@strawberry.type(description="One indicator of a person's result.")
class IndicatorResult:
    indicator: Indicator = strawberry.field(description="Which indicator.")
    weight: Decimal = strawberry.field(description="Its weight in the scheme.")
    actual: Decimal | None = strawberry.field(
        description="What was achieved (完成值); null without a basis (a ratio over nothing)."
    )
    target: Decimal = strawberry.field(description="The person's target (目标值).")
    attainment: Decimal = strawberry.field(
        description="actual / target (target / actual when lower is better), capped at the "
        "ceiling, zero below the floor (完成率)."
    )
    score: Decimal = strawberry.field(description="weight × attainment (得分).")

    @classmethod
    def of(cls, item: model.IndicatorScore) -> IndicatorResult:
        return cls(
            indicator=Indicator.by_code(item.code),
            weight=item.weight,
            actual=item.actual,
            target=item.target,
            attainment=item.attainment,
            score=item.score,
        )


@strawberry.type(description="One line of a scoreboard (排行榜).")
class ScoreboardEntry:
    rank: int = strawberry.field(description="Place among the staff shown; ties share a place.")
    rank_change: int | None = strawberry.field(
        description="Places gained since the previous period (negative: lost); null if new."
    )
    total_score: Decimal = strawberry.field(description="Sum of the indicators' scores (总分).")
    bonus_share: Decimal = strawberry.field(description="CNY of the scheme's bonus pool (奖金).")
    indicators: list[IndicatorResult] = strawberry.field(description="Each indicator's result.")
    _result: strawberry.Private[model.StaffResult]

    @classmethod
    def of(cls, standing: Standing) -> ScoreboardEntry:
        result = standing.result
        return cls(
            rank=standing.rank,
            rank_change=standing.rank_change,
            total_score=result.total_score,
            bonus_share=result.bonus_share,
            indicators=[IndicatorResult.of(item) for item in result.indicators],
            _result=result,
        )

    @strawberry.field(description="Who.")
    async def staff(self, info: Info[Context, None]) -> Staff | None:
        found = await info.context.loaders.staff_by_id.load(self._result.staff_id)
        return Staff.of(found) if found else None

    @strawberry.field(description="The scheme they were scored with.")
    async def scheme(self, info: Info[Context, None]) -> AssessmentScheme | None:
        return await _scheme(info, self._result.scheme_id)


@strawberry.type(description="A role's ranked results for a period (绩效排行).")
class PerformanceScoreboard:
    period: str = strawberry.field(description="The period, e.g. `2026-11`.")
    role: Role = strawberry.field(description="The role scored.")
    as_of: datetime.date = strawberry.field(
        description="The last day the figures cover: the period's end, or today while it runs."
    )
    closed: bool = strawberry.field(description="True once frozen by `closePerformancePeriod`.")
    _view: strawberry.Private[resolve.BoardView]

    @strawberry.field(description="Best first; page with `first` (at most 100) and `after`.")
    def entries(self, first: int = 20, after: str | None = None) -> Connection[ScoreboardEntry]:
        standings = self._view.standings
        start = _position_after(standings, after_cursor(after))
        limit = page_limit(first)
        shown = standings[start : start + limit]
        return Connection[ScoreboardEntry].of(
            [ScoreboardEntry.of(each) for each in shown],
            [each.result.staff_id for each in shown],
            has_next_page=start + limit < len(standings),
            after=after is not None,
        )

    @strawberry.field(description="How many staff are ranked.")
    def total_count(self) -> int:
        return len(self._view.standings)

    @strawberry.field(description="The bonus shared among the staff shown (CNY).")
    def total_bonus(self) -> Decimal:
        return sum((s.result.bonus_share for s in self._view.standings), Decimal("0.00"))

    @strawberry.field(description="The institution.")
    async def institution(self, info: Info[Context, None]) -> Institution | None:
        found = await info.context.loaders.institution_by_id.load(self._view.board.institution_id)
        return Institution.of(found) if found else None

    @strawberry.field(description="The branch shown, if the board is one branch's.")
    async def branch(self, info: Info[Context, None]) -> Branch | None:
        if self._view.branch_id is None:
            return None
        found = await info.context.loaders.branch_by_id.load(self._view.branch_id)
        return Branch.of(found) if found else None

    @classmethod
    def of(cls, view: resolve.BoardView) -> PerformanceScoreboard:
        board = view.board
        return cls(
            period=board.period.name,
            role=board.role,
            as_of=board.as_of,
            closed=board.closed,
            _view=view,
        )


@strawberry.type(
    description="One reading behind an indicator: a sum over the period, a "
    "position on a day, or a daily average."
)
class IndicatorPart:
    measure: catalog.Measure = strawberry.field(description="What is read.")
    kind: catalog.ReadingKind = strawberry.field(description="How it is read.")
    start: datetime.date | None = strawberry.field(description="First day summed or averaged.")
    end: datetime.date = strawberry.field(description="Last day covered.")
    figures_on: datetime.date | None = strawberry.field(
        description="For a position: the day its figures are from (the latest reported)."
    )
    value: Decimal = strawberry.field(description="The person's value of this reading.")
    _reading: strawberry.Private[catalog.Reading]
    _institution_id: strawberry.Private[uuid.UUID]
    _staff_id: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description="The rows behind the value, by date: loans, customers, redemptions or facts."
    )
    async def contributions(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[PerformanceContribution]:
        offset = _offset(after)
        rows, more = await resolve.contributions(
            info.context, self._institution_id, self._staff_id, self._reading,
            first=first, offset=offset,
        )  # fmt: skip
        return Connection[PerformanceContribution].of(
            [_contribution(row) for row in rows],
            [uuid.UUID(int=offset + index + 1) for index in range(len(rows))],
            has_next_page=more,
            after=after is not None,
        )


@strawberry.type(description="One indicator of a person's result, with the readings behind it.")
class IndicatorExplanation(IndicatorResult):
    parts: list[IndicatorPart] = strawberry.field(
        description="Its readings: a ratio's numerator then denominator, a growth's end then start."
    )


@strawberry.type(description="A person's result for a period, explained (我的绩效).")
class StaffPerformance:
    period: str = strawberry.field(description="The period.")
    as_of: datetime.date = strawberry.field(description="The last day the figures cover.")
    closed: bool = strawberry.field(description="True once the period is frozen.")
    scored: bool = strawberry.field(description="False when no scheme applies to the person.")
    rank: int | None = strawberry.field(description="Their place among their role's staff.")
    rank_change: int | None = strawberry.field(
        description="Places gained since the previous period."
    )
    ranked: int = strawberry.field(description="How many staff of their role are ranked.")
    total_score: Decimal | None = strawberry.field(description="Their total score.")
    bonus_share: Decimal | None = strawberry.field(description="Their share of the bonus pool.")
    indicators: list[IndicatorExplanation] = strawberry.field(
        description="Each indicator, explained."
    )
    _view: strawberry.Private[resolve.StaffView]

    @strawberry.field(description="Who.")
    def staff(self) -> Staff:
        return Staff.of(self._view.staff)

    @strawberry.field(description="The scheme they are scored with.")
    async def scheme(self, info: Info[Context, None]) -> AssessmentScheme | None:
        result = self._view.result
        return await _scheme(info, result.scheme_id) if result else None


@strawberry.type(description="A branch's figure of one indicator, against its target.")
class BranchFigure(IndicatorFigure):
    target: Decimal | None = strawberry.field(description="The branch's target, if set.")


@strawberry.type(description="A branch's figures and its staff's standings (网点绩效).")
class BranchPerformance:
    period: str = strawberry.field(description="The period.")
    as_of: datetime.date = strawberry.field(description="The last day the figures cover.")
    figures: list[BranchFigure] = strawberry.field(
        description="The branch's figure of each indicator its staff are scored on."
    )
    scoreboard: PerformanceScoreboard = strawberry.field(description="Its staff, ranked.")

    @strawberry.field(description="The branch.")
    async def branch(self, info: Info[Context, None]) -> Branch | None:
        branch_id = self.scoreboard._view.branch_id
        found = await info.context.loaders.branch_by_id.load(branch_id) if branch_id else None
        return Branch.of(found) if found else None


@strawberry.type(description="A headline figure and its monthly series for a chart.")
class HeadlineFigure(IndicatorFigure):
    series: list[MonthlyFigure] = strawberry.field(
        description="The figure of each of the twelve months up to the period, oldest first."
    )


@strawberry.type(description="An institution's headline figures (行社驾驶舱).")
class InstitutionDashboard:
    period: str = strawberry.field(description="The period.")
    headlines: list[HeadlineFigure] = strawberry.field(
        description="Deposit growth, low-cost deposit share, social security card activation "
        "rate, merchants maintained, cumulative loans, outstanding balance, households served."
    )
    _institution_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The institution.")
    async def institution(self, info: Info[Context, None]) -> Institution | None:
        found = await info.context.loaders.institution_by_id.load(self._institution_id)
        return Institution.of(found) if found else None


@strawberry.type(description="An institution's line in the province's league table.")
class LeagueEntry:
    rank: int = strawberry.field(description="Place by the chosen indicator.")
    figures: list[IndicatorFigure] = strawberry.field(description="Its headline figures.")
    _institution_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The institution.")
    async def institution(self, info: Info[Context, None]) -> Institution | None:
        found = await info.context.loaders.institution_by_id.load(self._institution_id)
        return Institution.of(found) if found else None


@strawberry.type
class PerformanceQuery:
    @strawberry.field(description="The indicator catalog (指标库).")
    def performance_indicators(self) -> list[Indicator]:
        return [Indicator.by_code(code) for code in catalog.CATALOG]

    @strawberry.field(
        description="A role's ranked results (绩效排行): an institution's (its admins, the "
        "province's) or a branch's (also its manager; a branch manager's own by default)."
    )
    async def performance_scoreboard(
        self,
        info: Info[Context, None],
        period: Annotated[
            str | None,
            strawberry.argument(
                description="`2026-11`, `2026-Q4` or `2026`; this month if left out."
            ),
        ] = None,
        role: Role = Role.LOAN_OFFICER,
        institution_id: strawberry.ID | None = None,
        branch_id: strawberry.ID | None = None,
    ) -> PerformanceScoreboard | None:
        context = info.context
        view = await resolve.performance_scoreboard(
            context,
            resolve.parse_period(period, context.today),
            role,
            institution_id=optional_input_id(institution_id, "Institution"),
            branch_id=optional_input_id(branch_id, "Branch"),
        )
        return PerformanceScoreboard.of(view) if view else None

    @strawberry.field(
        description="A person's result explained down to the rows behind every figure (我的绩效): "
        "the viewer's own, or (their manager, an admin) a staff member's."
    )
    async def my_performance(
        self,
        info: Info[Context, None],
        period: Annotated[
            str | None, strawberry.argument(description="The period; this month if left out.")
        ] = None,
        staff_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Managers: whose.")
        ] = None,
    ) -> StaffPerformance | None:
        context = info.context
        view = await resolve.staff_performance(
            context,
            resolve.parse_period(period, context.today),
            optional_input_id(staff_id, "Staff"),
        )
        return None if view is None else await _explained(context, view)

    @strawberry.field(description="A branch's figures and its staff's standings (网点绩效).")
    async def branch_performance(
        self,
        info: Info[Context, None],
        branch_id: strawberry.ID,
        period: str | None = None,
        role: Role = Role.LOAN_OFFICER,
    ) -> BranchPerformance | None:
        context = info.context
        view = await resolve.performance_scoreboard(
            context,
            resolve.parse_period(period, context.today),
            role,
            institution_id=None,
            branch_id=input_id(branch_id, "Branch"),
        )
        if view is None or view.branch_id is None:
            return None
        figures = await resolve.branch_figures(context, view.board, view.branch_id)
        return BranchPerformance(
            period=view.board.period.name,
            as_of=view.board.as_of,
            figures=[
                BranchFigure(
                    indicator=Indicator.by_code(figure.indicator.code),
                    value=figure.value,
                    target=figure.target,
                )
                for figure in figures
            ],
            scoreboard=PerformanceScoreboard.of(view),
        )

    @strawberry.field(
        description="An institution's headline figures with their monthly series (行社驾驶舱): "
        "its admins' own, any for the province's."
    )
    async def institution_dashboard(
        self,
        info: Info[Context, None],
        institution_id: strawberry.ID | None = None,
        period: str | None = None,
    ) -> InstitutionDashboard:
        context = info.context
        chosen = resolve.parse_period(period, context.today)
        target = await resolve.dashboard_institution(
            context, optional_input_id(institution_id, "Institution")
        )
        months = dashboards.series_months(chosen)
        figures = await resolve.dashboard(context, target, chosen)
        return InstitutionDashboard(
            period=chosen.name,
            headlines=[
                HeadlineFigure(
                    indicator=Indicator.by_code(code),
                    value=figures[target, chosen, code],
                    series=[
                        MonthlyFigure(month=month.name, value=figures[target, month, code])
                        for month in months
                    ],
                )
                for code in catalog.HEADLINES
            ],
            _institution_id=target,
        )

    @strawberry.field(
        description="Every member institution ranked by an indicator (province admins)."
    )
    async def institution_league(
        self,
        info: Info[Context, None],
        period: str | None = None,
        order_by: Annotated[
            str, strawberry.argument(description="The indicator code to rank by.")
        ] = "OUTSTANDING_BALANCE",
    ) -> list[LeagueEntry]:
        context = info.context
        lines = await resolve.league(context, resolve.parse_period(period, context.today), order_by)
        return [
            LeagueEntry(
                rank=line.rank,
                figures=[
                    IndicatorFigure(indicator=Indicator.by_code(code), value=value)
                    for code, value in line.figures.items()
                ],
                _institution_id=line.institution_id,
            )
            for line in lines
        ]

    @strawberry.field(
        description="The schemes in force, their newest versions (考核方案): every staff member "
        "sees how their institution assesses its staff."
    )
    async def assessment_schemes(
        self,
        info: Info[Context, None],
        institution_id: strawberry.ID | None = None,
        role: Role | None = None,
    ) -> list[AssessmentScheme]:
        found = await resolve.current_schemes(
            info.context, optional_input_id(institution_id, "Institution"), role
        )
        return [AssessmentScheme.of(scheme) for scheme in found]

    @strawberry.field(description="Who managed a customer or merchant, and from when (staff).")
    async def portfolio_history(
        self, info: Info[Context, None], subject_id: strawberry.ID
    ) -> list[PortfolioAssignment] | None:
        kind = (
            model.SubjectKind.MERCHANT if _is_merchant(subject_id) else model.SubjectKind.CUSTOMER
        )
        type_name = "Merchant" if kind is model.SubjectKind.MERCHANT else "Customer"
        found = await resolve.portfolio_history(info.context, kind, input_id(subject_id, type_name))
        return None if found is None else [PortfolioAssignment.of(each) for each in found]


# Helpers ----------------------------------------------------------------------------------------


async def _explained(context: Context, view: resolve.StaffView) -> StaffPerformance:
    board: Scoreboard = view.board
    result = view.result
    items = result.indicators if result else ()
    plan = {
        item.code: catalog.readings(catalog.CATALOG[item.code].formula, board.period, board.as_of)
        for item in items
    }
    days = await resolve.fact_dates(
        context,
        board.institution_id,
        [r for wanted in plan.values() for r in wanted if r.kind is catalog.ReadingKind.POSITION],
    )
    explanations = []
    for item in items:
        wanted = plan[item.code]
        parts = [
            IndicatorPart(
                measure=reading.measure,
                kind=reading.kind,
                start=reading.start,
                end=reading.end,
                figures_on=days.get(reading),
                value=value,
                _reading=reading,
                _institution_id=board.institution_id,
                _staff_id=view.staff.id,
            )
            for reading, value in zip(wanted, item.parts, strict=True)
        ]
        base = IndicatorResult.of(item)
        explanations.append(IndicatorExplanation(**vars(base), parts=parts))
    standing = view.standing
    return StaffPerformance(
        period=board.period.name,
        as_of=board.as_of,
        closed=board.closed,
        scored=result is not None,
        rank=standing.rank if standing else None,
        rank_change=standing.rank_change if standing else None,
        ranked=view.out_of,
        total_score=result.total_score if result else None,
        bonus_share=result.bonus_share if result else None,
        indicators=explanations,
        _view=view,
    )


async def _scheme(info: Info[Context, None], scheme_id: uuid.UUID) -> AssessmentScheme | None:
    found = await resolve.scheme(info.context, scheme_id)
    return AssessmentScheme.of(found) if found else None


def _position_after(standings: list[Standing], after: uuid.UUID | None) -> int:
    if after is None:
        return 0
    for index, standing in enumerate(standings):
        if standing.result.staff_id == after:
            return index + 1
    raise BadInput("BAD_USER_INPUT", ["after"])


def _offset(after: str | None) -> int:
    """Contribution pages are positional: the cursor holds the position of the last row seen.
    A cursor past any position a page can reach was not ours: bad input, never a scan."""
    key = after_cursor(after)
    if key is None:
        return 0
    if key.int > MAX_CONTRIBUTION_OFFSET:
        raise BadInput("BAD_USER_INPUT", ["after"])
    return key.int


def _contribution(row: Contribution) -> PerformanceContribution:
    type_name = _REFERENCE_TYPES.get(row.kind.value)
    return PerformanceContribution(
        date=row.on,
        kind=row.kind,
        reference_id=to_global_id(type_name, row.reference_id)
        if type_name and row.reference_id
        else None,
        source=row.source,
        key=row.key,
        value=row.value,
    )


def _is_merchant(global_id: str) -> bool:
    decoded = from_global_id(global_id)
    return decoded is not None and decoded[0] == "Merchant"

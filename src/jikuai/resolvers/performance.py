"""Performance: who may see which results, and the mutations as calls into `domain/performance`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jikuai.domain.performance import access, closing, dashboards, portfolios, schemes
from jikuai.domain.performance.indicators import (
    CATALOG,
    HEADLINES,
    Direction,
    Indicator,
    Reading,
    evaluate,
    readings,
)
from jikuai.domain.performance.model import Assignment, Scheme, StaffResult, SubjectKind
from jikuai.domain.performance.periods import Period
from jikuai.domain.performance.ports import Contribution
from jikuai.domain.performance.results import Scoreboard, Standing, scoreboard
from jikuai.domain.shared.errors import DomainError
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role, Staff
from jikuai.resolvers.context import Context
from jikuai.resolvers.errors import BadInput, Forbidden, NotFound
from jikuai.resolvers.outcomes import Attempt, attempt, bad_input
from jikuai.resolvers.pages import page_limit


def parse_period(text: str | None, today: date) -> Period:
    """The period named, or the current month; a bad name is bad input."""
    try:
        return Period.parse(text) if text is not None else Period.month_of(today)
    except DomainError as failure:
        raise bad_input(failure) from None


# Scoreboards ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoardView:
    """A board as shown: everyone, or one branch's staff ranked among themselves."""

    board: Scoreboard
    branch_id: uuid.UUID | None
    standings: list[Standing]

    @classmethod
    def of(cls, board: Scoreboard, branch_id: uuid.UUID | None) -> BoardView:
        return cls(board, branch_id, board.standings(branch_id))


async def performance_scoreboard(
    context: Context,
    period: Period,
    role: Role,
    *,
    institution_id: uuid.UUID | None,
    branch_id: uuid.UUID | None,
) -> BoardView | None:
    """A whole institution's board (its admins, the province's) or one branch's (also its
    manager); None for an institution or branch the actor does not see."""
    actor = await context.require_actor()
    me = await _me(context, actor)
    if branch_id is None and me is not None and actor.role is Role.BRANCH_MANAGER:
        branch_id = me.branch_id
    if branch_id is not None:
        branch = await context.loaders.branch_by_id.load(branch_id)
        if branch is None or not actor.may_see_staff_of(branch.institution_id):
            return None
        if institution_id is not None and institution_id != branch.institution_id:
            return None
        if not access.sees_branch(actor, me, branch.institution_id, branch.id):
            raise Forbidden
        institution_id = branch.institution_id
    institution_id = institution_id or actor.institution_id
    if institution_id is None or not actor.may_see_staff_of(institution_id):
        return None
    if branch_id is None and not access.sees_institution(actor, institution_id):
        raise Forbidden
    board = await _scoreboard(context, institution_id, period, role)
    return BoardView.of(board, branch_id)


@dataclass(frozen=True, slots=True)
class StaffView:
    """One person's result on their board, with the readings behind each indicator."""

    staff: Staff
    board: Scoreboard
    result: StaffResult | None
    standing: Standing | None
    out_of: int


async def staff_performance(
    context: Context, period: Period, staff_id: uuid.UUID | None
) -> StaffView | None:
    """The viewer's own results, or (their manager, an admin) a staff member's; None for
    someone the viewer does not see."""
    actor = await context.require_actor()
    me = await _me(context, actor)
    if me is None:
        raise Forbidden
    staff = me if staff_id is None or staff_id == me.id else None
    if staff is None and staff_id is not None:
        staff = await context.loaders.staff_by_id.load(staff_id)
        if staff is None or not actor.may_see_staff_of(staff.institution_id):
            return None
        if not access.sees_staff(actor, me, staff):
            raise Forbidden
    if staff is None:
        return None
    board = await _scoreboard(context, staff.institution_id, period, staff.role)
    standings = board.standings()
    standing = next((s for s in standings if s.result.staff_id == staff.id), None)
    return StaffView(staff, board, board.result_of(staff.id), standing, len(standings))


async def contributions(
    context: Context,
    institution_id: uuid.UUID,
    staff_id: uuid.UUID,
    reading: Reading,
    *,
    first: int,
    offset: int,
) -> tuple[Sequence[Contribution], bool]:
    """A page of the rows behind a reading, and whether more follow."""
    limit = page_limit(first)
    reads = await context.db.reads()
    rows = await reads.performance.contributions(
        institution_id, staff_id, reading, offset=offset, limit=limit + 1
    )
    return rows[:limit], len(rows) > limit


async def fact_dates(
    context: Context, institution_id: uuid.UUID, wanted: Sequence[Reading]
) -> dict[Reading, date]:
    """The day each position reading's figures are from."""
    reads = await context.db.reads()
    found: dict[Reading, date] = {}
    for reading in wanted:
        days = await reads.performance.fact_dates(institution_id, [reading.measure], reading.end)
        if reading.measure in days:
            found[reading] = days[reading.measure]
    return found


# Branch and institution figures -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    indicator: Indicator
    value: Decimal | None


async def branch_figures(
    context: Context, board: Scoreboard, branch_id: uuid.UUID
) -> list[tuple[Figure, Decimal | None]]:
    """The branch's figure of each indicator its staff are scored on (the sum over its staff,
    ratios of the sums), with the branch's target where the scheme sets one."""
    shown = [r for r in board.results if r.branch_id == branch_id]
    reads = await context.db.reads()
    scheme_ids = list(dict.fromkeys(r.scheme_id for r in shown))
    used = await reads.performance.schemes_by_id(scheme_ids)
    codes = list(dict.fromkeys(item.code for scheme in used for item in scheme.indicators))
    as_of = board.as_of
    wanted = [r for code in codes for r in readings(CATALOG[code].formula, board.period, as_of)]
    values = await reads.performance.read([board.institution_id], wanted, by_staff=True)
    members = {r.staff_id for r in shown}
    summed = {
        reading: sum(
            (value for staff_id, value in per_staff.items() if staff_id in members), Decimal(0)
        )
        for reading, per_staff in values.items()
    }
    figures = []
    for code in codes:
        indicator = CATALOG[code]
        actual = indicator.rounded(evaluate(indicator.formula, summed, board.period, as_of))
        figures.append((Figure(indicator, actual), _branch_target(used, code, branch_id)))
    return figures


def _branch_target(used: Sequence[Scheme], code: str, branch_id: uuid.UUID) -> Decimal | None:
    for scheme in used:
        for target in scheme.targets:
            if target.code == code and target.branch_id == branch_id:
                return target.value
    return None


async def dashboard(
    context: Context, institution_id: uuid.UUID, period: Period
) -> dashboards.Figures:
    reads = await context.db.reads()
    return await dashboards.dashboard(
        reads.performance,
        context.services.cache,
        institution_id,
        period,
        HEADLINES,
        today=context.today,
    )


async def dashboard_institution(context: Context, institution_id: uuid.UUID | None) -> uuid.UUID:
    """The institution whose dashboard the actor asks for: its admins' own, any for the
    province's; another institution is NOT_FOUND as if it did not exist."""
    actor = await context.require_actor()
    target = institution_id or actor.institution_id
    if target is None or not actor.may_see_staff_of(target):
        raise NotFound
    if not access.sees_institution(actor, target):
        raise Forbidden
    return target


async def league(
    context: Context, period: Period, order_by: str
) -> list[tuple[uuid.UUID, int, dict[str, Decimal | None]]]:
    """Every member institution's headline figures, ranked by one indicator (province only)."""
    actor = await context.require_actor()
    if not (actor.is_staff and actor.sees_all_institutions):
        raise Forbidden
    if order_by not in CATALOG:
        raise BadInput("INVALID_INDICATOR", ["orderBy"])
    reads = await context.db.reads()
    members = [i.id for i in await reads.tenancy.institutions() if i.kind.value == "MEMBER"]
    codes = list(dict.fromkeys([*HEADLINES, order_by]))
    figures = await dashboards.institution_figures(
        reads.performance, members, [period], codes, today=context.today
    )
    indicator = CATALOG[order_by]
    sign = 1 if indicator.direction is Direction.HIGHER_IS_BETTER else -1
    keyed = {
        institution_id: figures[institution_id, period, order_by] for institution_id in members
    }
    ordered = sorted(
        members,
        key=lambda i: (keyed[i] is None, -sign * (keyed[i] or Decimal(0)), str(i)),
    )
    rows = []
    for place, institution_id in enumerate(ordered, start=1):
        row = {code: figures[institution_id, period, code] for code in codes}
        rows.append((institution_id, place, row))
    return rows


# Schemes, portfolios, closing -------------------------------------------------------------------


async def current_schemes(
    context: Context, institution_id: uuid.UUID | None, role: Role | None
) -> Sequence[Scheme]:
    """The institution's schemes in force: staff see how they and their colleagues are assessed."""
    actor = await context.require_actor()
    target = institution_id or actor.institution_id
    if target is None or not actor.may_see_staff_of(target):
        return []
    reads = await context.db.reads()
    return await reads.performance.current_schemes([target], role=role, kind=None)


async def scheme(context: Context, scheme_id: uuid.UUID) -> Scheme | None:
    """Any version of a scheme of the viewer's institution (a province admin's: any)."""
    actor = await context.require_actor()
    found = await context.loaders.scheme_by_id.load(scheme_id)
    if found is None or not actor.may_see_staff_of(found.institution_id):
        return None
    return found


async def scheme_versions(context: Context, scheme: Scheme) -> Sequence[Scheme]:
    reads = await context.db.reads()
    return await reads.performance.scheme_versions(scheme.series_id)


async def create_scheme(context: Context, command: schemes.CreateScheme) -> Attempt[Scheme]:
    actor = await context.require_actor()
    return await attempt(
        schemes.create_scheme(
            context.db.unit_of_work(),
            context.services.cache,
            actor,
            command,
            request_id=context.request_id,
            now=context.now,
        )
    )


async def revise_scheme(context: Context, command: schemes.ReviseScheme) -> Attempt[Scheme]:
    actor = await context.require_actor()
    return await attempt(
        schemes.revise_scheme(
            context.db.unit_of_work(),
            context.services.cache,
            actor,
            command,
            request_id=context.request_id,
            now=context.now,
        )
    )


async def reassign(context: Context, command: portfolios.Reassign) -> Attempt[list[Assignment]]:
    actor = await context.require_actor()
    return await attempt(
        portfolios.reassign(
            context.db.unit_of_work(),
            context.services.cache,
            actor,
            command,
            request_id=context.request_id,
            today=context.today,
            now=context.now,
        )
    )


async def close_period(
    context: Context, institution_id: uuid.UUID | None, period_name: str
) -> Attempt[closing.Closed]:
    actor = await context.require_actor()
    target = institution_id or actor.institution_id
    if target is None or not access.administers(actor, target):
        raise Forbidden
    try:
        period = Period.parse(period_name)
    except DomainError as failure:
        return Attempt(errors=[failure])
    return await attempt(
        closing.close_period(
            context.db.unit_of_work(),
            context.services.cache,
            actor,
            institution_id=target,
            period=period,
            today=context.today,
            now=context.now,
            request_id=context.request_id,
        )
    )


async def portfolio_history(
    context: Context, kind: SubjectKind, subject_id: uuid.UUID
) -> Sequence[Assignment] | None:
    """Who managed a customer or merchant, and when; None for one the viewer does not see."""
    actor = await context.require_actor()
    if not actor.is_staff:
        raise Forbidden
    if kind is SubjectKind.CUSTOMER:
        customer = await context.visible_customer(subject_id)
        institution_id = None if customer is None else customer.institution_id
    else:
        merchant = await context.loaders.merchant_by_id.load(subject_id)
        institution_id = None if merchant is None else merchant.institution_id
    if institution_id is None or not actor.may_see_staff_of(institution_id):
        return None
    reads = await context.db.reads()
    return await reads.performance.assignment_history(institution_id, kind, subject_id)


# Helpers ----------------------------------------------------------------------------------------


async def _me(context: Context, actor: Actor) -> Staff | None:
    return await context.loaders.staff_by_id.load(actor.id) if actor.is_staff else None


async def _scoreboard(
    context: Context, institution_id: uuid.UUID, period: Period, role: Role
) -> Scoreboard:
    reads = await context.db.reads()
    return await scoreboard(
        reads.performance,
        context.services.cache,
        institution_id=institution_id,
        period=period,
        role=role,
        today=context.today,
    )

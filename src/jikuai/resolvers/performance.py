"""Performance: who may see which results, and the mutations as calls into `domain/performance`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from jikuai.domain.performance import access, closing, dashboards, portfolios, schemes
from jikuai.domain.performance.indicators import (
    CATALOG,
    HEADLINES,
    Reading,
)
from jikuai.domain.performance.model import Assignment, Scheme, StaffResult, SubjectKind
from jikuai.domain.performance.periods import Period
from jikuai.domain.performance.ports import Contribution
from jikuai.domain.performance.results import Scoreboard, Standing, scoreboard
from jikuai.domain.shared.errors import DomainError
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import InstitutionKind, Role, Staff
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
    """The day each position reading's figures are from: one query per day asked about."""
    reads = await context.db.reads()
    ends: dict[date, list[Reading]] = defaultdict(list)
    for reading in wanted:
        ends[reading.end].append(reading)
    found: dict[Reading, date] = {}
    for end, same_end in ends.items():
        measures = list(dict.fromkeys(reading.measure for reading in same_end))
        days = await reads.performance.fact_dates(institution_id, measures, end)
        found |= {r: days[r.measure] for r in same_end if r.measure in days}
    return found


# Branch and institution figures -----------------------------------------------------------------


async def branch_figures(
    context: Context, board: Scoreboard, branch_id: uuid.UUID
) -> list[dashboards.BranchFigure]:
    reads = await context.db.reads()
    return await dashboards.branch_figures(reads.performance, board, branch_id)


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


async def league(context: Context, period: Period, order_by: str) -> list[dashboards.LeagueLine]:
    """Every member institution's headline figures, ranked by one indicator (province only)."""
    actor = await context.require_actor()
    if not (actor.is_staff and actor.sees_all_institutions):
        raise Forbidden
    if order_by not in CATALOG:
        raise BadInput("INVALID_INDICATOR", ["orderBy"])
    reads = await context.db.reads()
    members = [
        each.id
        for each in await reads.tenancy.institutions()
        if each.kind is InstitutionKind.MEMBER
    ]
    return await dashboards.league(
        reads.performance, members, period, HEADLINES, order_by, today=context.today
    )


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

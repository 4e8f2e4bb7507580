"""Scoreboards: each staff member scored under the scheme that fits them, ranked, with shares
of the bonus pool and their change of rank since the previous period.

A closed period is read from its snapshot. An open one is computed on demand, every figure in
the database, and cached (see `freshness`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from jikuai.domain.performance import scoring
from jikuai.domain.performance.freshness import CACHE_SECONDS, generation
from jikuai.domain.performance.indicators import CATALOG, Reading, combine, readings
from jikuai.domain.performance.model import (
    IndicatorScore,
    Member,
    Scheme,
    StaffResult,
)
from jikuai.domain.performance.periods import Period
from jikuai.domain.performance.ports import PerformanceRepository, ResultCache
from jikuai.domain.shared.money import cents
from jikuai.domain.tenancy.model import Role

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Standing:
    """One line of a scoreboard."""

    result: StaffResult
    rank: int
    rank_change: int | None  # places gained since the previous period; None for a newcomer


@dataclass(frozen=True, slots=True)
class Scoreboard:
    institution_id: uuid.UUID
    period: Period
    role: Role
    as_of: date
    closed: bool
    results: tuple[StaffResult, ...]
    previous_scores: Mapping[uuid.UUID, Decimal] = field(default_factory=dict)
    names: Mapping[uuid.UUID, str] = field(default_factory=dict)

    def standings(self, branch_id: uuid.UUID | None = None) -> list[Standing]:
        """Best first, ranked among the staff shown: everyone, or one branch's staff."""
        shown = [r for r in self.results if branch_id is None or r.branch_id == branch_id]
        scores = {result.staff_id: result.total_score for result in shown}
        ranks = scoring.ranks(scores)
        previous = {
            staff_id: score
            for staff_id, score in self.previous_scores.items()
            if staff_id in scores or branch_id is None
        }
        changes = scoring.rank_changes(ranks, scoring.ranks(previous)) if previous else {}
        by_id = {result.staff_id: result for result in shown}
        return [
            Standing(by_id[staff_id], ranks[staff_id], changes.get(staff_id))
            for staff_id in scoring.ordered(scores, self.names)
        ]

    def result_of(self, staff_id: uuid.UUID) -> StaffResult | None:
        return next((r for r in self.results if r.staff_id == staff_id), None)


async def scoreboard(
    performance: PerformanceRepository,
    cache: ResultCache | None,
    *,
    institution_id: uuid.UUID,
    period: Period,
    role: Role,
    today: date,
) -> Scoreboard:
    """The role's scoreboard for the period, with each score's change since the one before;
    cached whole, in the shared cache and, decoded, in this process."""
    key = await _board_key(cache, institution_id, period, role, today)
    if cache is not None:
        if (recent := _RECENT.get(key)) is not None:
            return recent
        if (cached := await cache.get(key)) is not None:
            return _RECENT.put(key, _decode(cached, institution_id, period, role))
    current = await _board(performance, institution_id, period, role, today)
    board = Scoreboard(
        institution_id,
        period,
        role,
        current.as_of,
        current.closed,
        current.results,
        await _scores(performance, institution_id, period.previous(), role, today),
        current.names,
    )
    if cache is not None:
        await cache.set(key, _encode(board), ttl_seconds=CACHE_SECONDS)
        _RECENT.put(key, board)
    return board


class _Recent:
    """The boards this process decoded lately, by cache key. A key names the institution's
    cache generation, so an entry is never staler than the shared cache's; it also expires
    with it."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._boards: OrderedDict[str, tuple[float, Scoreboard]] = OrderedDict()

    def get(self, key: str) -> Scoreboard | None:
        found = self._boards.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        self._boards.move_to_end(key)
        return found[1]

    def put(self, key: str, board: Scoreboard) -> Scoreboard:
        self._boards[key] = (time.monotonic() + CACHE_SECONDS, board)
        self._boards.move_to_end(key)
        while len(self._boards) > self._size:
            self._boards.popitem(last=False)
        return board


_RECENT = _Recent(size=64)


async def compute(
    performance: PerformanceRepository,
    institution_id: uuid.UUID,
    period: Period,
    role: Role,
    today: date,
) -> Scoreboard:
    """Score every active staff member of the role under the scheme that fits them."""
    as_of = period.as_of(today)
    members = await performance.members(institution_id, role)
    schemes = await performance.current_schemes([institution_id], role=role, kind=period.kind)
    fitted = {member.staff_id: fit(schemes, member) for member in members}
    used = {scheme.id: scheme for scheme in fitted.values() if scheme is not None}
    plan = {
        item.code: readings(CATALOG[item.code].formula, period, as_of)
        for scheme in used.values()
        for item in scheme.indicators
    }
    wanted = [reading for needed in plan.values() for reading in needed]
    values = await performance.read([institution_id], wanted, by_staff=True)
    results = [
        score_member(member, scheme, values, plan)
        for member in members
        if (scheme := fitted[member.staff_id]) is not None
    ]
    return Scoreboard(
        institution_id,
        period,
        role,
        as_of,
        closed=False,
        results=tuple(_with_bonus(results, used)),
        names={member.staff_id: member.display_name for member in members},
    )


def fit(schemes: Sequence[Scheme], member: Member) -> Scheme | None:
    """The most specific scheme for the member: their own, their branch's, the institution's."""
    fitting = [
        (specificity, scheme)
        for scheme in schemes
        if (specificity := scheme.specificity(member.staff_id, member.branch_id)) is not None
    ]
    return max(fitting, key=lambda pair: pair[0])[1] if fitting else None


def score_member(
    member: Member,
    scheme: Scheme,
    values: Mapping[Reading, Mapping[uuid.UUID, Decimal]],
    plan: Mapping[str, Sequence[Reading]],
) -> StaffResult:
    """The member's result under the scheme; `plan` holds each indicator's readings."""
    scores = []
    for item in scheme.indicators:
        indicator = CATALOG[item.code]
        parts = [values[reading].get(member.staff_id, _ZERO) for reading in plan[item.code]]
        actual = indicator.rounded(combine(indicator.formula, parts))
        target = scheme.target_for(item, member.staff_id, member.branch_id)
        reached = scoring.attainment(
            actual, target, indicator.direction, ceiling=item.ceiling, floor=item.floor
        )
        scores.append(
            IndicatorScore(
                item.code,
                item.weight,
                actual,
                target,
                reached,
                scoring.score(item.weight, reached),
                tuple(cents(part) for part in parts),
            )
        )
    return StaffResult(
        staff_id=member.staff_id,
        branch_id=member.branch_id,
        scheme_id=scheme.id,
        total_score=scoring.total(item.score for item in scores),
        bonus_share=Decimal("0.00"),
        indicators=tuple(scores),
    )


def _with_bonus(
    results: Sequence[StaffResult], schemes: Mapping[uuid.UUID, Scheme]
) -> list[StaffResult]:
    """Each scheme's pool shared among the staff scored under it, in proportion to score."""
    by_scheme: dict[uuid.UUID, dict[uuid.UUID, Decimal]] = defaultdict(dict)
    for result in results:
        by_scheme[result.scheme_id][result.staff_id] = result.total_score
    shares: dict[uuid.UUID, Decimal] = {}
    for scheme_id, scores in by_scheme.items():
        shares |= scoring.bonus_shares(schemes[scheme_id].bonus_pool, scores)
    return [_replace_bonus(result, shares[result.staff_id]) for result in results]


def _replace_bonus(result: StaffResult, share: Decimal) -> StaffResult:
    return StaffResult(
        result.staff_id,
        result.branch_id,
        result.scheme_id,
        result.total_score,
        share,
        result.indicators,
    )


async def _board(
    performance: PerformanceRepository,
    institution_id: uuid.UUID,
    period: Period,
    role: Role,
    today: date,
) -> Scoreboard:
    """A closed period's snapshot, else the board computed now."""
    if await performance.closure(institution_id, period.name) is not None:
        frozen = await performance.snapshot(institution_id, period.name, role)
        members = await performance.members(institution_id, role)
        return Scoreboard(
            institution_id,
            period,
            role,
            period.end,
            closed=True,
            results=tuple(result for result, _rank in frozen),
            names={member.staff_id: member.display_name for member in members},
        )
    if period.start > today:
        return Scoreboard(institution_id, period, role, period.as_of(today), False, ())
    return await compute(performance, institution_id, period, role, today)


async def _scores(
    performance: PerformanceRepository,
    institution_id: uuid.UUID,
    period: Period,
    role: Role,
    today: date,
) -> dict[uuid.UUID, Decimal]:
    """Each staff member's total score of a period: all a rank change needs of it."""
    if await performance.closure(institution_id, period.name) is not None:
        return dict(await performance.snapshot_scores(institution_id, period.name, role))
    board = await _board(performance, institution_id, period, role, today)
    return {result.staff_id: result.total_score for result in board.results}


async def _board_key(
    cache: ResultCache | None, institution_id: uuid.UUID, period: Period, role: Role, today: date
) -> str:
    number = await generation(cache, institution_id) if cache else 0
    return f"performance:board:{institution_id}:{period.name}:{role.value}:{today}:{number}"


# The cache's form of a board ---------------------------------------------------------------------


def _encode(board: Scoreboard) -> bytes:
    return json.dumps(
        {
            "as_of": board.as_of.isoformat(),
            "closed": board.closed,
            "previous": {
                str(staff_id): str(score) for staff_id, score in board.previous_scores.items()
            },
            "names": {str(staff_id): name for staff_id, name in board.names.items()},
            "results": [
                [
                    str(result.staff_id),
                    result.branch_id and str(result.branch_id),
                    str(result.scheme_id),
                    str(result.total_score),
                    str(result.bonus_share),
                    [
                        [
                            item.code,
                            str(item.weight),
                            None if item.actual is None else str(item.actual),
                            str(item.target),
                            str(item.attainment),
                            str(item.score),
                            [str(part) for part in item.parts],
                        ]
                        for item in result.indicators
                    ],
                ]
                for result in board.results
            ],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _decode(data: bytes, institution_id: uuid.UUID, period: Period, role: Role) -> Scoreboard:
    body = json.loads(data)
    return Scoreboard(
        institution_id,
        period,
        role,
        date.fromisoformat(body["as_of"]),
        closed=body["closed"],
        results=tuple(
            StaffResult(
                uuid.UUID(staff_id),
                uuid.UUID(branch_id) if branch_id else None,
                uuid.UUID(scheme_id),
                Decimal(total),
                Decimal(bonus),
                tuple(
                    IndicatorScore(
                        code,
                        Decimal(weight),
                        None if actual is None else Decimal(actual),
                        Decimal(target),
                        Decimal(reached),
                        Decimal(points),
                        tuple(Decimal(part) for part in parts),
                    )
                    for code, weight, actual, target, reached, points, parts in indicators
                ),
            )
            for staff_id, branch_id, scheme_id, total, bonus, indicators in body["results"]
        ),
        previous_scores={
            uuid.UUID(staff_id): Decimal(score) for staff_id, score in body["previous"].items()
        },
        names={uuid.UUID(staff_id): name for staff_id, name in body["names"].items()},
    )

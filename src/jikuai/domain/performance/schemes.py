"""Assessment schemes (考核方案): create one, and revise it into a new version.

A scheme scores the staff of one role in an institution, or only in one branch, or one person;
the most specific applies. Its indicators' weights add up to 100. A revision keeps whom the
scheme applies to and changes what it asks; open periods are scored with the newest version,
closed periods keep the version they were scored with.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.performance.access import ASSESSED_ROLES, administers
from jikuai.domain.performance.freshness import forget_figures
from jikuai.domain.performance.indicators import CATALOG
from jikuai.domain.performance.model import Scheme, SchemeIndicator, Target
from jikuai.domain.performance.periods import PeriodKind
from jikuai.domain.performance.ports import ResultCache
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.shared.money import exact_cents
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role

TOTAL_WEIGHT = Decimal(100)
DEFAULT_CEILING = Decimal("1.2")
MAX_CEILING = Decimal(10)
MAX_BONUS_POOL = Decimal("100000000.00")
NAME_LENGTH = (1, 100)
MAX_TARGETS = 5000


@dataclass(frozen=True, slots=True)
class IndicatorTerms:
    """What the scheme asks of one indicator; `ceiling` and `floor` bound attainment."""

    code: str
    weight: Decimal
    target: Decimal
    ceiling: Decimal = DEFAULT_CEILING
    floor: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Terms:
    """What a scheme asks: shared by a new scheme and a revision."""

    name: str
    indicators: Sequence[IndicatorTerms]
    targets: Sequence[Target] = ()
    bonus_pool: Decimal = Decimal(0)
    active: bool = True


@dataclass(frozen=True, slots=True)
class CreateScheme:
    institution_id: uuid.UUID
    role: Role
    period_kind: PeriodKind
    terms: Terms
    branch_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ReviseScheme:
    scheme_id: uuid.UUID  # any version of the series; the revision follows the newest
    terms: Terms


async def create_scheme(
    uow: UnitOfWork,
    cache: ResultCache | None,
    actor: Actor,
    command: CreateScheme,
    *,
    request_id: str,
    now: datetime,
) -> Scheme:
    if not administers(actor, command.institution_id):
        raise PermissionDenied
    if command.role not in ASSESSED_ROLES:
        raise DomainError(ErrorCode.INVALID_ROLE, field=("role",))
    if command.branch_id is not None and command.staff_id is not None:
        raise DomainError(ErrorCode.INVALID_SUBJECT, field=("staffId",))
    async with uow:
        await _require_scope(uow, command)
        await _require_none_in_force(uow, command)
        scheme = await _versioned(
            uow,
            Scheme(
                id=new_id(),
                series_id=new_id(),
                version=1,
                institution_id=command.institution_id,
                name="",
                role=command.role,
                branch_id=command.branch_id,
                staff_id=command.staff_id,
                period_kind=command.period_kind,
                indicators=(),
                targets=(),
                bonus_pool=Decimal(0),
                active=True,
                created_by=actor.id if actor.is_staff else None,
                created_at=now,
            ),
            command.terms,
        )
        await uow.identity.add_audit_event(_audited(actor, scheme, request_id))
        await uow.commit()
    await forget_figures(cache, scheme.institution_id)
    return scheme


async def revise_scheme(
    uow: UnitOfWork,
    cache: ResultCache | None,
    actor: Actor,
    command: ReviseScheme,
    *,
    request_id: str,
    now: datetime,
) -> Scheme:
    async with uow:
        found = next(iter(await uow.performance.schemes_by_id([command.scheme_id])), None)
        if found is None or not actor.may_see_staff_of(found.institution_id):
            raise DomainError(ErrorCode.NOT_FOUND, field=("schemeId",))
        if not administers(actor, found.institution_id):
            raise PermissionDenied
        newest = (await uow.performance.scheme_versions(found.series_id))[0]
        revised = Scheme(
            **{name: getattr(newest, name) for name in newest.__slots__}
            | {
                "id": new_id(),
                "version": newest.version + 1,
                "created_by": actor.id if actor.is_staff else None,
                "created_at": now,
            }
        )
        scheme = await _versioned(uow, revised, command.terms)
        await uow.identity.add_audit_event(_audited(actor, scheme, request_id))
        await uow.commit()
    await forget_figures(cache, scheme.institution_id)
    return scheme


async def _versioned(uow: UnitOfWork, base: Scheme, terms: Terms) -> Scheme:
    """`base` with the validated terms, stored as its version."""
    await _require_target_owners(uow, base.institution_id, terms.targets)
    pool = exact_cents(terms.bonus_pool)  # to the fen, as it is stored and read back
    scheme = Scheme(
        **{name: getattr(base, name) for name in base.__slots__}
        | {
            "name": terms.name.strip(),
            "indicators": tuple(validated_indicators(terms.indicators)),
            "targets": tuple(terms.targets),
            "bonus_pool": terms.bonus_pool if pool is None else pool,
            "active": terms.active,
        }
    )
    validate_terms(scheme)
    if not await uow.performance.add_scheme(scheme):
        raise DomainError(ErrorCode.CONCURRENT_UPDATE)
    return scheme


def _audited(actor: Actor, scheme: Scheme, request_id: str) -> AuditEvent:
    """A new scheme, or a new version of one, in the audit trail: schemes decide pay."""
    return AuditEvent.of(
        actor,
        "assessment_scheme.create" if scheme.version == 1 else "assessment_scheme.revise",
        institution_id=scheme.institution_id,
        subject_type="AssessmentScheme",
        subject_id=str(scheme.id),
        request_id=request_id,
        now=scheme.created_at,
        details={"series": str(scheme.series_id), "version": scheme.version},
    )


def validated_indicators(items: Sequence[IndicatorTerms]) -> list[SchemeIndicator]:
    """Every problem of the list reported at once, each at its place."""
    errors: list[DomainError] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = ("indicators", str(index))
        if item.code not in CATALOG or item.code in seen:
            errors.append(DomainError(ErrorCode.INVALID_INDICATOR, field=(*where, "code")))
        seen.add(item.code)
        if item.target <= 0:
            errors.append(DomainError(ErrorCode.INVALID_TARGET, field=(*where, "target")))
        if not (1 <= item.ceiling <= MAX_CEILING and 0 <= item.floor < item.ceiling):
            errors.append(DomainError(ErrorCode.INVALID_BOUNDS, field=(*where, "ceiling")))
    weights = [item.weight for item in items]
    if not items or any(w <= 0 for w in weights) or sum(weights, Decimal(0)) != TOTAL_WEIGHT:
        errors.append(DomainError(ErrorCode.INVALID_WEIGHTS, field=("indicators",)))
    if errors:
        raise DomainErrors(errors)
    return [
        SchemeIndicator(item.code, item.weight, item.target, item.ceiling, item.floor)
        for item in items
    ]


def validate_terms(scheme: Scheme) -> None:
    errors: list[DomainError] = []
    if not NAME_LENGTH[0] <= len(scheme.name) <= NAME_LENGTH[1]:
        errors.append(DomainError(ErrorCode.INVALID_LENGTH, field=("name",)))
    pool = exact_cents(scheme.bonus_pool)
    if pool is None or not 0 <= pool <= MAX_BONUS_POOL:
        errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=("bonusPool",)))
    codes = {item.code for item in scheme.indicators}
    if len(scheme.targets) > MAX_TARGETS:
        errors.append(DomainError(ErrorCode.INVALID_QUANTITY, field=("targets",)))
    for index, target in enumerate(scheme.targets):
        where = ("targets", str(index))
        if target.code not in codes:
            errors.append(DomainError(ErrorCode.INVALID_INDICATOR, field=(*where, "code")))
        if target.value <= 0:
            errors.append(DomainError(ErrorCode.INVALID_TARGET, field=(*where, "value")))
        if (target.branch_id is None) == (target.staff_id is None):
            errors.append(DomainError(ErrorCode.INVALID_SUBJECT, field=(*where, "staffId")))
    if errors:
        raise DomainErrors(errors)


async def _require_scope(uow: UnitOfWork, command: CreateScheme) -> None:
    """The scheme's branch or person belongs to its institution (and has its role)."""
    if command.branch_id is not None:
        branches = await uow.tenancy.branches_by_id([command.branch_id])
        if not branches or branches[0].institution_id != command.institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("branchId",))
    if command.staff_id is not None:
        staff = await uow.tenancy.staff_by_id([command.staff_id])
        if not staff or staff[0].institution_id != command.institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("staffId",))
        if staff[0].role is not command.role:
            raise DomainError(ErrorCode.INVALID_ROLE, field=("staffId",))


async def _require_none_in_force(uow: UnitOfWork, command: CreateScheme) -> None:
    """One scheme in force per role, scope and period kind: a second would leave it to chance
    which one scores a person."""
    in_force = await uow.performance.current_schemes(
        [command.institution_id], role=command.role, kind=command.period_kind
    )
    if any(
        (scheme.branch_id, scheme.staff_id) == (command.branch_id, command.staff_id)
        for scheme in in_force
    ):
        raise DomainError(ErrorCode.SCHEME_EXISTS)


async def _require_target_owners(
    uow: UnitOfWork, institution_id: uuid.UUID, targets: Sequence[Target]
) -> None:
    branch_ids = list({t.branch_id for t in targets if t.branch_id is not None})
    staff_ids = list({t.staff_id for t in targets if t.staff_id is not None})
    branches = await uow.tenancy.branches_by_id(branch_ids) if branch_ids else []
    staff = await uow.tenancy.staff_by_id(staff_ids) if staff_ids else []
    known = {b.id for b in branches if b.institution_id == institution_id} | {
        s.id for s in staff if s.institution_id == institution_id
    }
    for index, target in enumerate(targets):
        owner = target.branch_id or target.staff_id
        if owner is not None and owner not in known:
            raise DomainError(ErrorCode.NOT_FOUND, field=("targets", str(index), "staffId"))

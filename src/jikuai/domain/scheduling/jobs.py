"""What each periodic job does: a thin call into its own context, and an account of the run
(counts to record, a sentence for the operator)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jikuai.domain.credit.monitoring import run_credit_daily
from jikuai.domain.customers.protection import CustomerVault
from jikuai.domain.customers.services import reencrypt_customers
from jikuai.domain.identity.services import reencrypt_session_keys
from jikuai.domain.merchants.protection import MerchantVault, reencrypt_merchants
from jikuai.domain.performance.closing import close_period
from jikuai.domain.performance.periods import Period, PeriodKind
from jikuai.domain.performance.ports import ResultCache
from jikuai.domain.performance.positions import record_positions
from jikuai.domain.points.expiry import expire_points, release_points
from jikuai.domain.points.redemption import lapse_overdue
from jikuai.domain.points.settlement import settle_day
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.villages.protection import HouseholdVault, reencrypt_households
from jikuai.security import FieldCipher

# Daily usage counters are kept for the day before too: a void just after midnight gives back
# to yesterday's count.
USAGE_DAYS_KEPT = 1


@dataclass(frozen=True, slots=True)
class JobServices:
    """The process-wide services jobs use."""

    cache: ResultCache
    cipher: FieldCipher
    vault: CustomerVault
    households: HouseholdVault


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job runs with: its business date, the moment it started, a connection's units of
    work, and the services."""

    on: date
    now: datetime
    unit_of_work: Callable[[], UnitOfWork]
    services: JobServices

    @property
    def today(self) -> date:
        return business_date(self.now)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run did: counts to record, and one sentence for the operator."""

    counts: Mapping[str, int]
    summary: str


JobFunction = Callable[[JobContext], Awaitable[Outcome]]


async def credit_daily(run: JobContext) -> Outcome:
    """Accrual, overdue, classification and early warnings."""
    result = await run_credit_daily(run.on, unit_of_work=run.unit_of_work, now=run.now)
    return Outcome(
        {
            "loans": result.loans,
            "overdue": result.overdue,
            "alerts_raised": result.alerts_raised,
            "applications_expired": result.applications_expired,
            "credit_lines_expired": result.credit_lines_expired,
        },
        f"credit-daily {result.business_date}: {result.loans} loans, {result.overdue} overdue, "
        f"{result.alerts_raised} alerts raised, "
        f"{result.applications_expired} applications and "
        f"{result.credit_lines_expired} credit lines expired",
    )


async def points_expiry(run: JobContext) -> Outcome:
    """Points whose last day came before the date expire."""
    result = await expire_points(run.on, unit_of_work=run.unit_of_work, now=run.now)
    return Outcome(
        {"customers": result.customers, "lots": result.lots, "points": result.points},
        f"points-expiry {run.on}: {result.points} points of {result.customers} customers expired",
    )


async def points_release(run: JobContext) -> Outcome:
    """Pending points due by the date become spendable; unconfirmed redemptions lapse."""
    result = await release_points(run.on, unit_of_work=run.unit_of_work, now=run.now)
    return Outcome(
        {"customers": result.customers, "lots": result.lots, "points": result.points},
        f"points-release {run.on}: {result.points} points of {result.customers} customers released",
    )


async def points_lapse(run: JobContext) -> Outcome:
    """Redemptions left unconfirmed past their window lapse and give their points back."""
    lapsed = await lapse_overdue(unit_of_work=run.unit_of_work, now=run.now, today=run.on)
    return Outcome({"redemptions": lapsed}, f"points-lapse {run.on}: {lapsed} redemptions lapsed")


async def merchant_settlement(run: JobContext) -> Outcome:
    """The day's redemptions, one settlement batch per merchant."""
    result = await settle_day(run.on, unit_of_work=run.unit_of_work, now=run.now, today=run.today)
    return Outcome(
        {"batches": result.batches, "points": result.points},
        f"merchant-settlement {run.on}: {result.batches} batches, {result.points} points, "
        f"CNY {result.amount}",
    )


async def performance_positions(run: JobContext) -> Outcome:
    """The day's end-of-day positions per manager, for the performance figures."""
    result = await record_positions(run.unit_of_work, run.services.cache, run.on, now=run.now)
    return Outcome(
        {"institutions": result.institutions, "positions": result.facts},
        f"performance-positions {run.on}: {result.facts} positions of "
        f"{result.institutions} institutions recorded",
    )


async def performance_close(run: JobContext) -> Outcome:
    """For each kind of period, the latest one over by the date is closed at every member
    institution with a scheme of that kind, unless it already is; a missed day is made up by
    the next one."""
    async with run.unit_of_work() as uow:
        members = [each.id for each in await uow.tenancy.institutions() if each.accepts_customers]
        schemes = await uow.performance.current_schemes(members, role=None, kind=None)
    assessed = sorted({(scheme.period_kind, scheme.institution_id) for scheme in schemes})
    closed = already_closed = results = 0
    for kind, institution_id in assessed:
        try:
            done = await close_period(
                run.unit_of_work(),
                run.services.cache,
                None,
                institution_id=institution_id,
                period=last_period_over(run.on, kind),
                today=run.today,
                now=run.now,
                request_id=f"performance-close:{run.on}",
            )
        except DomainError as error:
            if error.code is not ErrorCode.PERIOD_CLOSED:
                raise
            already_closed += 1
            continue
        closed += 1
        results += done.results
    return Outcome(
        {"closed": closed, "already_closed": already_closed, "results": results},
        f"performance-close {run.on}: {closed} periods closed with {results} results, "
        f"{already_closed} closed before",
    )


def last_period_over(on: date, kind: PeriodKind) -> Period:
    """The latest period of `kind` whose last day is `on` or before it."""
    period = Period.containing(on, kind)
    return period if period.end == on else period.previous()


async def reencrypt(run: JobContext) -> Outcome:
    """Whatever a rotated-out data key still protects, under the current one; nothing to do
    when nothing is under an old key."""
    customers = await reencrypt_customers(
        unit_of_work=run.unit_of_work, vault=run.services.vault, now=run.now
    )
    session_keys = await reencrypt_session_keys(
        unit_of_work=run.unit_of_work, cipher=run.services.cipher
    )
    merchants = await reencrypt_merchants(
        unit_of_work=run.unit_of_work, vault=MerchantVault(run.services.cipher), now=run.now
    )
    households = await reencrypt_households(
        unit_of_work=run.unit_of_work, vault=run.services.households, now=run.now
    )
    return Outcome(
        {
            "customers": customers,
            "session_keys": session_keys,
            "merchants": merchants,
            "households": households,
        },
        f"reencrypt {run.on}: {customers} customers, {session_keys} WeChat session keys, "
        f"{merchants} merchants and {households} village households re-encrypted",
    )


async def cleanup(run: JobContext) -> Outcome:
    """Rows nothing reads any more: refresh tokens past their expiry, idempotency keys past
    their 24 hours, and the daily points usage of days gone by. (Login throttles and redemption
    codes live in the cache, which forgets them by itself.)"""
    async with run.unit_of_work() as uow:
        tokens = await uow.identity.delete_expired_refresh_tokens(run.now)
        keys = await uow.redemptions.delete_expired_keys(run.now)
        usage = await uow.redemptions.delete_daily_usage(
            before=run.on - timedelta(days=USAGE_DAYS_KEPT)
        )
        await uow.commit()
    return Outcome(
        {"refresh_tokens": tokens, "idempotency_keys": keys, "daily_usage": usage},
        f"cleanup {run.on}: {tokens} refresh tokens, {keys} idempotency keys and {usage} daily "
        "usage counters deleted",
    )

"""What the scheduling centre's own jobs do: the clean-up of what has expired, and closing the
performance periods that are over."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from jikuai.domain.identity.model import RefreshToken
from jikuai.domain.scheduling.jobs import (
    JobContext,
    JobServices,
    Outcome,
    cleanup,
    performance_close,
)
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import ActorKind
from jikuai.persistence.tables.identity import refresh_tokens
from jikuai.persistence.tables.points import idempotency_keys, points_daily_usage
from jikuai.security.tokens import hash_secret, new_secret
from jikuai.worker import connection
from tests.support.performance import create_scheme, new_bank
from tests.support.stack import Stack

DEPOSITS = [{"code": "DEPOSIT_BALANCE", "weight": "100", "target": "1000000"}]


async def run_job(
    stack: Stack, work: Callable[[JobContext], Awaitable[Outcome]], on: date, now: datetime
) -> Outcome:
    services = stack.services
    async with connection(services.database) as unit_of_work:
        context = JobContext(
            on,
            now,
            unit_of_work,
            JobServices(services.cache, services.cipher, services.vault, services.households),
        )
        outcome: Outcome = await work(context)
    return outcome


async def present(stack: Stack, query: Select[Any]) -> bool:
    async with stack.services.database.primary.connect() as connection:
        return (await connection.execute(query)).first() is not None


async def test_cleanup_deletes_what_has_expired_and_keeps_what_has_not(stack: Stack) -> None:
    now = datetime.now(UTC)
    today = date(2030, 6, 15)
    owner, scope, result = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    expired, live = new_secret(), new_secret()
    async with connection(stack.services.database) as unit_of_work, unit_of_work() as uow:
        for secret, expires_at in (
            (expired, now - timedelta(seconds=1)),
            (live, now + timedelta(days=1)),
        ):
            await uow.identity.add_refresh_token(
                RefreshToken(
                    id=new_id(),
                    token_hash=hash_secret(secret),
                    family_id=new_id(),
                    actor_kind=ActorKind.STAFF,
                    actor_id=new_id(),
                    expires_at=expires_at,
                    created_at=now - timedelta(days=30),
                )
            )
        for key, expires_at in (
            ("old", now - timedelta(seconds=1)),
            ("new", now + timedelta(hours=1)),
        ):
            assert await uow.redemptions.claim_key(
                scope, key, request_hash=b"h" * 32, result_id=result, now=now, expires_at=expires_at
            )
        for day in (today - timedelta(days=2), today - timedelta(days=1), today):
            assert await uow.redemptions.use_daily(day, 10, {owner: 1000}) == set()
        await uow.commit()

    outcome = await run_job(stack, cleanup, today, now)

    def token(secret: str) -> Select[Any]:
        return select(refresh_tokens.c.id).where(refresh_tokens.c.token_hash == hash_secret(secret))

    def key(name: str) -> Select[Any]:
        keys = idempotency_keys.c
        return select(keys.key).where(keys.scope_id == scope, keys.key == name)

    def usage(day: date) -> Select[Any]:
        usages = points_daily_usage.c
        return select(usages.points).where(usages.owner_id == owner, usages.business_date == day)

    assert not await present(stack, token(expired))
    assert await present(stack, token(live))
    assert not await present(stack, key("old"))
    assert await present(stack, key("new"))
    assert not await present(stack, usage(today - timedelta(days=2)))
    assert await present(stack, usage(today - timedelta(days=1)))
    assert await present(stack, usage(today))
    assert min(outcome.counts.values()) >= 1


async def test_period_close_closes_the_periods_over_where_schemes_are_in_force(
    stack: Stack,
) -> None:
    bank = await new_bank(stack)
    await create_scheme(stack, bank, DEPOSITS)
    unassessed = await new_bank(stack)
    # The last day of January 2001: the month is over, the quarter and the year are not.
    on, now = date(2001, 1, 31), datetime.now(UTC)

    first = await run_job(stack, performance_close, on, now)
    again = await run_job(stack, performance_close, on, now)

    async with connection(stack.services.database) as unit_of_work, unit_of_work() as uow:
        closed = await uow.performance.closure(bank.institution.id, "2001-01")
        skipped = await uow.performance.closure(unassessed.institution.id, "2001-01")
    assert closed is not None
    assert closed.closed_by is None  # the scheduler
    assert skipped is None
    assert first.counts["closed"] >= 1
    assert again.counts["closed"] == 0
    assert again.counts["already_closed"] == first.counts["closed"] + first.counts["already_closed"]

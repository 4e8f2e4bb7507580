"""Repositories of the points ledger and of redemptions and settlements.

Balances change only through `post`: each entry moves its account's cached balance in the same
transaction that records it, and an entry that takes from a customer's spendable, pending or
held points is a conditional `UPDATE` that fails rather than go below zero.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Executable,
    Row,
    TextClause,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.merchants.model import MerchantStatus
from jikuai.domain.points.model import (
    GUARDED,
    AccountKind,
    Balances,
    EarningMethod,
    EarningRule,
    EventStatus,
    EventType,
    Expiring,
    ExpiryMode,
    Journal,
    JournalKind,
    Lot,
    LotState,
    LotUse,
    Movement,
    PointsEvent,
    PointsProgram,
    Redemption,
    RedemptionStatus,
    Settlement,
    SettlementStatus,
    account_id,
)
from jikuai.domain.points.ports import CustomerRef, PayableDay, Till
from jikuai.persistence.repositories.identity import insert_unless_exists
from jikuai.persistence.tables.merchants import merchants
from jikuai.persistence.tables.points import (
    earning_rules,
    idempotency_keys,
    merchant_settlements,
    points_accounts,
    points_daily_usage,
    points_entries,
    points_events,
    points_journals,
    points_lot_uses,
    points_lots,
    points_programs,
    redemptions,
)

# Customer accounts are posted before house accounts, which many transactions share: a hot
# row is then held only for the end of a transaction.
_POSTING_ORDER = {
    AccountKind.AVAILABLE: 0,
    AccountKind.HELD: 1,
    AccountKind.PENDING: 2,
    AccountKind.DEBT: 3,
    AccountKind.MERCHANT_PAYABLE: 4,
    AccountKind.EXPIRY_INCOME: 5,
    AccountKind.MERCHANT_SETTLED: 6,
    AccountKind.ISSUANCE: 7,
}
_COUNTED = (EventStatus.PENDING.value, EventStatus.POSTED.value)
_TAKEN = (RedemptionStatus.AWAITING_CONFIRMATION.value, RedemptionStatus.COMPLETED.value)
_PAYABLE_JOURNALS = (
    JournalKind.REDEEM.value,
    JournalKind.CAPTURE.value,
    JournalKind.VOID.value,
    JournalKind.REVERSE_REDEMPTION.value,
)

_DEBIT = (
    update(points_accounts)
    .where(
        points_accounts.c.id == bindparam("account"),
        points_accounts.c.balance + bindparam("amount") >= 0,
    )
    .values(balance=points_accounts.c.balance + bindparam("amount"))
)
_LOCK = (
    select(points_accounts.c.id)
    .where(points_accounts.c.id == bindparam("account"))
    .with_for_update(key_share=True)
)
_TOUCH = (
    update(points_accounts)
    .where(points_accounts.c.id == bindparam("account"))
    .values(balance=points_accounts.c.balance)
)
_SAVE_LOT = (
    update(points_lots)
    .where(points_lots.c.id == bindparam("lot"))
    .values(
        remaining=bindparam("remaining"), expired=bindparam("expired"), state=bindparam("state")
    )
)
_PROGRAM = select(points_programs).where(points_programs.c.institution_id == bindparam("id"))
# The redemption's read of the cashier's merchant and its institution's programme.
_TILL = (
    select(
        merchants.c.id.label("merchant_id"),
        merchants.c.institution_id.label("merchant_institution_id"),
        merchants.c.status.label("merchant_status"),
        *points_programs.c,
    )
    .outerjoin(points_programs, points_programs.c.institution_id == merchants.c.institution_id)
    .where(merchants.c.id == bindparam("id"))
)
_ADD_JOURNAL = insert(points_journals)
_ADD_ENTRIES = insert(points_entries)
_ADD_LOT = insert(points_lots)
_ADD_LOT_USES = insert(points_lot_uses)
_ADD_REDEMPTION = insert(redemptions)
_SPENDABLE = (
    select(points_lots)
    .where(
        points_lots.c.customer_id == bindparam("customer"),
        points_lots.c.state == LotState.ACTIVE.value,
        points_lots.c.expires_on >= bindparam("on"),
        points_lots.c.remaining > 0,
    )
    .order_by(points_lots.c.expires_on, points_lots.c.id)
)


def _typed(sql: str, *columns: Column[Any], **others: Any) -> TextClause:
    """A statement as text, its parameters typed like the columns they fill. SQLAlchemy does not
    cache the compiled form of an INSERT … ON CONFLICT, so on the hot paths these upserts are
    written once in the syntax PostgreSQL and SQLite share."""
    binds = [bindparam(column.name, type_=column.type) for column in columns]
    binds += [bindparam(name, type_=type_) for name, type_ in others.items()]
    return text(sql).bindparams(*binds)


_CREDIT = _typed(
    "INSERT INTO points_accounts (id, institution_id, kind, owner_id, balance)"
    " VALUES (:id, :institution_id, :kind, :owner_id, :balance)"
    " ON CONFLICT (id) DO UPDATE SET balance = points_accounts.balance + excluded.balance",
    points_accounts.c.id,
    points_accounts.c.institution_id,
    points_accounts.c.owner_id,
)
# A key past its 24 hours is free again: a claim takes it over.
_CLAIM_KEY = _typed(
    "INSERT INTO idempotency_keys (scope_id, key, request_hash, result_id, expires_at)"
    " VALUES (:scope_id, :key, :request_hash, :result_id, :expires_at)"
    " ON CONFLICT (scope_id, key) DO UPDATE SET request_hash = excluded.request_hash,"
    " result_id = excluded.result_id, expires_at = excluded.expires_at"
    " WHERE idempotency_keys.expires_at <= :now",
    idempotency_keys.c.scope_id,
    idempotency_keys.c.request_hash,
    idempotency_keys.c.result_id,
    idempotency_keys.c.expires_at,
    now=idempotency_keys.c.expires_at.type,
)


@lru_cache(maxsize=4)
def _use_daily(owners: int) -> TextClause:
    """Count points against the day's limits of `owners` owners in one statement, answering
    with the owners it counted for: an owner whose limit would pass is left as it was."""
    rows = ", ".join(f"(:owner_{n}, :business_date, :points)" for n in range(owners))
    limits = " ".join(f"WHEN :owner_{n} THEN :limit_{n}" for n in range(owners))
    owner_type = points_daily_usage.c.owner_id.type
    return _typed(
        f"INSERT INTO points_daily_usage (owner_id, business_date, points) VALUES {rows}"  # noqa: S608 - numbered placeholders only
        " ON CONFLICT (owner_id, business_date) DO UPDATE"
        " SET points = points_daily_usage.points + excluded.points"
        " WHERE points_daily_usage.points + excluded.points"
        f" <= CASE points_daily_usage.owner_id {limits} END"
        " RETURNING owner_id",
        points_daily_usage.c.business_date,
        points_daily_usage.c.points,
        **{f"owner_{n}": owner_type for n in range(owners)},
        **{f"limit_{n}": points_daily_usage.c.points.type for n in range(owners)},
    )


class SqlLedgerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def program(self, institution_id: uuid.UUID) -> PointsProgram | None:
        row = (await self._connection.execute(_PROGRAM, {"id": institution_id})).first()
        return PointsProgram(**row._mapping) if row else None

    async def save_program(self, program: PointsProgram) -> None:
        values = asdict(program)
        await self._connection.execute(
            _upsert(self._connection, points_programs, values, ["institution_id"], values)
        )

    async def rules(self, institution_ids: Sequence[uuid.UUID]) -> Sequence[EarningRule]:
        query = (
            select(earning_rules)
            .where(earning_rules.c.institution_id.in_(institution_ids))
            .order_by(earning_rules.c.institution_id, earning_rules.c.event_type)
        )
        return [_rule(row) for row in await self._connection.execute(query)]

    async def rule(self, institution_id: uuid.UUID, event_type: EventType) -> EarningRule | None:
        query = select(earning_rules).where(
            earning_rules.c.institution_id == institution_id,
            earning_rules.c.event_type == event_type.value,
        )
        row = (await self._connection.execute(query)).first()
        return _rule(row) if row else None

    async def save_rule(self, rule: EarningRule) -> None:
        values = asdict(rule) | {
            "event_type": rule.event_type.value,
            "method": rule.method.value,
            "expiry_mode": rule.expiry_mode.value,
        }
        changes = {name: value for name, value in values.items() if name != "id"}
        await self._connection.execute(
            _upsert(
                self._connection, earning_rules, values, ["institution_id", "event_type"], changes
            )
        )

    async def lock_customer(self, customer_id: uuid.UUID, institution_id: uuid.UUID) -> None:
        """A row lock on the spendable account on PostgreSQL (FOR NO KEY UPDATE). SQLite has
        none: a no-op write takes the database's write lock, which the driver begins the
        transaction with, so nothing read afterwards can change under the transaction."""
        available = account_id(customer_id, AccountKind.AVAILABLE)
        if await self._hold(available):
            return
        await self._connection.execute(
            insert_unless_exists(
                self._connection,
                points_accounts,
                {
                    "id": available,
                    "institution_id": institution_id,
                    "kind": AccountKind.AVAILABLE.value,
                    "owner_id": customer_id,
                    "balance": 0,
                },
                ["id"],
            )
        )
        await self._hold(available)

    async def _hold(self, account: uuid.UUID) -> bool:
        if self._connection.dialect.name == "sqlite":
            touched = await self._connection.execute(_TOUCH, {"account": account})
            return touched.rowcount == 1
        return (await self._connection.execute(_LOCK, {"account": account})).first() is not None

    async def post(self, journal: Journal) -> bool:
        for entry in sorted(journal.entries, key=lambda each: _POSTING_ORDER[each.kind]):
            if entry.kind in GUARDED and entry.amount < 0:
                debited = await self._connection.execute(
                    _DEBIT, {"account": entry.account_id, "amount": entry.amount}
                )
                if debited.rowcount != 1:
                    return False
                continue
            await self._connection.execute(
                _CREDIT,
                {
                    "id": entry.account_id,
                    "institution_id": journal.institution_id,
                    "kind": entry.kind.value,
                    "owner_id": entry.owner_id,
                    "balance": entry.amount,
                },
            )
        await self._connection.execute(
            _ADD_JOURNAL,
            {
                "id": journal.id,
                "institution_id": journal.institution_id,
                "kind": journal.kind.value,
                "customer_id": journal.customer_id,
                "merchant_id": journal.merchant_id,
                "event_id": journal.event_id,
                "redemption_id": journal.redemption_id,
                "points": journal.points,
                "business_date": journal.business_date,
                "created_at": journal.created_at,
            },
        )
        if journal.entries:  # one that moves nothing (a 0-point earning undone) has none
            await self._connection.execute(
                _ADD_ENTRIES,
                [
                    {
                        "journal_id": journal.id,
                        "account_id": entry.account_id,
                        "amount": entry.amount,
                    }
                    for entry in journal.entries
                ],
            )
        return True

    async def add_event(self, event: PointsEvent) -> bool:
        values = asdict(event) | {
            "event_type": event.event_type.value,
            "status": event.status.value,
        }
        inserted = await self._connection.execute(
            insert_unless_exists(
                self._connection,
                points_events,
                values,
                ["institution_id", "event_type", "source_ref"],
            )
        )
        return inserted.rowcount == 1

    async def event_by_source(
        self, institution_id: uuid.UUID, event_type: EventType, source_ref: str
    ) -> PointsEvent | None:
        query = select(points_events).where(
            points_events.c.institution_id == institution_id,
            points_events.c.event_type == event_type.value,
            points_events.c.source_ref == source_ref,
        )
        row = (await self._connection.execute(query)).first()
        return _event(row) if row else None

    async def events_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[PointsEvent]:
        query = select(points_events).where(points_events.c.id.in_(ids))
        found = {row.id: _event(row) for row in await self._connection.execute(query)}
        return [found[each] for each in ids if each in found]

    async def save_event(self, event: PointsEvent) -> None:
        await self._connection.execute(
            update(points_events)
            .where(points_events.c.id == event.id)
            .values(status=event.status.value, points=event.points, debt_settled=event.debt_settled)
        )

    async def earned(
        self, customer_id: uuid.UUID, event_type: EventType, on: date
    ) -> tuple[int, int, int]:
        month_start, year_start = on.replace(day=1), on.replace(month=1, day=1)
        points = points_events.c.points
        query = select(
            func.coalesce(func.sum(case((points_events.c.business_date == on, points))), 0),
            func.coalesce(
                func.sum(case((points_events.c.business_date >= month_start, points))), 0
            ),
            func.coalesce(func.sum(points), 0),
        ).where(
            points_events.c.customer_id == customer_id,
            points_events.c.event_type == event_type.value,
            points_events.c.business_date.between(year_start, on),
            points_events.c.status.in_(_COUNTED),
        )
        day, month, year = (await self._connection.execute(query)).one()
        return int(day), int(month), int(year)

    async def balances(self, customer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Balances]:
        kinds = (AccountKind.AVAILABLE, AccountKind.PENDING, AccountKind.HELD, AccountKind.DEBT)
        ids = [account_id(customer, kind) for customer in customer_ids for kind in kinds]
        query = select(
            points_accounts.c.owner_id, points_accounts.c.kind, points_accounts.c.balance
        ).where(points_accounts.c.id.in_(ids))
        held: dict[uuid.UUID, dict[str, int]] = {customer: {} for customer in customer_ids}
        for owner, kind, balance in await self._connection.execute(query):
            held[owner][kind] = int(balance)
        return {
            customer: Balances(
                available=by_kind.get(AccountKind.AVAILABLE, 0),
                pending=by_kind.get(AccountKind.PENDING, 0),
                held=by_kind.get(AccountKind.HELD, 0),
                debt=-by_kind.get(AccountKind.DEBT, 0),
            )
            for customer, by_kind in held.items()
        }

    async def add_lot(self, lot: Lot) -> None:
        await self._connection.execute(_ADD_LOT, _row(lot) | {"state": lot.state.value})

    async def lots_of_event(self, event_id: uuid.UUID) -> Sequence[Lot]:
        query = select(points_lots).where(points_lots.c.event_id == event_id)
        return [_lot(row) for row in await self._connection.execute(query)]

    async def lots_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Lot]:
        query = select(points_lots).where(points_lots.c.id.in_(ids))
        found = {row.id: _lot(row) for row in await self._connection.execute(query)}
        return [found[each] for each in ids if each in found]

    async def spendable_lots(self, customer_id: uuid.UUID, *, on: date) -> Sequence[Lot]:
        rows = await self._connection.execute(_SPENDABLE, {"customer": customer_id, "on": on})
        return [_lot(row) for row in rows]

    async def save_lots(self, lots: Sequence[Lot]) -> None:
        if lots:
            await self._connection.execute(
                _SAVE_LOT,
                [
                    {
                        "lot": lot.id,
                        "remaining": lot.remaining,
                        "expired": lot.expired,
                        "state": lot.state.value,
                    }
                    for lot in lots
                ],
            )

    async def customers_due(
        self, on: date, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[CustomerRef]:
        return await self._customers(_due(on), after, limit)

    async def lots_due(self, on: date, *, customer_ids: Sequence[uuid.UUID]) -> Sequence[Lot]:
        return await self._lots(_due(on), customer_ids)

    async def customers_expiring(
        self, before: date, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[CustomerRef]:
        return await self._customers(_expiring(before), after, limit)

    async def lots_expiring(
        self, before: date, *, customer_ids: Sequence[uuid.UUID]
    ) -> Sequence[Lot]:
        return await self._lots(_expiring(before), customer_ids)

    async def _customers(
        self, condition: Any, after: uuid.UUID | None, limit: int
    ) -> Sequence[CustomerRef]:
        query = select(points_lots.c.customer_id, points_lots.c.institution_id).where(condition)
        if after is not None:
            query = query.where(points_lots.c.customer_id > after)
        query = query.distinct().order_by(points_lots.c.customer_id).limit(limit)
        return [
            (row.customer_id, row.institution_id) for row in await self._connection.execute(query)
        ]

    async def _lots(self, condition: Any, customer_ids: Sequence[uuid.UUID]) -> Sequence[Lot]:
        query = (
            select(points_lots)
            .where(condition, points_lots.c.customer_id.in_(customer_ids))
            .order_by(points_lots.c.customer_id, points_lots.c.id)
        )
        return [_lot(row) for row in await self._connection.execute(query)]

    async def expiring(
        self, customer_id: uuid.UUID, *, since: date, until: date
    ) -> Sequence[Expiring]:
        query = (
            select(points_lots.c.expires_on, func.sum(points_lots.c.remaining))
            .where(
                points_lots.c.customer_id == customer_id,
                points_lots.c.state == LotState.ACTIVE.value,
                points_lots.c.remaining > 0,
                points_lots.c.expires_on.between(since, until),
            )
            .group_by(points_lots.c.expires_on)
            .order_by(points_lots.c.expires_on)
        )
        return [Expiring(int(points), on) for on, points in await self._connection.execute(query)]

    async def history(
        self, customer_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Movement]:
        # What a movement did to the customer: spendable, pending and debt together (a hold
        # shows as spent; its confirmation then moves nothing of theirs).
        mine = [
            account_id(customer_id, kind)
            for kind in (AccountKind.AVAILABLE, AccountKind.PENDING, AccountKind.DEBT)
        ]
        moved = func.sum(points_entries.c.amount)
        query = (
            select(
                points_journals.c.id,
                points_journals.c.kind,
                points_journals.c.business_date,
                points_journals.c.created_at,
                points_journals.c.merchant_id,
                points_journals.c.redemption_id,
                points_events.c.event_type,
                moved.label("moved"),
            )
            .join(
                points_entries,
                and_(
                    points_entries.c.journal_id == points_journals.c.id,
                    points_entries.c.account_id.in_(mine),
                ),
            )
            .outerjoin(points_events, points_events.c.id == points_journals.c.event_id)
            .where(points_journals.c.customer_id == customer_id)
            .group_by(
                points_journals.c.id,
                points_journals.c.kind,
                points_journals.c.business_date,
                points_journals.c.created_at,
                points_journals.c.merchant_id,
                points_journals.c.redemption_id,
                points_events.c.event_type,
            )
            .having(moved != 0)
            .order_by(points_journals.c.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(points_journals.c.id < after)
        return [
            Movement(
                id=row.id,
                kind=JournalKind(row.kind),
                points=int(row.moved),
                business_date=row.business_date,
                created_at=row.created_at,
                event_type=EventType(row.event_type) if row.event_type else None,
                merchant_id=row.merchant_id,
                redemption_id=row.redemption_id,
            )
            for row in await self._connection.execute(query)
        ]


class SqlRedemptionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def till(self, merchant_id: uuid.UUID) -> Till | None:
        row = (await self._connection.execute(_TILL, {"id": merchant_id})).first()
        if row is None:
            return None
        values = dict(row._mapping)
        merchant = {name: values.pop(name) for name in ("merchant_id", "merchant_institution_id")}
        status = values.pop("merchant_status")
        return Till(
            merchant_id=merchant["merchant_id"],
            institution_id=merchant["merchant_institution_id"],
            accepts_redemptions=status == MerchantStatus.APPROVED.value,
            program=PointsProgram(**values) if values["institution_id"] else None,
        )

    async def claim_key(
        self,
        scope_id: uuid.UUID,
        key: str,
        *,
        request_hash: bytes,
        result_id: uuid.UUID,
        now: datetime,
        expires_at: datetime,
    ) -> bool:
        claimed = await self._connection.execute(
            _CLAIM_KEY,
            {
                "scope_id": scope_id,
                "key": key,
                "request_hash": request_hash,
                "result_id": result_id,
                "expires_at": expires_at,
                "now": now,
            },
        )
        return claimed.rowcount == 1

    async def key_claim(
        self, scope_id: uuid.UUID, key: str, *, now: datetime
    ) -> tuple[bytes, uuid.UUID] | None:
        query = select(idempotency_keys.c.request_hash, idempotency_keys.c.result_id).where(
            idempotency_keys.c.scope_id == scope_id,
            idempotency_keys.c.key == key,
            idempotency_keys.c.expires_at > now,
        )
        row = (await self._connection.execute(query)).first()
        return (bytes(row.request_hash), row.result_id) if row else None

    async def use_daily(
        self, on: date, points: int, limits: Mapping[uuid.UUID, int]
    ) -> set[uuid.UUID]:
        over = {owner for owner, limit in limits.items() if points > limit}
        if over:
            return over
        owners = list(limits)
        params: dict[str, Any] = {"business_date": on, "points": points}
        for number, owner in enumerate(owners):
            params |= {f"owner_{number}": owner, f"limit_{number}": limits[owner]}
        counted = await self._connection.execute(_use_daily(len(owners)), params)
        return set(owners) - {_uuid(row[0]) for row in counted}

    async def return_daily(self, on: date, points: int, owners: Sequence[uuid.UUID]) -> None:
        await self._connection.execute(
            update(points_daily_usage)
            .where(
                points_daily_usage.c.owner_id.in_(owners),
                points_daily_usage.c.business_date == on,
            )
            .values(points=points_daily_usage.c.points - points)
        )

    async def delete_expired_keys(self, now: datetime) -> int:
        deleted = await self._connection.execute(
            delete(idempotency_keys).where(idempotency_keys.c.expires_at <= now)
        )
        return deleted.rowcount

    async def delete_daily_usage(self, *, before: date) -> int:
        deleted = await self._connection.execute(
            delete(points_daily_usage).where(points_daily_usage.c.business_date < before)
        )
        return deleted.rowcount

    async def add(self, redemption: Redemption) -> None:
        await self._connection.execute(
            _ADD_REDEMPTION, _row(redemption) | {"status": redemption.status.value}
        )

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Redemption]:
        query = select(redemptions).where(redemptions.c.id.in_(ids))
        found = {row.id: _redemption(row) for row in await self._connection.execute(query)}
        return [found[each] for each in ids if each in found]

    async def save_status(self, redemption: Redemption) -> None:
        await self._connection.execute(
            update(redemptions)
            .where(redemptions.c.id == redemption.id)
            .values(status=redemption.status.value, updated_at=redemption.updated_at)
        )

    async def add_lot_uses(self, uses: Sequence[LotUse]) -> None:
        await self._connection.execute(_ADD_LOT_USES, [_row(use) for use in uses])

    async def lot_uses(self, redemption_id: uuid.UUID) -> Sequence[LotUse]:
        query = (
            select(points_lot_uses)
            .where(points_lot_uses.c.redemption_id == redemption_id)
            .order_by(points_lot_uses.c.lot_id)
        )
        return [LotUse(**row._mapping) for row in await self._connection.execute(query)]

    async def reward_count(self, customer_id: uuid.UUID, reward_id: uuid.UUID) -> int:
        query = select(func.count()).where(
            redemptions.c.customer_id == customer_id,
            redemptions.c.reward_id == reward_id,
            redemptions.c.status.in_(_TAKEN),
        )
        return int(await self._connection.scalar(query) or 0)

    async def page(
        self,
        *,
        merchant_id: uuid.UUID | None,
        customer_id: uuid.UUID | None,
        institution_id: uuid.UUID | None,
        status: RedemptionStatus | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Redemption]:
        query = select(redemptions)
        for column, value in (
            (redemptions.c.merchant_id, merchant_id),
            (redemptions.c.customer_id, customer_id),
            (redemptions.c.institution_id, institution_id),
            (redemptions.c.status, status.value if status else None),
        ):
            if value is not None:
                query = query.where(column == value)
        if after is not None:
            query = query.where(redemptions.c.id < after)
        query = query.order_by(redemptions.c.id.desc()).limit(limit)
        return [_redemption(row) for row in await self._connection.execute(query)]

    async def awaiting_past(self, now: datetime, *, limit: int) -> Sequence[Redemption]:
        query = (
            select(redemptions)
            .where(
                redemptions.c.status == RedemptionStatus.AWAITING_CONFIRMATION.value,
                redemptions.c.confirm_by <= now,
            )
            .order_by(redemptions.c.confirm_by)
            .limit(limit)
        )
        return [_redemption(row) for row in await self._connection.execute(query)]

    async def day_totals(self, on: date) -> Sequence[PayableDay]:
        journals, entries, accounts = points_journals, points_entries, points_accounts
        moved = func.sum(entries.c.amount)
        counted = func.sum(case((entries.c.amount > 0, 1), else_=-1))
        query = (
            select(journals.c.institution_id, journals.c.merchant_id, moved, counted)
            .join(entries, entries.c.journal_id == journals.c.id)
            .join(
                accounts,
                and_(
                    accounts.c.id == entries.c.account_id,
                    accounts.c.kind == AccountKind.MERCHANT_PAYABLE.value,
                ),
            )
            .where(journals.c.business_date == on, journals.c.kind.in_(_PAYABLE_JOURNALS))
            .group_by(journals.c.institution_id, journals.c.merchant_id)
            .order_by(journals.c.merchant_id)
        )
        return [
            PayableDay(institution_id, merchant_id, int(count), int(points))
            for institution_id, merchant_id, points, count in await self._connection.execute(query)
        ]

    async def add_settlement(self, settlement: Settlement) -> bool:
        values = asdict(settlement) | {"status": settlement.status.value}
        inserted = await self._connection.execute(
            insert_unless_exists(
                self._connection, merchant_settlements, values, ["merchant_id", "business_date"]
            )
        )
        return inserted.rowcount == 1

    async def settlements_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Settlement]:
        query = select(merchant_settlements).where(merchant_settlements.c.id.in_(ids))
        found = {row.id: _settlement(row) for row in await self._connection.execute(query)}
        return [found[each] for each in ids if each in found]

    async def settlements_page(
        self,
        *,
        institution_id: uuid.UUID | None,
        merchant_id: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Settlement]:
        query = select(merchant_settlements)
        if institution_id is not None:
            query = query.where(merchant_settlements.c.institution_id == institution_id)
        if merchant_id is not None:
            query = query.where(merchant_settlements.c.merchant_id == merchant_id)
        if after is not None:
            query = query.where(merchant_settlements.c.id < after)
        query = query.order_by(merchant_settlements.c.id.desc()).limit(limit)
        return [_settlement(row) for row in await self._connection.execute(query)]

    async def mark_paid(
        self, settlement_id: uuid.UUID, *, by: uuid.UUID, at: datetime, reference: str
    ) -> bool:
        paid = await self._connection.execute(
            update(merchant_settlements)
            .where(
                merchant_settlements.c.id == settlement_id,
                merchant_settlements.c.status == SettlementStatus.UNPAID.value,
            )
            .values(
                status=SettlementStatus.PAID.value,
                paid_at=at,
                paid_by=by,
                payment_reference=reference,
            )
        )
        return paid.rowcount == 1


def _due(on: date) -> Any:
    return and_(points_lots.c.state == LotState.PENDING.value, points_lots.c.available_on <= on)


def _expiring(before: date) -> Any:
    return and_(
        points_lots.c.state == LotState.ACTIVE.value,
        points_lots.c.remaining > 0,
        points_lots.c.expires_on < before,
    )


def _upsert(
    connection: AsyncConnection,
    table: Any,
    values: dict[str, Any],
    unique: list[str],
    changes: dict[str, Any],
    *,
    where: Any = None,
) -> Executable:
    """INSERT … ON CONFLICT (unique) DO UPDATE SET changes [WHERE where], on both databases."""
    if connection.dialect.name == "postgresql":
        return (
            postgresql.insert(table)
            .values(**values)
            .on_conflict_do_update(index_elements=unique, set_=changes, where=where)
        )
    return (
        sqlite.insert(table)
        .values(**values)
        .on_conflict_do_update(index_elements=unique, set_=changes, where=where)
    )


def _uuid(value: Any) -> uuid.UUID:
    """A UUID as text returns it: a `uuid.UUID` from PostgreSQL, 32 hex digits from SQLite."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def _row(record: Any) -> dict[str, Any]:
    """A dataclass's fields as column values, without `asdict`'s deep copies."""
    return {field.name: getattr(record, field.name) for field in fields(record)}


def _rule(row: Row[Any]) -> EarningRule:
    values = dict(row._mapping)
    return EarningRule(
        **values
        | {
            "event_type": EventType(values["event_type"]),
            "method": EarningMethod(values["method"]),
            "expiry_mode": ExpiryMode(values["expiry_mode"]),
        }
    )


def _event(row: Row[Any]) -> PointsEvent:
    values = dict(row._mapping)
    return PointsEvent(
        **values
        | {"event_type": EventType(values["event_type"]), "status": EventStatus(values["status"])}
    )


def _lot(row: Row[Any]) -> Lot:
    values = dict(row._mapping)
    return Lot(**values | {"state": LotState(values["state"])})


def _redemption(row: Row[Any]) -> Redemption:
    values = dict(row._mapping)
    return Redemption(**values | {"status": RedemptionStatus(values["status"])})


def _settlement(row: Row[Any]) -> Settlement:
    values = dict(row._mapping)
    return Settlement(**values | {"status": SettlementStatus(values["status"])})

"""Redemption (核销): a cashier scans the customer's one-time code and takes points for a sum or
a benefit; large ones wait for the customer's confirmation; a cashier voids on the same day, and
staff reverse later.

A redemption is one transaction. Its first write claims the idempotency key; its next, the
guarded debit of the customer's spendable points, both locks them (two redemptions of one
customer queue) and makes spending more than the balance impossible. The code is read and
claimed in one cache round trip; a redemption that fails gives the code back for another try
within its minute.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jikuai.domain.identity.model import AuditEvent
from jikuai.domain.merchants.model import Reward
from jikuai.domain.points import codes
from jikuai.domain.points.access import POINTS_ADMINS
from jikuai.domain.points.ledger import journal
from jikuai.domain.points.lots import allocate
from jikuai.domain.points.model import (
    AccountKind,
    JournalKind,
    Lot,
    LotState,
    LotUse,
    Redemption,
    RedemptionStatus,
)
from jikuai.domain.points.ports import CodeStore
from jikuai.domain.points.program import default_program
from jikuai.domain.points.rules import MAX_POINTS
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.shared.idempotency import check_idempotency_key
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor

CODE_LIFETIME = timedelta(seconds=60)
# A code is remembered past its minute, so a late scan is told "expired", not "unknown".
CODE_MEMORY_SECONDS = 600
KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RedeemPoints:
    code: str
    idempotency_key: str
    points: int | None = None
    reward_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Redeemed:
    redemption: Redemption
    replayed: bool


class _KeyTaken(Exception):
    """Another redemption holds the idempotency key."""


async def create_code(*, actor: Actor, codes_store: CodeStore, now: datetime) -> IssuedCode:
    """A fresh one-time code for the customer's app to show as a QR code and digits."""
    if not actor.is_customer or actor.customer_id is None or actor.institution_id is None:
        raise PermissionDenied
    expires_at = now + CODE_LIFETIME
    record = json.dumps(
        {"c": str(actor.customer_id), "i": str(actor.institution_id), "e": expires_at.isoformat()}
    ).encode()
    while True:
        code = codes.new_code()
        if await codes_store.add(_code_key(code), record, ttl_seconds=CODE_MEMORY_SECONDS):
            return IssuedCode(code, expires_at)


async def redeem_points(
    command: RedeemPoints,
    *,
    actor: Actor,
    unit_of_work: Callable[[], UnitOfWork],
    codes_store: CodeStore,
    now: datetime,
    today: date,
) -> Redeemed:
    """Take points from the code's customer for the cashier's merchant. The same key with the
    same input answers with the first redemption; with another input, IDEMPOTENCY_KEY_REUSED."""
    if not actor.is_merchant or actor.merchant_id is None:
        raise PermissionDenied
    check_idempotency_key(command.idempotency_key)
    if (command.points is None) == (command.reward_id is None):
        raise DomainError(ErrorCode.INVALID_POINTS, field=("points",))
    if command.points is not None and not 1 <= command.points <= MAX_POINTS:
        raise DomainError(ErrorCode.INVALID_POINTS, field=("points",))
    request_hash = hashlib.sha256(
        f"{command.code}|{command.points}|{command.reward_id}".encode()
    ).digest()
    try:
        redemption = await _redeem(
            command, actor, actor.merchant_id, request_hash, unit_of_work(), codes_store, now, today
        )
        return Redeemed(redemption, replayed=False)
    except _KeyTaken:
        pass
    async with unit_of_work() as uow:
        claim = await uow.redemptions.key_claim(actor.merchant_id, command.idempotency_key, now=now)
        if claim is None or claim[0] != request_hash:
            raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, field=("idempotencyKey",))
        return Redeemed((await uow.redemptions.by_id([claim[1]]))[0], replayed=True)


async def _redeem(
    command: RedeemPoints,
    actor: Actor,
    merchant_id: uuid.UUID,
    request_hash: bytes,
    uow: UnitOfWork,
    codes_store: CodeStore,
    now: datetime,
    today: date,
) -> Redemption:
    redemption_id = new_id()
    async with uow:
        if not await uow.redemptions.claim_key(
            merchant_id,
            command.idempotency_key,
            request_hash=request_hash,
            result_id=redemption_id,
            now=now,
            expires_at=now + KEY_LIFETIME,
        ):
            raise _KeyTaken
        if not codes.is_well_formed(command.code):
            raise DomainError(ErrorCode.REDEMPTION_CODE_UNKNOWN, field=("code",))
        # The code's record is read and the code claimed for this redemption in one round trip.
        stored, claimed = await codes_store.read_and_claim(
            _code_key(command.code), _used_key(command.code), ttl_seconds=CODE_MEMORY_SECONDS
        )
        try:
            customer_id, institution_id = _issued_to(stored, actor, now)
            if not claimed:
                raise DomainError(ErrorCode.REDEMPTION_CODE_USED, field=("code",))
            scan = _Scan(merchant_id, actor.id, customer_id, institution_id)
            redemption = await _take(uow, command, redemption_id, scan, now, today)
            await uow.commit()
        except BaseException:
            if claimed:  # give the code back for another try within its minute
                await codes_store.delete(_used_key(command.code))
            raise
    return redemption


def _issued_to(stored: bytes | None, cashier: Actor, now: datetime) -> tuple[uuid.UUID, uuid.UUID]:
    """The customer and institution of a live code's record. A code of another institution's
    customer is unknown here, whatever its state: its points are not this merchant's to take,
    and a cashier learns nothing of it."""
    record = json.loads(stored) if stored is not None else None
    if record is None or record["i"] != str(cashier.institution_id):
        raise DomainError(ErrorCode.REDEMPTION_CODE_UNKNOWN, field=("code",))
    if now >= datetime.fromisoformat(record["e"]):
        raise DomainError(ErrorCode.REDEMPTION_CODE_EXPIRED, field=("code",))
    return uuid.UUID(record["c"]), uuid.UUID(record["i"])


@dataclass(frozen=True, slots=True)
class _Scan:
    """A code scanned at a till: the cashier's merchant and the customer it was issued to."""

    merchant_id: uuid.UUID
    operator_id: uuid.UUID
    customer_id: uuid.UUID
    institution_id: uuid.UUID


async def _take(
    uow: UnitOfWork,
    command: RedeemPoints,
    redemption_id: uuid.UUID,
    scan: _Scan,
    now: datetime,
    today: date,
) -> Redemption:
    till = await uow.redemptions.till(scan.merchant_id)
    if till is None or not till.accepts_redemptions:
        raise DomainError(ErrorCode.MERCHANT_NOT_ACTIVE)
    if till.institution_id != scan.institution_id:
        # Another institution's customer: its points are not this merchant's to take.
        raise DomainError(ErrorCode.REDEMPTION_CODE_UNKNOWN, field=("code",))
    reward = await _offered_reward(uow, command.reward_id, till.merchant_id, today)
    points = reward.price_points if reward else command.points or 0
    program = till.program or default_program(till.institution_id)
    awaiting = points > program.confirm_above_points
    customer_id = scan.customer_id
    receiving = (
        (customer_id, AccountKind.HELD)
        if awaiting
        else (till.merchant_id, AccountKind.MERCHANT_PAYABLE)
    )
    # The guarded debit of the spendable points comes first: it is also the customer's lock, so
    # their lots, limits and benefits taken are read and changed only after it.
    posted = await uow.ledger.post(
        journal(
            JournalKind.HOLD if awaiting else JournalKind.REDEEM,
            institution_id=scan.institution_id,
            points=points,
            on=today,
            now=now,
            customer_id=customer_id,
            merchant_id=till.merchant_id,
            redemption_id=redemption_id,
            entries=[(customer_id, AccountKind.AVAILABLE, -points), (*receiving, points)],
        )
    )
    lots = await uow.ledger.spendable_lots(customer_id, on=today) if posted else []
    # Points past their last day are in the balance until the expiry job runs, but not in lots.
    if sum(lot.remaining for lot in lots) < points:
        raise DomainError(ErrorCode.INSUFFICIENT_POINTS, field=("points",))
    if reward is not None:
        await _take_reward(uow, reward, customer_id)
    over = await uow.redemptions.use_daily(
        today,
        points,
        {
            customer_id: program.customer_daily_points,
            till.merchant_id: program.merchant_daily_points,
        },
    )
    if customer_id in over:
        raise DomainError(ErrorCode.CUSTOMER_DAILY_LIMIT, field=("points",))
    if till.merchant_id in over:
        raise DomainError(ErrorCode.MERCHANT_DAILY_LIMIT, field=("points",))
    redemption = Redemption(
        id=redemption_id,
        institution_id=scan.institution_id,
        merchant_id=till.merchant_id,
        operator_id=scan.operator_id,
        customer_id=customer_id,
        reward_id=reward.id if reward else None,
        points=points,
        code=command.code,
        status=RedemptionStatus.AWAITING_CONFIRMATION if awaiting else RedemptionStatus.COMPLETED,
        business_date=today,
        confirm_by=now + timedelta(seconds=program.confirm_window_seconds) if awaiting else None,
        created_at=now,
        updated_at=now,
    )
    await uow.redemptions.add(redemption)
    taken = allocate(lots, points)
    for lot, take in taken:
        lot.remaining -= take
    await uow.ledger.save_lots([lot for lot, _ in taken])
    await uow.redemptions.add_lot_uses([LotUse(redemption.id, lot.id, take) for lot, take in taken])
    return redemption


async def _offered_reward(
    uow: UnitOfWork, reward_id: uuid.UUID | None, merchant_id: uuid.UUID, today: date
) -> Reward | None:
    """The merchant's benefit asked for, if it is on offer today."""
    if reward_id is None:
        return None
    found = await uow.rewards.by_id([reward_id])
    if not found or found[0].merchant_id != merchant_id:
        raise DomainError(ErrorCode.NOT_FOUND, field=("rewardId",))
    if not found[0].offered_on(today):
        raise DomainError(ErrorCode.REWARD_NOT_OFFERED, field=("rewardId",))
    return found[0]


async def _take_reward(uow: UnitOfWork, reward: Reward, customer_id: uuid.UUID) -> None:
    """One of the benefit for the customer, within their limit and the stock; the customer is
    locked."""
    if reward.per_customer_limit is not None and (
        await uow.redemptions.reward_count(customer_id, reward.id) >= reward.per_customer_limit
    ):
        raise DomainError(ErrorCode.REWARD_LIMIT_REACHED, field=("rewardId",))
    if not await uow.rewards.take_stock(reward.id):
        raise DomainError(ErrorCode.OUT_OF_STOCK, field=("rewardId",))


async def confirm_redemption(
    redemption_id: uuid.UUID, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> Redemption:
    """The customer accepts a redemption waiting for them; after its window it has lapsed."""
    async with uow:
        redemption = await _customers_waiting(uow, actor, redemption_id)
        if now >= (redemption.confirm_by or now):
            await _undo(uow, redemption, RedemptionStatus.LAPSED, now=now, today=today)
            await uow.commit()
            raise DomainError(ErrorCode.REDEMPTION_LAPSED, field=("redemptionId",))
        await _post(
            uow,
            redemption,
            JournalKind.CAPTURE,
            (redemption.customer_id, AccountKind.HELD, -redemption.points),
            (redemption.merchant_id, AccountKind.MERCHANT_PAYABLE, redemption.points),
            now=now,
            today=today,
        )
        await _set_status(uow, redemption, RedemptionStatus.COMPLETED, now)
        await uow.commit()
    return redemption


async def decline_redemption(
    redemption_id: uuid.UUID, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> Redemption:
    """The customer refuses a redemption waiting for them: every point goes back. After its
    window it has lapsed, and is recorded so."""
    async with uow:
        redemption = await _customers_waiting(uow, actor, redemption_id)
        lapsed = now >= (redemption.confirm_by or now)
        status = RedemptionStatus.LAPSED if lapsed else RedemptionStatus.DECLINED
        await _undo(uow, redemption, status, now=now, today=today)
        await uow.commit()
    return redemption


async def void_redemption(
    redemption_id: uuid.UUID, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> Redemption:
    """The cashier undoes a redemption of today (撤销): the points go back to the lots they came
    from, the benefit to stock."""
    if not actor.is_merchant:
        raise PermissionDenied
    async with uow:
        redemption = await _locked(uow, redemption_id)
        if redemption is None or redemption.merchant_id != actor.merchant_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("redemptionId",))
        if redemption.business_date != today:
            raise DomainError(ErrorCode.VOID_WINDOW_CLOSED, field=("redemptionId",))
        await _undo(uow, redemption, RedemptionStatus.VOIDED, now=now, today=today)
        await uow.commit()
    return redemption


async def reverse_redemption(
    redemption_id: uuid.UUID,
    *,
    reason: str,
    actor: Actor,
    uow: UnitOfWork,
    request_id: str,
    now: datetime,
    today: date,
) -> Redemption:
    """Staff undo a completed redemption on any later day (a dispute), audited."""
    if not (actor.is_staff and actor.role in POINTS_ADMINS):
        raise PermissionDenied
    if not reason.strip():
        raise DomainError(ErrorCode.REQUIRED, field=("reason",))
    async with uow:
        redemption = await _locked(uow, redemption_id)
        if redemption is None or redemption.institution_id != actor.institution_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("redemptionId",))
        if redemption.status is not RedemptionStatus.COMPLETED:
            raise DomainError(ErrorCode.INVALID_STATE, field=("redemptionId",))
        await _undo(uow, redemption, RedemptionStatus.REVERSED, now=now, today=today)
        await uow.identity.add_audit_event(
            AuditEvent.of(
                actor,
                "redemption.reverse",
                institution_id=redemption.institution_id,
                subject_type="redemption",
                subject_id=str(redemption.id),
                request_id=request_id,
                now=now,
                details={"reason": reason.strip(), "points": redemption.points},
            )
        )
        await uow.commit()
    return redemption


async def lapse_overdue(
    *, unit_of_work: Callable[[], UnitOfWork], now: datetime, today: date, batch_size: int = 200
) -> int:
    """Give back the points of every redemption whose confirmation window closed unanswered.
    One transaction each: a redemption locks one customer, and so does this."""
    lapsed = 0
    while True:
        async with unit_of_work() as uow:
            overdue = await uow.redemptions.awaiting_past(now, limit=batch_size)
        for each in overdue:
            async with unit_of_work() as uow:
                redemption = await _locked(uow, each.id)
                if redemption and redemption.status is RedemptionStatus.AWAITING_CONFIRMATION:
                    await _undo(uow, redemption, RedemptionStatus.LAPSED, now=now, today=today)
                    await uow.commit()
                    lapsed += 1
        if len(overdue) < batch_size:
            return lapsed


async def _customers_waiting(uow: UnitOfWork, actor: Actor, redemption_id: uuid.UUID) -> Redemption:
    if not actor.is_customer:
        raise PermissionDenied
    redemption = await _locked(uow, redemption_id)
    if redemption is None or redemption.customer_id != actor.customer_id:
        raise DomainError(ErrorCode.NOT_FOUND, field=("redemptionId",))
    if redemption.status is not RedemptionStatus.AWAITING_CONFIRMATION:
        raise DomainError(ErrorCode.INVALID_STATE, field=("redemptionId",))
    return redemption


async def _locked(uow: UnitOfWork, redemption_id: uuid.UUID) -> Redemption | None:
    """The redemption, read again once its customer's points are locked."""
    found = await uow.redemptions.by_id([redemption_id])
    if not found:
        return None
    await uow.ledger.lock_customer(found[0].customer_id, found[0].institution_id)
    return (await uow.redemptions.by_id([redemption_id]))[0]


async def _undo(
    uow: UnitOfWork,
    redemption: Redemption,
    status: RedemptionStatus,
    *,
    now: datetime,
    today: date,
) -> None:
    """Every point back to the lots it came from, the benefit back to stock, the daily limits
    freed. A held redemption gives back from the hold, a completed one from the payable."""
    if redemption.status is RedemptionStatus.AWAITING_CONFIRMATION:
        kind = JournalKind.RELEASE_HOLD
        source = (redemption.customer_id, AccountKind.HELD, -redemption.points)
    elif redemption.status is RedemptionStatus.COMPLETED:
        kind = (
            JournalKind.REVERSE_REDEMPTION
            if status is RedemptionStatus.REVERSED
            else JournalKind.VOID
        )
        source = (redemption.merchant_id, AccountKind.MERCHANT_PAYABLE, -redemption.points)
    else:
        raise DomainError(ErrorCode.INVALID_STATE, field=("redemptionId",))
    back_to_lots, to_debt = await _restore_lots(uow, redemption, today)
    await _post(
        uow,
        redemption,
        kind,
        source,
        (redemption.customer_id, AccountKind.AVAILABLE, back_to_lots),
        (redemption.customer_id, AccountKind.DEBT, to_debt),
        now=now,
        today=today,
    )
    if redemption.reward_id is not None:
        await uow.rewards.return_stock(redemption.reward_id)
    await uow.redemptions.return_daily(
        redemption.business_date,
        redemption.points,
        [redemption.customer_id, redemption.merchant_id],
    )
    await _set_status(uow, redemption, status, now)


async def _restore_lots(uow: UnitOfWork, redemption: Redemption, today: date) -> tuple[int, int]:
    """Put a redemption's points back into the lots it took them from: (points now spendable,
    points that settle debt). A lot whose earning was reversed meanwhile takes none back: its
    points settle the debt that reversal left, and what the debt no longer needs becomes a new
    lot with the old one's expiry."""
    uses = await uow.redemptions.lot_uses(redemption.id)
    lots = {lot.id: lot for lot in await uow.ledger.lots_by_id([use.lot_id for use in uses])}
    debt = (await uow.ledger.balances([redemption.customer_id]))[redemption.customer_id].debt
    spendable = to_debt = 0
    for use in uses:
        lot = lots[use.lot_id]
        if lot.state is LotState.ACTIVE:
            lot.remaining += use.points
            spendable += use.points
            continue
        settles = min(debt - to_debt, use.points)
        to_debt += settles
        if use.points > settles:
            await uow.ledger.add_lot(
                Lot(
                    id=new_id(),
                    institution_id=lot.institution_id,
                    customer_id=lot.customer_id,
                    event_id=lot.event_id,
                    points=use.points - settles,
                    remaining=use.points - settles,
                    expired=0,
                    state=LotState.ACTIVE,
                    available_on=today,
                    expires_on=lot.expires_on,
                )
            )
            spendable += use.points - settles
    await uow.ledger.save_lots([lots[use.lot_id] for use in uses])
    return spendable, to_debt


async def _post(
    uow: UnitOfWork,
    redemption: Redemption,
    kind: JournalKind,
    *entries: tuple[uuid.UUID, AccountKind, int],
    now: datetime,
    today: date,
) -> None:
    posted = await uow.ledger.post(
        journal(
            kind,
            institution_id=redemption.institution_id,
            points=redemption.points,
            on=today,
            now=now,
            customer_id=redemption.customer_id,
            merchant_id=redemption.merchant_id,
            redemption_id=redemption.id,
            entries=list(entries),
        )
    )
    if not posted:
        raise RuntimeError(f"{kind} of redemption {redemption.id} overdrew a guarded account")


async def _set_status(
    uow: UnitOfWork, redemption: Redemption, status: RedemptionStatus, now: datetime
) -> None:
    redemption.status = status
    redemption.updated_at = now
    await uow.redemptions.save_status(redemption)


def _code_key(code: str) -> str:
    return f"redemption-code:{code}"


def _used_key(code: str) -> str:
    return f"redemption-code-used:{code}"

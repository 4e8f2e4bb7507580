"""What the points ledger needs from persistence.

Lock order, which keeps concurrent movements of one customer from interleaving: a use case first
locks the customer's points (`lock_customer`, or a guarded debit of their spendable points), then
reads and changes their lots; house accounts are posted last, so their rows are held briefly.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from jikuai.domain.points.model import (
    Balances,
    EarningRule,
    EventType,
    Expiring,
    Journal,
    Lot,
    LotUse,
    Movement,
    PointsEvent,
    PointsProgram,
    Redemption,
    RedemptionStatus,
    Settlement,
)


@dataclass(frozen=True, slots=True)
class PayableDay:
    """A merchant's day in its payable account: net points, and redemptions less undone ones."""

    institution_id: uuid.UUID
    merchant_id: uuid.UUID
    redemptions: int
    points: int


@dataclass(frozen=True, slots=True)
class Till:
    """What a redemption needs to know of the cashier's merchant: its institution, whether it
    may take points now, and the institution's programme (None until one is configured)."""

    merchant_id: uuid.UUID
    institution_id: uuid.UUID
    accepts_redemptions: bool
    program: PointsProgram | None


# (customer id, institution id)
CustomerRef = tuple[uuid.UUID, uuid.UUID]


class LedgerRepository(Protocol):
    async def program(self, institution_id: uuid.UUID) -> PointsProgram | None: ...
    async def save_program(self, program: PointsProgram) -> None: ...
    async def rules(self, institution_ids: Sequence[uuid.UUID]) -> Sequence[EarningRule]: ...
    async def rule(
        self, institution_id: uuid.UUID, event_type: EventType
    ) -> EarningRule | None: ...
    async def save_rule(self, rule: EarningRule) -> None:
        """Insert or replace the institution's rule for the rule's event type."""

    async def lock_customer(self, customer_id: uuid.UUID, institution_id: uuid.UUID) -> None:
        """Open the customer's points accounts if they are new, and hold them until the
        transaction ends."""

    async def post(self, journal: Journal) -> bool:
        """Record the journal and move every account's cached balance by its entry. False, with
        nothing applied, when a guarded account would go below zero."""

    async def add_event(self, event: PointsEvent) -> bool:
        """Insert; False when the institution already has an event of this type and source."""

    async def event_by_source(
        self, institution_id: uuid.UUID, event_type: EventType, source_ref: str
    ) -> PointsEvent | None: ...
    async def events_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[PointsEvent]: ...
    async def save_event(self, event: PointsEvent) -> None:
        """Store its status, points and debt settled."""

    async def earned(
        self, customer_id: uuid.UUID, event_type: EventType, on: date
    ) -> tuple[int, int, int]:
        """Points the customer earned by this event type on the day, in its month and its year,
        not counting cancelled or reversed events."""

    async def balances(self, customer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Balances]: ...
    async def add_lot(self, lot: Lot) -> None: ...
    async def lots_of_event(self, event_id: uuid.UUID) -> Sequence[Lot]: ...
    async def lots_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Lot]: ...
    async def spendable_lots(self, customer_id: uuid.UUID, *, on: date) -> Sequence[Lot]:
        """Active lots with points left that have not expired by `on`."""

    async def save_lots(self, lots: Sequence[Lot]) -> None:
        """Store remaining, expired and state."""

    async def customers_due(
        self, on: date, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[CustomerRef]:
        """Customers with pending lots that become spendable by `on`, in id order."""

    async def lots_due(self, on: date, *, customer_ids: Sequence[uuid.UUID]) -> Sequence[Lot]:
        """Their pending lots that become spendable by `on`, grouped by customer."""

    async def customers_expiring(
        self, before: date, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[CustomerRef]:
        """Customers with points left in active lots whose last day is before `before`."""

    async def lots_expiring(
        self, before: date, *, customer_ids: Sequence[uuid.UUID]
    ) -> Sequence[Lot]:
        """Their active lots with points left whose last day is before `before`, grouped by
        customer."""

    async def expiring(
        self, customer_id: uuid.UUID, *, since: date, until: date
    ) -> Sequence[Expiring]:
        """Spendable points by last day, for the last days from `since` to `until`; points past
        their last day are not spendable even before the expiry job has run."""

    async def history(
        self, customer_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Movement]:
        """The customer's movements, newest first."""


class RedemptionRepository(Protocol):
    async def till(self, merchant_id: uuid.UUID) -> Till | None:
        """The merchant and its institution's programme, in one read."""

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
        """Take an idempotency key for a result; False while another claim of it is live."""

    async def key_claim(
        self, scope_id: uuid.UUID, key: str, *, now: datetime
    ) -> tuple[bytes, uuid.UUID] | None:
        """The live claim of a key: its request hash and result."""

    async def use_daily(
        self, on: date, points: int, limits: Mapping[uuid.UUID, int]
    ) -> set[uuid.UUID]:
        """Count `points` against each owner's limit for the day, in one statement. The owners
        whose limit they would pass; then the caller rolls back what was counted."""

    async def return_daily(self, on: date, points: int, owners: Sequence[uuid.UUID]) -> None: ...
    async def delete_expired_keys(self, now: datetime) -> int:
        """Delete the idempotency keys past their life; how many."""

    async def delete_daily_usage(self, *, before: date) -> int:
        """Delete the daily usage counters of days before `before`; how many."""

    async def add(self, redemption: Redemption) -> None: ...
    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Redemption]: ...
    async def save_status(self, redemption: Redemption) -> None: ...
    async def add_lot_uses(self, uses: Sequence[LotUse]) -> None: ...
    async def lot_uses(self, redemption_id: uuid.UUID) -> Sequence[LotUse]: ...
    async def reward_count(self, customer_id: uuid.UUID, reward_id: uuid.UUID) -> int:
        """How many of this reward the customer holds, not counting undone redemptions."""

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
        """Newest first."""

    async def awaiting_past(self, now: datetime, *, limit: int) -> Sequence[Redemption]:
        """Redemptions still awaiting a confirmation whose window has closed."""

    async def day_totals(self, on: date) -> Sequence[PayableDay]:
        """Per merchant, what its redemptions moved into and out of its payable on the day."""

    async def add_settlement(self, settlement: Settlement) -> bool:
        """Insert; False when the merchant's day is already settled."""

    async def settlements_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Settlement]: ...
    async def settlements_page(
        self,
        *,
        institution_id: uuid.UUID | None,
        merchant_id: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Settlement]: ...
    async def mark_paid(
        self, settlement_id: uuid.UUID, *, by: uuid.UUID, at: datetime, reference: str
    ) -> bool:
        """UNPAID → PAID once; False when it was not unpaid."""


class CodeStore(Protocol):
    """Short-lived values shared by every server (the cache)."""

    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None: ...
    async def read_and_claim(
        self, key: str, claim: str, *, ttl_seconds: int
    ) -> tuple[bytes | None, bool]: ...
    async def add(self, key: str, value: bytes, *, ttl_seconds: int) -> bool: ...
    async def delete(self, key: str) -> None: ...

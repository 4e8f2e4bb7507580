"""Journals for each movement, written once so every use case moves points the same way."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from jikuai.domain.points.model import AccountKind, Entry, Journal, JournalKind
from jikuai.domain.shared.ids import new_id


def journal(
    kind: JournalKind,
    *,
    institution_id: uuid.UUID,
    points: int,
    on: date,
    now: datetime,
    entries: list[tuple[uuid.UUID, AccountKind, int]],
    customer_id: uuid.UUID | None = None,
    merchant_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    redemption_id: uuid.UUID | None = None,
) -> Journal:
    """A balanced journal of the non-zero `entries` (owner, account kind, amount)."""
    return Journal(
        id=new_id(),
        institution_id=institution_id,
        kind=kind,
        points=points,
        business_date=on,
        created_at=now,
        entries=tuple(Entry(owner, kind, amount) for owner, kind, amount in entries if amount),
        customer_id=customer_id,
        merchant_id=merchant_id,
        event_id=event_id,
        redemption_id=redemption_id,
    )

"""Whitelists and blacklists (白名单/黑名单), keyed by the blind index of an ID number.

The list never holds the ID number itself, only its blind index (the same one customers are
found by) and the masked form for screens. A whitelist entry may carry a pre-approved amount
(as whole-village credit gives); a blacklist entry fails admission while it is valid.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class ListKind(StrEnum):
    WHITELIST = "WHITELIST"
    BLACKLIST = "BLACKLIST"


@dataclass(slots=True)
class CreditListEntry:
    id: uuid.UUID
    institution_id: uuid.UUID
    kind: ListKind
    id_number_bidx: bytes
    id_number_masked: str
    source: str
    reason: str
    valid_from: date
    valid_until: date | None
    limit_amount: Decimal | None
    created_by: uuid.UUID | None  # None: whole-village credit's import from the command line
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_by: uuid.UUID | None = None

    def in_force(self, day: date) -> bool:
        return (
            self.revoked_at is None
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )

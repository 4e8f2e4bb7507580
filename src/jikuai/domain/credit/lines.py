"""Revolving credit lines (授信): a limit the customer draws on (用信) and repays into.

`used_amount` only changes through the repository's conditional update, so two simultaneous
drawdowns can never take the line past its limit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class CreditLineStatus(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


@dataclass(slots=True)
class CreditLine:
    id: uuid.UUID
    institution_id: uuid.UUID
    customer_id: uuid.UUID
    product_id: uuid.UUID
    application_id: uuid.UUID
    limit_amount: Decimal
    used_amount: Decimal
    annual_rate: Decimal
    contract_no: str
    valid_until: date
    status: CreditLineStatus
    created_at: datetime
    updated_at: datetime

    @property
    def available(self) -> Decimal:
        return self.limit_amount - self.used_amount

    def usable_on(self, day: date) -> bool:
        """Drawdowns mature by the line's last day, so the last day itself takes none."""
        return self.status is CreditLineStatus.ACTIVE and day < self.valid_until

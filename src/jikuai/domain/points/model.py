"""The points ledger's records: accounts, journals, events, lots, redemptions, settlements.

Every movement is a `Journal` whose entries sum to zero across accounts. A customer holds four
accounts (spendable, pending, held for a confirmation, and debt from clawed-back earnings); a
merchant one (what the institution owes it); an institution three (issued points, expired
points, points settled to merchants). Points are integers everywhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

ACCOUNT_NAMESPACE = uuid.UUID("5d0b7a52-2a8f-4b43-9a55-1f3c0c3e9d10")


class EventType(StrEnum):
    DEPOSIT_MONTHLY_AVERAGE = "DEPOSIT_MONTHLY_AVERAGE"
    ON_TIME_REPAYMENT = "ON_TIME_REPAYMENT"
    SOCIAL_SECURITY_CARD_ACTIVATION = "SOCIAL_SECURITY_CARD_ACTIVATION"
    REFERRAL = "REFERRAL"
    CAMPAIGN = "CAMPAIGN"
    MANUAL_ADJUSTMENT = "MANUAL_ADJUSTMENT"


# Event types whose points the caller states; the others are computed by the rule.
DIRECT_AWARDS = frozenset({EventType.CAMPAIGN, EventType.MANUAL_ADJUSTMENT})


class EarningMethod(StrEnum):
    PER_CNY = "PER_CNY"
    FIXED = "FIXED"
    DIRECT = "DIRECT"


class ExpiryMode(StrEnum):
    ROLLING_MONTHS = "ROLLING_MONTHS"  # N months after the earning
    END_OF_YEAR = "END_OF_YEAR"  # 31 December, N years after the earning's year


class AccountKind(StrEnum):
    AVAILABLE = "AVAILABLE"
    PENDING = "PENDING"
    HELD = "HELD"
    DEBT = "DEBT"
    MERCHANT_PAYABLE = "MERCHANT_PAYABLE"
    ISSUANCE = "ISSUANCE"
    EXPIRY_INCOME = "EXPIRY_INCOME"
    MERCHANT_SETTLED = "MERCHANT_SETTLED"


# Accounts that can never go below zero: what a customer can spend, is waiting for, or has held.
GUARDED = frozenset({AccountKind.AVAILABLE, AccountKind.PENDING, AccountKind.HELD})


class JournalKind(StrEnum):
    EARN = "EARN"
    RELEASE = "RELEASE"  # pending points become spendable
    CANCEL = "CANCEL"  # a pending earning cancelled in its window
    REVERSE_EARNING = "REVERSE_EARNING"
    REDEEM = "REDEEM"
    HOLD = "HOLD"  # a redemption waiting for the customer's confirmation
    CAPTURE = "CAPTURE"  # the customer confirmed
    RELEASE_HOLD = "RELEASE_HOLD"  # declined, lapsed or voided before confirmation
    VOID = "VOID"  # the merchant voided a redemption the same day
    REVERSE_REDEMPTION = "REVERSE_REDEMPTION"
    EXPIRE = "EXPIRE"
    SETTLE = "SETTLE"  # a settlement batch paid to the merchant


class EventStatus(StrEnum):
    PENDING = "PENDING"
    POSTED = "POSTED"
    CANCELLED = "CANCELLED"
    REVERSED = "REVERSED"


class LotState(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"
    REVERSED = "REVERSED"


class RedemptionStatus(StrEnum):
    AWAITING_CONFIRMATION = "AWAITING_CONFIRMATION"
    COMPLETED = "COMPLETED"
    DECLINED = "DECLINED"
    LAPSED = "LAPSED"
    VOIDED = "VOIDED"
    REVERSED = "REVERSED"


class SettlementStatus(StrEnum):
    UNPAID = "UNPAID"
    PAID = "PAID"


def account_id(owner_id: uuid.UUID, kind: AccountKind) -> uuid.UUID:
    """An account's id follows from its owner and kind: postings need no lookup to find it."""
    return uuid.uuid5(ACCOUNT_NAMESPACE, f"{owner_id}:{kind.value}")


@dataclass(frozen=True, slots=True)
class Entry:
    owner_id: uuid.UUID
    kind: AccountKind
    amount: int

    @property
    def account_id(self) -> uuid.UUID:
        return account_id(self.owner_id, self.kind)


@dataclass(frozen=True, slots=True)
class Journal:
    """One balanced movement. `points` is its size as the customer's history shows it."""

    id: uuid.UUID
    institution_id: uuid.UUID
    kind: JournalKind
    points: int
    business_date: date
    created_at: datetime
    entries: tuple[Entry, ...]
    customer_id: uuid.UUID | None = None
    merchant_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None
    redemption_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if sum(entry.amount for entry in self.entries) != 0:
            raise ValueError(f"unbalanced {self.kind} journal: {self.entries}")
        if len({entry.account_id for entry in self.entries}) != len(self.entries):
            raise ValueError(f"{self.kind} journal names an account twice")


@dataclass(frozen=True, slots=True)
class PointsProgram:
    """An institution's settings: the CNY value of a point (what merchants are paid), the size
    above which the customer confirms a redemption, and the daily redemption limits."""

    institution_id: uuid.UUID
    cny_per_point: Decimal
    confirm_above_points: int
    confirm_window_seconds: int
    customer_daily_points: int
    merchant_daily_points: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EarningRule:
    id: uuid.UUID
    institution_id: uuid.UUID
    event_type: EventType
    method: EarningMethod
    points_per_cny: Decimal | None
    fixed_points: int | None
    daily_cap: int | None
    monthly_cap: int | None
    yearly_cap: int | None
    pending_days: int
    expiry_mode: ExpiryMode
    expiry_period: int
    active: bool
    updated_at: datetime


@dataclass(slots=True)
class PointsEvent:
    """Something the bank's systems report that earns points; one per (type, source ref)."""

    id: uuid.UUID
    institution_id: uuid.UUID
    customer_id: uuid.UUID
    event_type: EventType
    source_ref: str
    amount: Decimal | None
    requested_points: int | None  # what a CAMPAIGN or MANUAL_ADJUSTMENT asked for
    points: int  # what was awarded, after the caps
    debt_settled: int
    capped: bool
    status: EventStatus
    business_date: date
    recorded_by: uuid.UUID
    created_at: datetime


@dataclass(slots=True)
class Lot:
    """The points one earning credited, as they are spent, expire or are clawed back."""

    id: uuid.UUID
    institution_id: uuid.UUID
    customer_id: uuid.UUID
    event_id: uuid.UUID
    points: int
    remaining: int
    expired: int
    state: LotState
    available_on: date
    expires_on: date


@dataclass(frozen=True, slots=True)
class LotUse:
    redemption_id: uuid.UUID
    lot_id: uuid.UUID
    points: int


@dataclass(slots=True)
class Redemption:
    id: uuid.UUID
    institution_id: uuid.UUID
    merchant_id: uuid.UUID
    operator_id: uuid.UUID
    customer_id: uuid.UUID
    reward_id: uuid.UUID | None
    points: int
    code: str
    status: RedemptionStatus
    business_date: date
    confirm_by: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Settlement:
    """One merchant's redemptions of one business day, in points and in CNY."""

    id: uuid.UUID
    institution_id: uuid.UUID
    merchant_id: uuid.UUID
    business_date: date
    redemptions: int
    points: int
    cny_per_point: Decimal
    amount: Decimal
    status: SettlementStatus
    created_at: datetime
    paid_at: datetime | None = None
    paid_by: uuid.UUID | None = None
    payment_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Balances:
    """A customer's points as the app shows them; `debt` is what clawed-back earnings left."""

    available: int = 0
    pending: int = 0
    held: int = 0
    debt: int = 0


@dataclass(frozen=True, slots=True)
class Expiring:
    points: int
    on: date


@dataclass(frozen=True, slots=True)
class Movement:
    """One line of a customer's points history: a journal as it changed their points."""

    id: uuid.UUID
    kind: JournalKind
    points: int  # signed: what it did to the spendable and pending points together
    business_date: date
    created_at: datetime
    event_type: EventType | None = None
    merchant_id: uuid.UUID | None = None
    redemption_id: uuid.UUID | None = None

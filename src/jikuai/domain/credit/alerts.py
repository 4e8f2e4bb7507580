"""Early warnings (预警): rules over a loan's state on a business date raise risk alerts.

Each alert has a dedupe key naming the episode it is about (the due date that went unpaid, the
maturity date, the blacklist entry), so the daily pass may run any number of times for a date
and raises each alert once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from jikuai.domain.credit.model import ClassificationThresholds, Loan, LoanInstallment, LoanStatus

MATURITY_WARNING_DAYS = 7
CLASSIFICATION_WARNING_DAYS = 7


class AlertKind(StrEnum):
    OVERDUE_STARTED = "OVERDUE_STARTED"  # 逾期发生
    NEARING_SPECIAL_MENTION = "NEARING_SPECIAL_MENTION"  # an installment falls due soon, unpaid
    NEARING_SUBSTANDARD = "NEARING_SUBSTANDARD"  # days past due approach 次级
    MATURITY_SOON = "MATURITY_SOON"  # 到期提醒
    BLACKLISTED_BORROWER = "BLACKLISTED_BORROWER"  # a current borrower is on the blacklist


class AlertStatus(StrEnum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    CLOSED = "CLOSED"


@dataclass(frozen=True, slots=True)
class Signal:
    """An alert a rule wants raised, before it is known whether it was raised already."""

    kind: AlertKind
    dedupe_key: str
    details: dict[str, Any]


@dataclass(slots=True)
class RiskAlert:
    id: uuid.UUID
    institution_id: uuid.UUID
    loan_id: uuid.UUID
    customer_id: uuid.UUID
    kind: AlertKind
    dedupe_key: str
    business_date: date
    details: dict[str, Any]
    status: AlertStatus
    assignee_id: uuid.UUID | None
    note: str | None
    created_at: datetime
    updated_at: datetime


def signals(
    loan: Loan,
    installments: list[LoanInstallment],
    on: date,
    thresholds: ClassificationThresholds,
    *,
    blacklist_entry: uuid.UUID | None,
) -> list[Signal]:
    """Every warning the loan's state on `on` calls for; `refresh_status` has run first."""
    if loan.status is not LoanStatus.ACTIVE:
        return []
    found = []
    unpaid = [each for each in installments if not each.is_paid]
    if loan.days_past_due > 0 and unpaid:
        oldest = unpaid[0].due_date.isoformat()
        found.append(Signal(AlertKind.OVERDUE_STARTED, f"overdue:{oldest}", {"dueDate": oldest}))
        to_substandard = thresholds.substandard - loan.days_past_due
        if 0 < to_substandard <= CLASSIFICATION_WARNING_DAYS:
            found.append(
                Signal(
                    AlertKind.NEARING_SUBSTANDARD,
                    f"substandard:{oldest}",
                    {"daysPastDue": loan.days_past_due, "daysLeft": to_substandard},
                )
            )
    upcoming = [each for each in unpaid if 0 <= (each.due_date - on).days <= 3]
    if loan.days_past_due == 0 and upcoming and upcoming[0].due_date != loan.maturity_date:
        due = upcoming[0].due_date.isoformat()
        found.append(Signal(AlertKind.NEARING_SPECIAL_MENTION, f"due:{due}", {"dueDate": due}))
    if 0 <= (loan.maturity_date - on).days <= MATURITY_WARNING_DAYS:
        maturity = loan.maturity_date.isoformat()
        found.append(
            Signal(AlertKind.MATURITY_SOON, f"maturity:{maturity}", {"maturityDate": maturity})
        )
    if blacklist_entry is not None:
        found.append(
            Signal(
                AlertKind.BLACKLISTED_BORROWER,
                f"blacklist:{blacklist_entry}",
                {"entry": str(blacklist_entry)},
            )
        )
    return found

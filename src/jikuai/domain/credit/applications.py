"""Loan applications (贷款申请) and the states they move through.

DRAFT → SUBMITTED → AUTO_APPROVED | MANUAL_REVIEW | REJECTED → APPROVED → CONTRACT_SIGNED →
DISBURSED, and WITHDRAWN or EXPIRED from any state that still waits on someone. Every move is a
`Transition` (who, when, why); a move the table does not allow is `INVALID_STATE`. An approved
revolving application ends at APPROVED: its credit line (授信) opens with the approval, and the
money moves by drawdowns (用信).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from jikuai.domain.credit.model import RepaymentMethod
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor, ActorKind


class ApplicationState(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    AUTO_APPROVED = "AUTO_APPROVED"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    REJECTED = "REJECTED"
    APPROVED = "APPROVED"
    CONTRACT_SIGNED = "CONTRACT_SIGNED"
    DISBURSED = "DISBURSED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"


_S = ApplicationState
ALLOWED: dict[ApplicationState, frozenset[ApplicationState]] = {
    _S.DRAFT: frozenset({_S.SUBMITTED, _S.WITHDRAWN, _S.EXPIRED}),
    _S.SUBMITTED: frozenset({_S.AUTO_APPROVED, _S.MANUAL_REVIEW, _S.REJECTED, _S.WITHDRAWN}),
    _S.AUTO_APPROVED: frozenset({_S.APPROVED}),
    _S.MANUAL_REVIEW: frozenset({_S.APPROVED, _S.REJECTED, _S.WITHDRAWN, _S.EXPIRED}),
    _S.APPROVED: frozenset({_S.CONTRACT_SIGNED, _S.WITHDRAWN, _S.EXPIRED}),
    _S.CONTRACT_SIGNED: frozenset({_S.DISBURSED, _S.WITHDRAWN, _S.EXPIRED}),
}


@dataclass(frozen=True, slots=True)
class Transition:
    id: uuid.UUID
    application_id: uuid.UUID
    institution_id: uuid.UUID
    from_state: ApplicationState | None
    to_state: ApplicationState
    actor_kind: ActorKind | None  # None: the system (the daily job)
    actor_id: uuid.UUID | None
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Contract:
    """The terms fixed when the customer signs (签约): the rate comes from that day's LPR."""

    contract_no: str
    annual_rate: Decimal
    lpr_rate: Decimal | None
    lpr_published_on: date | None
    signed_at: datetime


@dataclass(slots=True)
class LoanApplication:
    id: uuid.UUID
    institution_id: uuid.UUID
    customer_id: uuid.UUID
    product_id: uuid.UUID
    amount: Decimal
    term_months: int | None
    method: RepaymentMethod
    purpose: str
    annual_income: Decimal
    monthly_debt_payments: Decimal
    state: ApplicationState
    decision: dict[str, Any]
    approved_amount: Decimal | None
    approved_term_months: int | None
    submitted_by_staff_id: uuid.UUID | None
    reviewed_by_staff_id: uuid.UUID | None
    contract: Contract | None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def approved_terms(self) -> tuple[Decimal, int | None]:
        """The approved amount and term; INVALID_STATE before an approval."""
        if self.approved_amount is None:
            raise DomainError(ErrorCode.INVALID_STATE)
        return self.approved_amount, self.approved_term_months

    def move(
        self, to: ApplicationState, *, actor: Actor | None, reason: str | None, now: datetime
    ) -> Transition:
        """Change state, or raise INVALID_STATE; the caller stores the returned transition."""
        if to not in ALLOWED.get(self.state, frozenset()):
            raise DomainError(ErrorCode.INVALID_STATE)
        transition = Transition(
            id=new_id(),
            application_id=self.id,
            institution_id=self.institution_id,
            from_state=self.state,
            to_state=to,
            actor_kind=actor.kind if actor else None,
            actor_id=actor.id if actor else None,
            reason=reason,
            created_at=now,
        )
        self.state = to
        self.updated_at = now
        return transition

    def created(self, *, actor: Actor, now: datetime) -> Transition:
        """The first transition, into the state the application was created in."""
        return Transition(
            new_id(),
            self.id,
            self.institution_id,
            None,
            self.state,
            actor.kind,
            actor.id,
            None,
            now,
        )

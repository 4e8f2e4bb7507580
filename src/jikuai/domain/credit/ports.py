"""The persistence retail credit needs, declared as protocols; `persistence/` implements them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from jikuai.domain.credit.alerts import AlertKind, AlertStatus, RiskAlert
from jikuai.domain.credit.applications import ApplicationState, LoanApplication, Transition
from jikuai.domain.credit.lines import CreditLine
from jikuai.domain.credit.lists import CreditListEntry, ListKind
from jikuai.domain.credit.model import Loan, LoanInstallment, LoanStatus
from jikuai.domain.credit.products import LoanProduct, LprRate, LprTenor
from jikuai.domain.tenancy.actors import ActorKind


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    institution_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    states: tuple[ApplicationState, ...] = ()


@dataclass(frozen=True, slots=True)
class LoanFilter:
    institution_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    status: LoanStatus | None = None
    overdue_only: bool = False


@dataclass(frozen=True, slots=True)
class AlertFilter:
    institution_id: uuid.UUID | None = None
    statuses: tuple[AlertStatus, ...] = ()
    kinds: tuple[AlertKind, ...] = ()
    assignee_id: uuid.UUID | None = None
    loan_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class InstallmentHistory:
    """One past installment of a customer, as much as the 连三累六 rule needs."""

    due_date: date
    paid_on: date | None
    grace_days: int


@dataclass(frozen=True, slots=True)
class RepaymentRecord:
    """A repayment as booked: the cash and how it was allocated (还款流水)."""

    id: uuid.UUID
    institution_id: uuid.UUID
    loan_id: uuid.UUID
    idempotency_key: str
    amount: Decimal
    paid_on: date
    principal_paid: Decimal
    interest_paid: Decimal
    penalty_paid: Decimal
    prepaid_principal: Decimal
    allocations: list[dict[str, Any]]
    actor_kind: ActorKind
    actor_id: uuid.UUID
    created_at: datetime


class ProductRepository(Protocol):
    async def add(self, product: LoanProduct) -> None: ...
    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[LoanProduct]: ...
    async def latest(self, institution_id: uuid.UUID, code: str) -> LoanProduct | None: ...
    async def latest_of(self, product_id: uuid.UUID) -> LoanProduct | None: ...
    async def current(
        self, institution_ids: Sequence[uuid.UUID] | None
    ) -> Sequence[LoanProduct]: ...
    async def save_lpr(
        self, rate: LprRate, *, by: uuid.UUID, at: datetime, id: uuid.UUID
    ) -> None: ...
    async def lpr_in_force(self, tenor: LprTenor, day: date) -> LprRate | None: ...
    async def lpr_rates(self) -> Sequence[LprRate]: ...


class CreditListRepository(Protocol):
    async def add(self, entry: CreditListEntry) -> None: ...
    async def add_many(self, entries: Sequence[CreditListEntry]) -> None: ...
    async def save_many(self, entries: Sequence[CreditListEntry]) -> None:
        """Write the entries' amounts, validity and revocation as they now are."""

    async def by_id(self, entry_id: uuid.UUID) -> CreditListEntry | None: ...
    async def by_ids(self, ids: Sequence[uuid.UUID]) -> Sequence[CreditListEntry]: ...
    async def blacklisted_among(
        self, institution_id: uuid.UUID, id_number_bidxs: Sequence[bytes], day: date
    ) -> set[bytes]:
        """Those of the blind indexes with a blacklist entry of the institution in force."""

    async def revoke(self, entry_id: uuid.UUID, *, by: uuid.UUID, at: datetime) -> bool: ...
    async def for_id_number(
        self, institution_id: uuid.UUID, id_number_bidx: bytes
    ) -> Sequence[CreditListEntry]: ...
    async def blacklisted_customers(
        self, customer_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Sequence[CreditListEntry]]: ...
    async def page(
        self,
        *,
        institution_id: uuid.UUID | None,
        kind: ListKind | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[CreditListEntry]: ...


class ApplicationRepository(Protocol):
    async def add(
        self, application: LoanApplication, transitions: Sequence[Transition]
    ) -> None: ...
    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[LoanApplication]: ...
    async def for_update(self, application_id: uuid.UUID) -> LoanApplication | None: ...
    async def save(self, application: LoanApplication, transitions: Sequence[Transition]) -> None:
        """Write the changed application with the transitions that changed it; INVALID_STATE
        when another request changed it since it was read."""

    async def transitions_of(
        self, application_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Transition]]: ...
    async def page(
        self, filter: ApplicationFilter, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[LoanApplication]: ...
    async def of_customers(
        self, customer_ids: Sequence[uuid.UUID]
    ) -> Sequence[LoanApplication]: ...
    async def lapsing(
        self, state: ApplicationState, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[LoanApplication]:
        """Applications in `state`, in id order after `after`, that may have lapsed."""


class CreditLineRepository(Protocol):
    async def add(self, line: CreditLine) -> None: ...
    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[CreditLine]: ...
    async def of_customers(self, customer_ids: Sequence[uuid.UUID]) -> Sequence[CreditLine]: ...
    async def draw(self, line_id: uuid.UUID, amount: Decimal, *, at: datetime) -> bool: ...
    async def restore(self, line_id: uuid.UUID, amount: Decimal, *, at: datetime) -> None: ...
    async def expire(self, *, before: date, at: datetime) -> int: ...


class LoanRepository(Protocol):
    async def add(
        self, loan: Loan, installments: Sequence[LoanInstallment], *, draw_key: str | None = None
    ) -> None: ...
    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Loan]: ...
    async def of_customers(self, customer_ids: Sequence[uuid.UUID]) -> Sequence[Loan]: ...
    async def by_draw_key(self, credit_line_id: uuid.UUID, draw_key: str) -> Loan | None: ...
    async def for_update(self, loan_id: uuid.UUID) -> Loan | None: ...
    async def lock(self, loan_ids: Sequence[uuid.UUID]) -> Sequence[Loan]: ...
    async def installments_of(
        self, loan_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[LoanInstallment]]: ...
    async def save(
        self,
        loan: Loan,
        installments: Sequence[LoanInstallment],
        *,
        removed_numbers: Sequence[int] = (),
    ) -> None: ...
    async def add_repayment(self, repayment: RepaymentRecord) -> None: ...
    async def repayment_by_key(self, loan_id: uuid.UUID, key: str) -> RepaymentRecord | None: ...
    async def repayments_of(
        self, loan_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[RepaymentRecord]]: ...
    async def page(
        self, filter: LoanFilter, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Loan]: ...
    async def exposure(self, customer_id: uuid.UUID) -> Decimal:
        """Term loans owed, usable credit lines at their limit, drawdowns still owed on lines
        no longer usable, and approvals not yet paid out."""

    async def installment_history(
        self, customer_id: uuid.UUID, *, due_since: date
    ) -> Sequence[InstallmentHistory]:
        """The customer's installments due since `due_since`, and every older one still unpaid."""

    async def active_ids(self, *, after: uuid.UUID | None, limit: int) -> Sequence[uuid.UUID]: ...


class AlertRepository(Protocol):
    async def raise_once(self, alert: RiskAlert) -> bool: ...
    async def by_id(self, alert_id: uuid.UUID) -> RiskAlert | None: ...
    async def for_update(self, alert_id: uuid.UUID) -> RiskAlert | None: ...
    async def save(self, alert: RiskAlert) -> None: ...
    async def page(
        self, filter: AlertFilter, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[RiskAlert]: ...

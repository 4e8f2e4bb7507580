"""Loans as booked: the terms fixed at contract, the installments, and what has been paid.

A `Loan` is one disbursed amount (a term loan, or one drawdown of a revolving credit line). Its
`LoanInstallment`s hold what each period owes and what has been paid against it, component by
component; penalty interest (罚息) accrues on overdue principal to six decimals and is settled in
cents. Amounts are `Decimal` CNY, rates are annual fractions ("0.0435").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from jikuai.domain.shared.money import ZERO, cents


class RepaymentMethod(StrEnum):
    EQUAL_INSTALLMENT = "EQUAL_INSTALLMENT"  # 等额本息
    EQUAL_PRINCIPAL = "EQUAL_PRINCIPAL"  # 等额本金
    INTEREST_FIRST = "INTEREST_FIRST"  # 先息后本
    BULLET = "BULLET"  # 利随本清
    REVOLVING = "REVOLVING"  # 随借随还


class Component(StrEnum):
    """A part of what a borrower owes, in the order a repayment may settle them."""

    PENALTY = "PENALTY"
    INTEREST = "INTEREST"
    PRINCIPAL = "PRINCIPAL"


DEFAULT_ALLOCATION = (Component.PENALTY, Component.INTEREST, Component.PRINCIPAL)


class PrepaymentMode(StrEnum):
    """What a partial prepayment changes in the rest of the schedule."""

    REDUCE_INSTALLMENT = "REDUCE_INSTALLMENT"  # same term, smaller installments
    REDUCE_TERM = "REDUCE_TERM"  # same installment, fewer periods


class LoanStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


class Classification(StrEnum):
    """Five-category loan classification (五级分类)."""

    NORMAL = "NORMAL"  # 正常
    SPECIAL_MENTION = "SPECIAL_MENTION"  # 关注
    SUBSTANDARD = "SUBSTANDARD"  # 次级
    DOUBTFUL = "DOUBTFUL"  # 可疑
    LOSS = "LOSS"  # 损失


class DelinquencyBucket(StrEnum):
    M0 = "M0"
    M1 = "M1"  # 1–30 days past due
    M2 = "M2"  # 31–60
    M3 = "M3"  # 61–90
    M3_PLUS = "M3_PLUS"  # more than 90


def bucket_of(days_past_due: int) -> DelinquencyBucket:
    if days_past_due <= 0:
        return DelinquencyBucket.M0
    if days_past_due <= 30:
        return DelinquencyBucket.M1
    if days_past_due <= 60:
        return DelinquencyBucket.M2
    if days_past_due <= 90:
        return DelinquencyBucket.M3
    return DelinquencyBucket.M3_PLUS


@dataclass(frozen=True, slots=True)
class ClassificationThresholds:
    """Days past due from which a loan falls into each worse category. The defaults follow the
    2023 risk classification rules: any overdue is at least 关注, more than 90 days 次级, more
    than 270 可疑, more than 360 损失."""

    special_mention: int = 1
    substandard: int = 91
    doubtful: int = 271
    loss: int = 361

    def __post_init__(self) -> None:
        steps = (self.special_mention, self.substandard, self.doubtful, self.loss)
        if steps[0] < 1 or any(later <= earlier for earlier, later in pairwise(steps)):
            raise ValueError("classification thresholds must rise strictly from at least 1")

    def classify(self, days_past_due: int) -> Classification:
        if days_past_due >= self.loss:
            return Classification.LOSS
        if days_past_due >= self.doubtful:
            return Classification.DOUBTFUL
        if days_past_due >= self.substandard:
            return Classification.SUBSTANDARD
        if days_past_due >= self.special_mention:
            return Classification.SPECIAL_MENTION
        return Classification.NORMAL


@dataclass(slots=True)
class LoanInstallment:
    """One period of a schedule and what has been paid against it."""

    loan_id: uuid.UUID
    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    penalty_accrued: Decimal = ZERO  # six decimals; settled as cents(penalty_accrued)
    penalty_paid: Decimal = ZERO
    penalty_accrued_to: date | None = None
    paid_on: date | None = None

    @property
    def principal_due(self) -> Decimal:
        return self.principal - self.principal_paid

    @property
    def interest_due(self) -> Decimal:
        return self.interest - self.interest_paid

    @property
    def penalty_due(self) -> Decimal:
        return cents(self.penalty_accrued) - self.penalty_paid

    @property
    def is_paid(self) -> bool:
        return self.principal_due == 0 and self.interest_due == 0 and self.penalty_due <= 0


@dataclass(slots=True)
class Loan:
    """A disbursed loan. `interest_accrued_to` is how far a revolving drawdown's daily interest
    has been added to its installment; term loans carry their interest in the schedule."""

    id: uuid.UUID
    institution_id: uuid.UUID
    customer_id: uuid.UUID
    product_id: uuid.UUID
    application_id: uuid.UUID | None
    credit_line_id: uuid.UUID | None
    officer_id: uuid.UUID | None
    contract_no: str
    method: RepaymentMethod
    principal: Decimal
    annual_rate: Decimal
    penalty_rate: Decimal  # annual rate on overdue principal: annual_rate × (1 + uplift)
    days_in_year: int
    grace_days: int
    allocation_order: tuple[Component, ...]
    term_months: int | None
    term_days: int | None
    start_date: date
    maturity_date: date
    status: LoanStatus
    outstanding_principal: Decimal
    interest_accrued_to: date
    days_past_due: int
    classification: Classification
    classification_override: Classification | None
    closed_on: date | None
    created_at: datetime
    updated_at: datetime
    status_date: date | None = None  # the business date the daily pass last brought it to
    version: int = 1

    @property
    def effective_classification(self) -> Classification:
        """A risk officer's override, where one was made, wins over the derived category."""
        return self.classification_override or self.classification

    @property
    def bucket(self) -> DelinquencyBucket:
        return bucket_of(self.days_past_due)

"""Loan products (贷款产品) as versioned data, and the LPR (贷款市场报价利率) they are priced on.

A product is configured by an institution's admins, never coded: its amounts, terms, methods,
pricing, penalty, admission rules, scorecard, limit policy and approval authority together are
its `ProductTerms`. Changing any of them makes a new version; an application keeps the version it
was made under, so a decision can always be explained by the terms it was taken with.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from jikuai.domain.credit.expressions import check_rule
from jikuai.domain.credit.model import (
    DEFAULT_ALLOCATION,
    ClassificationThresholds,
    Component,
    RepaymentMethod,
)
from jikuai.domain.credit.schedules import MAX_TERM_DAYS, MAX_TERM_MONTHS
from jikuai.domain.credit.scorecards import Scorecard
from jikuai.domain.customers.model import Segment
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode
from jikuai.domain.shared.money import BASIS_POINT, exact_cents, rate_form
from jikuai.domain.tenancy.model import Role

RATE_PRECISION = Decimal("0.000001")  # configured rates: to a hundredth of a basis point
STORED_RATE_PRECISION = Decimal("1E-10")  # what a rate column keeps
MAX_SPREAD_BP = 2000
MAX_PENALTY_UPLIFT = Decimal(2)  # 罚息 is at most +30–50% in practice; never above +200%
MAX_GRACE_DAYS = 30


class LprTenor(StrEnum):
    ONE_YEAR = "ONE_YEAR"  # 1年期
    FIVE_YEARS_PLUS = "FIVE_YEARS_PLUS"  # 5年期以上


class PricingKind(StrEnum):
    LPR = "LPR"
    FIXED = "FIXED"


@dataclass(frozen=True, slots=True)
class LprRate:
    tenor: LprTenor
    published_on: date
    rate: Decimal


def lpr_on(rates: Sequence[LprRate], tenor: LprTenor, day: date) -> LprRate | None:
    """The LPR of `tenor` in force on `day`: the latest published on or before it."""
    in_force = [each for each in rates if each.tenor is tenor and each.published_on <= day]
    return max(in_force, key=lambda each: each.published_on, default=None)


@dataclass(frozen=True, slots=True)
class Pricing:
    """LPR + spread with a floor, or a fixed rate; either way an annual fraction."""

    kind: PricingKind
    lpr_tenor: LprTenor | None = None
    spread_bp: int = 0
    floor_rate: Decimal | None = None
    fixed_rate: Decimal | None = None

    def rate(self, lpr: LprRate | None) -> Decimal:
        """The contract rate; raises LPR_MISSING when no LPR is in force for an LPR product."""
        if self.kind is PricingKind.FIXED:
            if self.fixed_rate is None:
                raise ValueError("fixed pricing without a rate")
            return rate_form(self.fixed_rate)
        if lpr is None:
            raise DomainError(ErrorCode.LPR_MISSING)
        rate = lpr.rate + self.spread_bp * BASIS_POINT
        floored = max(rate, self.floor_rate) if self.floor_rate is not None else rate
        return rate_form(floored)


@dataclass(frozen=True, slots=True)
class AdmissionRule:
    """One admission rule: the expression must hold, or the application fails with the code."""

    name: str
    expression: str
    reason_code: str


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """Limit = base amount × the grade's coefficient, then capped. With `whitelist_base`, the
    pre-approved amount of the applicant's whitelist entry (as whole-village credit sets it for
    its own product) takes the graded amount's place, unless the grade gives no limit."""

    base_amounts: tuple[tuple[Segment, Decimal], ...]
    max_total_exposure: Decimal
    rounding_unit: Decimal = Decimal("100")
    whitelist_base: bool = False

    def base_for(self, segment: Segment) -> Decimal:
        return dict(self.base_amounts).get(segment, Decimal(0))


@dataclass(frozen=True, slots=True)
class ApprovalAuthority:
    """A role may approve applications up to `max_amount` (授权额度)."""

    role: Role
    max_amount: Decimal


@dataclass(frozen=True, slots=True)
class ProductTerms:
    name: str
    segments: tuple[Segment, ...]
    min_amount: Decimal
    max_amount: Decimal
    term_months: tuple[int, ...]
    methods: tuple[RepaymentMethod, ...]
    pricing: Pricing
    admission_rules: tuple[AdmissionRule, ...]
    scorecard: Scorecard
    limit_policy: LimitPolicy
    auto_approval_max: Decimal
    approval_authority: tuple[ApprovalAuthority, ...]
    description: str = ""
    max_draw_days: int = 365
    credit_line_months: int = 12
    days_in_year: int = 360
    penalty_uplift: Decimal = Decimal("0.5")
    grace_days: int = 3
    allocation_order: tuple[Component, ...] = DEFAULT_ALLOCATION
    offer_valid_days: int = 30
    classification: ClassificationThresholds = field(default_factory=ClassificationThresholds)

    @property
    def revolving(self) -> bool:
        return RepaymentMethod.REVOLVING in self.methods

    def penalty_rate(self, annual_rate: Decimal) -> Decimal:
        """The annual rate on overdue principal (罚息): the contract rate raised by the uplift,
        to the ten decimals a rate is kept to."""
        return (annual_rate * (1 + self.penalty_uplift)).quantize(STORED_RATE_PRECISION)

    def may_approve(self, role: Role, amount: Decimal) -> bool:
        return any(
            each.role is role and amount <= each.max_amount for each in self.approval_authority
        )


@dataclass(frozen=True, slots=True)
class LoanProduct:
    """One version of a product. The newest active version is the one offered."""

    id: uuid.UUID
    institution_id: uuid.UUID
    code: str
    version: int
    terms: ProductTerms
    active: bool
    created_by: uuid.UUID
    created_at: datetime

    def offered_to(self, segment: Segment) -> bool:
        return self.active and segment in self.terms.segments


def validate_terms(terms: ProductTerms, *, known_variables: frozenset[str]) -> None:
    """Every inconsistency of a product's terms at once, as `DomainErrors`."""
    errors = [
        *_amount_errors(terms),
        *_limit_policy_errors(terms),
        *_term_errors(terms),
        *_pricing_errors(terms.pricing),
        *_servicing_errors(terms),
    ]
    for index, rule in enumerate(terms.admission_rules):
        try:
            check_rule(
                rule.expression,
                known_variables=known_variables,
                field=("terms", "admissionRules", str(index), "expression"),
            )
        except DomainError as error:
            errors.append(error)
    try:
        terms.scorecard.validate()
    except DomainError as error:
        errors.append(DomainError(error.code, field=("terms", *(error.field or ()))))
    for index, characteristic in enumerate(terms.scorecard.characteristics):
        if characteristic.variable not in known_variables:
            place = ("terms", "scorecard", "characteristics", str(index), "variable")
            errors.append(DomainError(ErrorCode.INVALID_SCORECARD, field=place))
    if errors:
        raise DomainErrors(errors)


def _is_money(amount: Decimal, *, positive: bool = False) -> bool:
    return exact_cents(amount) is not None and (amount > 0 if positive else amount >= 0)


def _amount_errors(terms: ProductTerms) -> list[DomainError]:
    errors = []
    if not _is_money(terms.min_amount, positive=True):
        errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=("terms", "minAmount")))
    if not _is_money(terms.max_amount) or terms.max_amount < terms.min_amount:
        errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=("terms", "maxAmount")))
    if not _is_money(terms.auto_approval_max) or terms.auto_approval_max > terms.max_amount:
        errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=("terms", "autoApprovalMax")))
    for index, each in enumerate(terms.approval_authority):
        if not _is_money(each.max_amount, positive=True):
            place = ("terms", "approvalAuthority", str(index), "maxAmount")
            errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=place))
    return errors


def _limit_policy_errors(terms: ProductTerms) -> list[DomainError]:
    policy = terms.limit_policy
    errors = [
        DomainError(ErrorCode.INVALID_AMOUNT, field=("terms", "limitPolicy", "baseAmounts", str(i)))
        for i, (_, amount) in enumerate(policy.base_amounts)
        if not _is_money(amount)
    ]
    if not _is_money(policy.max_total_exposure, positive=True):
        place = ("terms", "limitPolicy", "maxTotalExposure")
        errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=place))
    if not _is_money(policy.rounding_unit, positive=True):
        place = ("terms", "limitPolicy", "roundingUnit")
        errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=place))
    return errors


def _term_errors(terms: ProductTerms) -> list[DomainError]:
    errors = []
    if not terms.segments:
        errors.append(DomainError(ErrorCode.REQUIRED, field=("terms", "segments")))
    if not terms.methods:
        errors.append(DomainError(ErrorCode.REQUIRED, field=("terms", "methods")))
    scheduled = [each for each in terms.methods if each is not RepaymentMethod.REVOLVING]
    if scheduled and terms.revolving:
        # A product is a credit line or a term loan: approval opens one or the other.
        errors.append(DomainError(ErrorCode.INVALID_METHOD, field=("terms", "methods")))
    if scheduled and not terms.term_months:
        errors.append(DomainError(ErrorCode.REQUIRED, field=("terms", "termMonths")))
    if any(not 1 <= months <= MAX_TERM_MONTHS for months in terms.term_months):
        errors.append(DomainError(ErrorCode.INVALID_TERM, field=("terms", "termMonths")))
    for name, value, highest in (
        ("maxDrawDays", terms.max_draw_days, MAX_TERM_DAYS),
        ("creditLineMonths", terms.credit_line_months, MAX_TERM_MONTHS),
        ("offerValidDays", terms.offer_valid_days, MAX_TERM_DAYS),
    ):
        if not 1 <= value <= highest:
            errors.append(DomainError(ErrorCode.INVALID_TERM, field=("terms", name)))
    return errors


def _servicing_errors(terms: ProductTerms) -> list[DomainError]:
    errors = []
    if sorted(terms.allocation_order) != sorted(DEFAULT_ALLOCATION):
        errors.append(DomainError(ErrorCode.INVALID_PRODUCT, field=("terms", "allocationOrder")))
    if terms.days_in_year not in (360, 365):
        errors.append(DomainError(ErrorCode.INVALID_PRODUCT, field=("terms", "daysInYear")))
    if not 0 <= terms.grace_days <= MAX_GRACE_DAYS:
        errors.append(DomainError(ErrorCode.INVALID_PRODUCT, field=("terms", "graceDays")))
    uplift = terms.penalty_uplift
    if not 0 <= uplift <= MAX_PENALTY_UPLIFT or uplift != uplift.quantize(BASIS_POINT):
        errors.append(DomainError(ErrorCode.INVALID_RATE, field=("terms", "penaltyUplift")))
    return errors


def _pricing_errors(pricing: Pricing) -> list[DomainError]:
    """A complete pricing whose rates are fractions below 1 to at most six decimals, and that
    can never price below zero (a negative spread needs a floor)."""

    def bad_rate(rate: Decimal | None) -> bool:
        return rate is not None and (
            not Decimal(0) <= rate < 1 or rate != rate.quantize(RATE_PRECISION)
        )

    incomplete = (pricing.kind is PricingKind.FIXED and pricing.fixed_rate is None) or (
        pricing.kind is PricingKind.LPR and pricing.lpr_tenor is None
    )
    unbounded = pricing.spread_bp < 0 and pricing.floor_rate is None
    if (
        incomplete
        or unbounded
        or abs(pricing.spread_bp) > MAX_SPREAD_BP
        or bad_rate(pricing.fixed_rate)
        or bad_rate(pricing.floor_rate)
    ):
        return [DomainError(ErrorCode.INVALID_RATE, field=("terms", "pricing"))]
    return []

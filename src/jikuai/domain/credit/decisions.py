"""The credit decision: admission (准入) → rating (评级) → limit (额度), all from product data.

`decide` is a pure function of the product's terms, the facts about the applicant and the
request. Its `Decision` keeps every input and every step (each rule's result, each scorecard
characteristic's bin and points, each factor of the limit), so a reviewer, an auditor or the
customer can be told exactly why.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from jikuai.domain.credit.expressions import Expression, ExpressionError, parse_expression
from jikuai.domain.credit.model import RepaymentMethod
from jikuai.domain.credit.products import ProductTerms
from jikuai.domain.credit.schedules import build_schedule
from jikuai.domain.credit.scorecards import ScoreResult, ScoringError
from jikuai.domain.customers.model import Segment
from jikuai.domain.shared.money import ZERO, cents

# What admission rules and scorecards may read. Amounts are CNY, ratios fractions.
KNOWN_VARIABLES = frozenset(
    {
        "applicant.age",
        "applicant.segment",
        "applicant.identity_verified",
        "applicant.blacklisted",
        "applicant.whitelisted",
        "applicant.current_overdue",
        "applicant.overdue_months_24",
        "applicant.max_consecutive_overdue_24",
        "applicant.annual_income",
        "applicant.monthly_debt_payments",
        "applicant.debt_to_income",
        "applicant.existing_exposure",
        "applicant.peer_rating",
        "application.amount",
        "application.term_months",
        "application.method",
    }
)
NO_INCOME_RATIO = Decimal(99)  # debt-to-income when no income is declared: fails any sane rule
CREDIT_LINE_MONTH_DAYS = 30


class Outcome(StrEnum):
    AUTO_APPROVED = "AUTO_APPROVED"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class Applicant:
    """What is known about the applicant when deciding; gathered by the use case."""

    age: int
    segment: Segment
    identity_verified: bool
    blacklisted: bool
    whitelisted: bool
    whitelist_limit: Decimal | None
    current_overdue: bool
    overdue_months_24: int
    max_consecutive_overdue_24: int
    annual_income: Decimal
    monthly_debt_payments: Decimal
    existing_exposure: Decimal
    peer_rating: str | None = None  # the village peer review's rating (信用户评定), if on a roster


@dataclass(frozen=True, slots=True)
class Request:
    amount: Decimal
    term_months: int | None
    method: RepaymentMethod
    monthly_payment: Decimal  # `monthly_obligation` of the requested loan, at today's rate


@dataclass(frozen=True, slots=True)
class RuleResult:
    name: str
    passed: bool
    reason_code: str | None


@dataclass(frozen=True, slots=True)
class LimitSteps:
    base_amount: Decimal
    coefficient: Decimal
    graded_amount: Decimal
    product_max: Decimal
    exposure_room: Decimal
    limit: Decimal


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reasons: tuple[str, ...]
    inputs: dict[str, object]
    rules: tuple[RuleResult, ...]
    score: ScoreResult | None
    limit: LimitSteps | None
    approved_amount: Decimal | None

    def record(self) -> dict[str, Any]:
        """The decision as a JSON-ready document, kept with the application."""
        document: dict[str, Any] = _jsonable(self)
        return document


def decide(terms: ProductTerms, applicant: Applicant, request: Request) -> Decision:
    inputs = variables(applicant, request)
    rules = tuple(_admit(terms, inputs))
    failed = tuple(rule.reason_code or rule.name for rule in rules if not rule.passed)
    if failed:
        return Decision(Outcome.REJECTED, failed, inputs, rules, None, None, None)
    try:
        score = terms.scorecard.score(inputs)
    except ScoringError as error:
        reason = f"UNSCORABLE:{error}"
        return Decision(Outcome.REJECTED, (reason,), inputs, rules, None, None, None)
    limit = _limit(terms, applicant, score)
    if limit.limit < terms.min_amount:
        reasons = ("LIMIT_BELOW_MINIMUM",)
        return Decision(Outcome.REJECTED, reasons, inputs, rules, score, limit, None)
    within_limit = request.amount <= limit.limit
    if within_limit and request.amount <= terms.auto_approval_max:
        return Decision(Outcome.AUTO_APPROVED, (), inputs, rules, score, limit, request.amount)
    reasons = ("ABOVE_LIMIT",) if not within_limit else ("ABOVE_AUTO_APPROVAL",)
    suggested = min(request.amount, limit.limit)
    return Decision(Outcome.MANUAL_REVIEW, reasons, inputs, rules, score, limit, suggested)


def monthly_obligation(
    amount: Decimal,
    *,
    annual_rate: Decimal,
    method: RepaymentMethod,
    term_months: int | None,
    days_in_year: int,
    start: date,
) -> Decimal:
    """What a requested loan adds to the applicant's monthly debt service (debt-to-income).

    Amortizing methods count their first, largest installment. Interest-first and bullet loans
    count the level installment that would repay them over the same term: their principal must
    come out of the same income, only later. A credit line counts a month's interest on the
    whole limit.
    """
    revolving = method is RepaymentMethod.REVOLVING
    amortizing = method in (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL)
    first = build_schedule(
        amount,
        annual_rate=annual_rate,
        method=method if revolving or amortizing else RepaymentMethod.EQUAL_INSTALLMENT,
        start=start,
        term_months=term_months,
        days=CREDIT_LINE_MONTH_DAYS if revolving else None,
        days_in_year=days_in_year,
    ).installments[0]
    return first.interest if revolving else first.payment


def variables(applicant: Applicant, request: Request) -> dict[str, object]:
    """The values rules and scorecards read, by their dotted names."""
    monthly_income = applicant.annual_income / 12
    obligations = applicant.monthly_debt_payments + request.monthly_payment
    ratio = (
        (obligations / monthly_income).quantize(Decimal("0.0001"))
        if monthly_income > 0
        else (NO_INCOME_RATIO)
    )
    return {
        "applicant.age": applicant.age,
        "applicant.segment": applicant.segment.value,
        "applicant.identity_verified": applicant.identity_verified,
        "applicant.blacklisted": applicant.blacklisted,
        "applicant.whitelisted": applicant.whitelisted,
        "applicant.current_overdue": applicant.current_overdue,
        "applicant.overdue_months_24": applicant.overdue_months_24,
        "applicant.max_consecutive_overdue_24": applicant.max_consecutive_overdue_24,
        "applicant.annual_income": applicant.annual_income,
        "applicant.monthly_debt_payments": applicant.monthly_debt_payments,
        "applicant.debt_to_income": ratio,
        "applicant.existing_exposure": applicant.existing_exposure,
        "applicant.peer_rating": applicant.peer_rating,
        "application.amount": request.amount,
        "application.term_months": request.term_months,
        "application.method": request.method.value,
    }


def _admit(terms: ProductTerms, inputs: dict[str, object]) -> list[RuleResult]:
    results = []
    for rule in terms.admission_rules:
        try:
            read = _compiled(rule.expression).variables
        except ExpressionError:
            passed = False  # a rule that cannot be parsed never admits anyone
        else:
            passed = _passes(rule.expression, tuple((n, inputs[n]) for n in read if n in inputs))
        results.append(RuleResult(rule.name, passed, None if passed else rule.reason_code))
    return results


@lru_cache(maxsize=65536)
def _passes(source: str, values: tuple[tuple[str, object], ...]) -> bool:
    """Whether a rule holds over the values it reads. A rule reads few values, most of them
    yes/no or a handful of cases, so each combination is evaluated once per process."""
    try:
        return _compiled(source).test(dict(values))
    except ExpressionError:
        return False  # a rule that cannot be evaluated never admits anyone


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Expression:
    """Rules are parsed once per process; a product's rules are few and change rarely."""
    return parse_expression(source)


def _limit(terms: ProductTerms, applicant: Applicant, score: ScoreResult) -> LimitSteps:
    """Base × grade coefficient, capped by the product maximum and the room left under the
    customer's total exposure. A pre-approved amount (with `whitelist_base`) was graded when it
    was granted, so it stands as it is, unless today's grade gives no limit at all."""
    policy = terms.limit_policy
    pre_approved = applicant.whitelist_limit if policy.whitelist_base else None
    if pre_approved is not None:
        base = pre_approved
        graded = pre_approved if score.coefficient > 0 else ZERO
    else:
        base = policy.base_for(applicant.segment)
        graded = cents(base * score.coefficient)
    room = max(policy.max_total_exposure - applicant.existing_exposure, ZERO)
    capped = min(graded, terms.max_amount, room)
    unit = policy.rounding_unit
    limit = (capped / unit).to_integral_value(rounding=ROUND_FLOOR) * unit
    return LimitSteps(base, score.coefficient, graded, terms.max_amount, room, cents(limit))


def _jsonable(value: object) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {each.name: _jsonable(getattr(value, each.name)) for each in fields(value)}
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    return value

"""The demo products: valid terms, one repayment family each, plausible rates, and decisions
calibrated on a typical applicant with the LPR in force on the demo's business date."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from jikuai.demo_products import DEMO_LPR, demo_products
from jikuai.domain.credit.decisions import (
    KNOWN_VARIABLES,
    Applicant,
    Decision,
    Outcome,
    Request,
    decide,
    monthly_obligation,
)
from jikuai.domain.credit.documents import terms_document, terms_from_document
from jikuai.domain.credit.model import RepaymentMethod
from jikuai.domain.credit.products import LprTenor, ProductTerms, lpr_on, validate_terms
from jikuai.domain.customers.model import Segment

DAY = date(2026, 11, 29)
PRODUCTS = dict(demo_products())
NAMES = {
    "JNKD": "吉农快贷",
    "TSD": "天使贷",
    "GXD": "公薪贷",
    "JLD": "金领贷",
    "XYD": "信易贷",
    "YDD": "园丁贷",
    "JWKD": "吉微快贷",
}

every_product = pytest.mark.parametrize("code", list(NAMES))


def rate_on(terms: ProductTerms, day: date = DAY) -> Decimal:
    tenor = terms.pricing.lpr_tenor
    return terms.pricing.rate(lpr_on(DEMO_LPR, tenor, day) if tenor is not None else None)


def request(
    terms: ProductTerms, amount: int, method: RepaymentMethod, term_months: int | None = None
) -> Request:
    """The request as origination builds it, at the LPR in force on the day."""
    obligation = monthly_obligation(
        Decimal(amount),
        annual_rate=rate_on(terms),
        method=method,
        term_months=term_months,
        days_in_year=terms.days_in_year,
        start=DAY,
    )
    return Request(Decimal(amount), term_months, method, obligation)


def applicant(
    segment: Segment,
    *,
    whitelisted: bool = False,
    whitelist_limit: Decimal | None = None,
    blacklisted: bool = False,
) -> Applicant:
    """Forty, verified, never late, no debts or exposure, 120,000 CNY a year."""
    return Applicant(
        age=40,
        segment=segment,
        identity_verified=True,
        blacklisted=blacklisted,
        whitelisted=whitelisted,
        whitelist_limit=whitelist_limit,
        current_overdue=False,
        overdue_months_24=0,
        max_consecutive_overdue_24=0,
        annual_income=Decimal(120_000),
        monthly_debt_payments=Decimal(0),
        existing_exposure=Decimal(0),
    )


def decide_for(
    code: str,
    who: Applicant,
    amount: int,
    method: RepaymentMethod,
    term_months: int | None = None,
) -> Decision:
    terms = PRODUCTS[code]
    return decide(terms, who, request(terms, amount, method, term_months))


def typical_decision(code: str) -> Decision:
    """The typical applicant of the product's first segment asking its smallest amount."""
    terms = PRODUCTS[code]
    who = applicant(terms.segments[0], whitelisted=terms.revolving)
    term = terms.term_months[0] if terms.term_months else None
    return decide_for(code, who, int(terms.min_amount), terms.methods[0], term)


def test_seven_products_with_their_codes_and_names() -> None:
    codes = [code for code, _ in demo_products()]
    assert codes == list(NAMES)
    assert {code: terms.name for code, terms in PRODUCTS.items()} == NAMES
    assert all(terms.description for terms in PRODUCTS.values())


@every_product
def test_terms_are_valid(code: str) -> None:
    validate_terms(PRODUCTS[code], known_variables=KNOWN_VARIABLES)


@every_product
def test_terms_survive_storage_as_a_document(code: str) -> None:
    stored = json.loads(json.dumps(terms_document(PRODUCTS[code])))
    assert terms_from_document(stored) == PRODUCTS[code]


@every_product
def test_one_repayment_family(code: str) -> None:
    terms = PRODUCTS[code]
    if terms.revolving:
        assert terms.methods == (RepaymentMethod.REVOLVING,)
        assert terms.term_months == ()
    else:
        assert terms.term_months


def test_only_jnkd_is_a_credit_line() -> None:
    assert [code for code, terms in PRODUCTS.items() if terms.revolving] == ["JNKD"]
    assert PRODUCTS["JNKD"].max_draw_days == 365
    assert PRODUCTS["JNKD"].credit_line_months == 12


@every_product
def test_rate_on_the_business_date_is_plausible(code: str) -> None:
    assert Decimal("0.03") <= rate_on(PRODUCTS[code]) <= Decimal("0.08")


@every_product
def test_amounts_and_authority_ladder(code: str) -> None:
    terms = PRODUCTS[code]
    ceilings = [each.max_amount for each in terms.approval_authority]
    assert ceilings == sorted(ceilings)
    assert ceilings[-1] == terms.max_amount
    assert terms.min_amount < terms.auto_approval_max <= terms.max_amount


@every_product
def test_typical_applicant_scores_between_600_and_700(code: str) -> None:
    decision = typical_decision(code)
    assert decision.outcome is Outcome.AUTO_APPROVED
    assert decision.score is not None
    assert 600 <= decision.score.score <= 700


def test_demo_lpr_has_both_tenors_before_2025() -> None:
    for tenor in LprTenor:
        published = [each.published_on for each in DEMO_LPR if each.tenor is tenor]
        assert min(published) < date(2025, 1, 1)
    in_force = {tenor: lpr_on(DEMO_LPR, tenor, DAY) for tenor in LprTenor}
    assert {tenor: each.rate for tenor, each in in_force.items() if each} == {
        LprTenor.ONE_YEAR: Decimal("0.0300"),
        LprTenor.FIVE_YEARS_PLUS: Decimal("0.0350"),
    }


def test_demo_lpr_has_one_rate_per_tenor_and_date() -> None:
    keys = [(each.tenor, each.published_on) for each in DEMO_LPR]
    assert len(keys) == len(set(keys))


def test_whitelisted_farmer_is_approved_at_once_on_jnkd() -> None:
    who = applicant(Segment.FARMER, whitelisted=True)
    decision = decide_for("JNKD", who, 30_000, RepaymentMethod.REVOLVING)
    assert decision.outcome is Outcome.AUTO_APPROVED
    assert decision.approved_amount == Decimal(30_000)


def test_whitelist_amount_overrides_the_segment_base() -> None:
    who = applicant(Segment.FARMER, whitelisted=True, whitelist_limit=Decimal(80_000))
    decision = decide_for("JNKD", who, 30_000, RepaymentMethod.REVOLVING)
    assert decision.limit is not None
    assert decision.limit.base_amount == Decimal(80_000)


def test_farmer_off_the_whitelist_is_rejected_on_jnkd() -> None:
    decision = decide_for("JNKD", applicant(Segment.FARMER), 30_000, RepaymentMethod.REVOLVING)
    assert decision.outcome is Outcome.REJECTED
    assert decision.reasons == ("NOT_WHITELISTED",)


@every_product
def test_blacklisted_applicant_is_rejected(code: str) -> None:
    terms = PRODUCTS[code]
    who = applicant(terms.segments[0], whitelisted=terms.revolving, blacklisted=True)
    term = terms.term_months[0] if terms.term_months else None
    decision = decide(terms, who, request(terms, int(terms.min_amount), terms.methods[0], term))
    assert decision.outcome is Outcome.REJECTED
    assert decision.reasons == ("BLACKLISTED",)


@pytest.mark.parametrize(
    ("amount", "outcome", "reasons"),
    [
        (50_000, Outcome.AUTO_APPROVED, ()),
        (100_000, Outcome.AUTO_APPROVED, ()),
        (150_000, Outcome.MANUAL_REVIEW, ("ABOVE_AUTO_APPROVAL",)),
        (400_000, Outcome.REJECTED, ("DEBT_RATIO_HIGH",)),
    ],
)
def test_teacher_on_ydd_over_36_months(
    amount: int, outcome: Outcome, reasons: tuple[str, ...]
) -> None:
    """Up to the automatic-approval amount a teacher is approved at once and above it reviewed;
    400,000 over 36 months would cost more each month than the whole monthly income."""
    who = applicant(Segment.TEACHER)
    decision = decide_for("YDD", who, amount, RepaymentMethod.EQUAL_INSTALLMENT, 36)
    assert decision.outcome is outcome
    assert decision.reasons == reasons


@pytest.mark.parametrize(
    ("amount", "outcome", "reasons"),
    [
        (50_000, Outcome.AUTO_APPROVED, ()),
        (200_000, Outcome.REJECTED, ("DEBT_RATIO_HIGH", "AMOUNT_ABOVE_INCOME")),
    ],
)
def test_bullet_loan_on_xyd_is_judged_as_if_amortized_and_held_to_a_years_income(
    amount: int, outcome: Outcome, reasons: tuple[str, ...]
) -> None:
    who = applicant(Segment.MICRO_BUSINESS)
    decision = decide_for("XYD", who, amount, RepaymentMethod.BULLET, 12)
    assert decision.outcome is outcome
    assert decision.reasons == reasons

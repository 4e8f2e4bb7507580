"""The seven loan products the demo seeds in every pilot institution, and the LPR history they are
priced on; parameters are plausible demo values, documented in docs/products.md."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from itertools import pairwise

from jikuai.domain.credit.model import RepaymentMethod
from jikuai.domain.credit.products import (
    AdmissionRule,
    ApprovalAuthority,
    LimitPolicy,
    LprRate,
    LprTenor,
    Pricing,
    PricingKind,
    ProductTerms,
)
from jikuai.domain.credit.scorecards import Bin, Characteristic, Grade, GradeBand, Scorecard
from jikuai.domain.customers.model import Segment
from jikuai.domain.tenancy.model import Role


def _lpr(published_on: date, one_year: str, five_years_plus: str) -> tuple[LprRate, LprRate]:
    return (
        LprRate(LprTenor.ONE_YEAR, published_on, Decimal(one_year)),
        LprRate(LprTenor.FIVE_YEARS_PLUS, published_on, Decimal(five_years_plus)),
    )


# The publications at which either tenor changed, as the National Interbank Funding Center
# published them.
DEMO_LPR: tuple[LprRate, ...] = (
    *_lpr(date(2023, 6, 20), "0.0355", "0.0420"),
    *_lpr(date(2023, 8, 21), "0.0345", "0.0420"),
    *_lpr(date(2024, 2, 20), "0.0345", "0.0395"),
    *_lpr(date(2024, 7, 22), "0.0335", "0.0385"),
    *_lpr(date(2024, 10, 21), "0.0310", "0.0360"),
    *_lpr(date(2025, 5, 20), "0.0300", "0.0350"),
)


def _intervals(cuts: tuple[str, ...], points: tuple[str, ...]) -> tuple[Bin, ...]:
    """Bins (-∞, c1), [c1, c2), …, [cn, +∞) with the given log-odds: every number has one."""
    bounds = (None, *(Decimal(cut) for cut in cuts), None)
    return tuple(
        Bin(Decimal(each), lower, upper)
        for each, (lower, upper) in zip(points, pairwise(bounds), strict=True)
    )


# One card for every demo product. Scores run 20 points (one PDO) per grade, so each grade up
# stands for twice the odds of good; a typical applicant lands between 630 and 690.
_SCORECARD = Scorecard(
    base_score=600,
    base_odds=Decimal(50),
    pdo=Decimal(20),
    intercept=Decimal("3.6"),
    characteristics=(
        Characteristic(
            "年龄",
            "applicant.age",
            _intervals(("22", "30", "50", "60"), ("-0.5", "0", "0.5", "0.2", "-0.3")),
        ),
        Characteristic(
            "年收入",
            "applicant.annual_income",
            _intervals(
                ("40000", "80000", "150000", "300000"), ("-0.4", "0.1", "0.5", "0.8", "1.2")
            ),
        ),
        Characteristic(
            "负债收入比",
            "applicant.debt_to_income",
            _intervals(("0.2", "0.35", "0.5"), ("0.7", "0.4", "0", "-0.7")),
        ),
        Characteristic(
            "白名单",
            "applicant.whitelisted",
            (Bin(Decimal("0.9"), values=(True,)), Bin(Decimal(0), values=(False,))),
        ),
        Characteristic(
            "近24个月逾期月数",
            "applicant.overdue_months_24",
            _intervals(("1", "3"), ("0.5", "-0.5", "-1.3")),
        ),
    ),
    grades=(
        GradeBand(700, Grade.AAA, Decimal("1.5")),
        GradeBand(680, Grade.AA, Decimal("1.3")),
        GradeBand(660, Grade.A, Decimal("1.1")),
        GradeBand(640, Grade.BBB, Decimal("1.0")),
        GradeBand(620, Grade.BB, Decimal("0.8")),
        GradeBand(600, Grade.B, Decimal("0.6")),
        GradeBand(580, Grade.CCC, Decimal("0.4")),
        GradeBand(560, Grade.CC, Decimal("0.2")),
        GradeBand(0, Grade.C, Decimal(0)),
    ),
)

# 吉农快贷 also reads the village peer review (村民评议) of a household on a whole-village roster;
# a customer on no roster scores as a FAIR household would.
_VILLAGE_SCORECARD = replace(
    _SCORECARD,
    characteristics=(
        *_SCORECARD.characteristics,
        Characteristic(
            "村民评议",
            "applicant.peer_rating",
            (
                Bin(Decimal("0.6"), values=("EXCELLENT",)),
                Bin(Decimal("0.3"), values=("GOOD",)),
                Bin(Decimal(0), values=("FAIR",)),
                Bin(Decimal("-1.0"), values=("POOR",)),
            ),
            default_points=Decimal(0),
        ),
    ),
)

_IDENTITY_VERIFIED = AdmissionRule(
    "实名核验", "applicant.identity_verified", "IDENTITY_NOT_VERIFIED"
)
_NOT_BLACKLISTED = AdmissionRule("黑名单", "not applicant.blacklisted", "BLACKLISTED")
_NO_CURRENT_OVERDUE = AdmissionRule("当前逾期", "not applicant.current_overdue", "CURRENT_OVERDUE")
_LIANSAN_LEILIU = AdmissionRule(
    "连三累六",
    "applicant.max_consecutive_overdue_24 < 3 and applicant.overdue_months_24 < 6",
    "LIANSAN_LEILIU",
)
_WHITELISTED = AdmissionRule("整村授信白名单", "applicant.whitelisted", "NOT_WHITELISTED")
_PEER_REVIEWED = AdmissionRule("村民评议", "applicant.peer_rating != 'POOR'", "PEER_REVIEW_POOR")
_BULLET_WITHIN_INCOME = AdmissionRule(
    "利随本清不超过年收入",
    "application.method != 'BULLET' or application.amount <= applicant.annual_income",
    "AMOUNT_ABOVE_INCOME",
)


def _ages(low: int, high: int) -> AdmissionRule:
    return AdmissionRule(
        f"年龄{low}至{high}周岁", f"between(applicant.age, {low}, {high})", "AGE_OUT_OF_RANGE"
    )


def _debt_ratio(cap: str) -> AdmissionRule:
    return AdmissionRule("负债收入比", f"applicant.debt_to_income <= {cap}", "DEBT_RATIO_HIGH")


def _rules(ages: AdmissionRule, *affordability: AdmissionRule) -> tuple[AdmissionRule, ...]:
    return (
        _IDENTITY_VERIFIED,
        _NOT_BLACKLISTED,
        _NO_CURRENT_OVERDUE,
        _LIANSAN_LEILIU,
        ages,
        *affordability,
    )


def _lpr_pricing(spread_bp: int, floor_rate: str) -> Pricing:
    return Pricing(
        PricingKind.LPR,
        lpr_tenor=LprTenor.ONE_YEAR,
        spread_bp=spread_bp,
        floor_rate=Decimal(floor_rate),
    )


_OFFICER_AUTHORITY = Decimal(50_000)
_MANAGER_AUTHORITY = Decimal(300_000)


def _authority(max_amount: Decimal) -> tuple[ApprovalAuthority, ...]:
    return (
        ApprovalAuthority(Role.LOAN_OFFICER, min(_OFFICER_AUTHORITY, max_amount)),
        ApprovalAuthority(Role.BRANCH_MANAGER, min(_MANAGER_AUTHORITY, max_amount)),
        ApprovalAuthority(Role.RISK_OFFICER, max_amount),
        ApprovalAuthority(Role.INSTITUTION_ADMIN, max_amount),
    )


def _product(
    *,
    name: str,
    description: str,
    segments: tuple[Segment, ...],
    amounts: tuple[int, int],
    auto_approval_max: int,
    term_months: tuple[int, ...],
    methods: tuple[RepaymentMethod, ...],
    pricing: Pricing,
    admission_rules: tuple[AdmissionRule, ...],
    base_amounts: tuple[tuple[Segment, int], ...],
    max_total_exposure: int,
    scorecard: Scorecard = _SCORECARD,
) -> ProductTerms:
    """The terms every demo product shares (scorecard, authority ladder, penalty, grace, offer
    window, 12-month lines with drawdowns of up to a year), around its own parameters."""
    min_amount, max_amount = (Decimal(amount) for amount in amounts)
    return ProductTerms(
        name=name,
        description=description,
        segments=segments,
        min_amount=min_amount,
        max_amount=max_amount,
        term_months=term_months,
        methods=methods,
        pricing=pricing,
        admission_rules=admission_rules,
        scorecard=scorecard,
        limit_policy=LimitPolicy(
            base_amounts=tuple((segment, Decimal(amount)) for segment, amount in base_amounts),
            max_total_exposure=Decimal(max_total_exposure),
            whitelist_base=RepaymentMethod.REVOLVING in methods,
        ),
        auto_approval_max=Decimal(auto_approval_max),
        approval_authority=_authority(max_amount),
        max_draw_days=365,
        credit_line_months=12,
        penalty_uplift=Decimal("0.5"),
        grace_days=3,
        offer_valid_days=30,
    )


_SALARY_TERMS = (12, 24, 36, 48, 60)
_SALARY_METHODS = (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL)


def demo_products() -> tuple[tuple[str, ProductTerms], ...]:
    """(code, terms) of the seven products of 吉快金融, in the order the case study names them."""
    return (
        (
            "JNKD",
            _product(
                name="吉农快贷",
                description="整村授信白名单农户的循环额度,随借随还,线上申请即时审批。",
                segments=(Segment.FARMER,),
                amounts=(1_000, 300_000),
                auto_approval_max=100_000,
                term_months=(),
                methods=(RepaymentMethod.REVOLVING,),
                pricing=_lpr_pricing(150, "0.0400"),
                admission_rules=(
                    _WHITELISTED,
                    _PEER_REVIEWED,
                    *_rules(_ages(18, 65), _debt_ratio("0.55")),
                ),
                base_amounts=((Segment.FARMER, 50_000),),
                max_total_exposure=500_000,
                scorecard=_VILLAGE_SCORECARD,
            ),
        ),
        (
            "TSD",
            _product(
                name="天使贷",
                description="面向创业者和青年创业者的信用贷款,助力创业起步。",
                segments=(Segment.MICRO_BUSINESS, Segment.OTHER),
                amounts=(5_000, 200_000),
                auto_approval_max=50_000,
                term_months=(12, 24, 36),
                methods=(RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.INTEREST_FIRST),
                pricing=_lpr_pricing(250, "0.0450"),
                admission_rules=_rules(_ages(18, 45), _debt_ratio("0.5")),
                base_amounts=((Segment.MICRO_BUSINESS, 100_000), (Segment.OTHER, 50_000)),
                max_total_exposure=300_000,
            ),
        ),
        (
            "GXD",
            _product(
                name="公薪贷",
                description="面向机关事业单位公职人员的低利率信用消费贷款。",
                segments=(Segment.CIVIL_SERVANT,),
                amounts=(10_000, 500_000),
                auto_approval_max=200_000,
                term_months=_SALARY_TERMS,
                methods=_SALARY_METHODS,
                pricing=_lpr_pricing(50, "0.0340"),
                admission_rules=_rules(_ages(22, 60), _debt_ratio("0.6")),
                base_amounts=((Segment.CIVIL_SERVANT, 300_000),),
                max_total_exposure=800_000,
            ),
        ),
        (
            "JLD",
            _product(
                name="金领贷",
                description="面向企业白领等稳定工薪人群的信用消费贷款。",
                segments=(Segment.WHITE_COLLAR,),
                amounts=(10_000, 300_000),
                auto_approval_max=100_000,
                term_months=(12, 24, 36),
                methods=_SALARY_METHODS,
                pricing=_lpr_pricing(130, "0.0390"),
                admission_rules=_rules(_ages(22, 55), _debt_ratio("0.55")),
                base_amounts=((Segment.WHITE_COLLAR, 200_000),),
                max_total_exposure=500_000,
            ),
        ),
        (
            "XYD",
            _product(
                name="信易贷",
                description="面向小微企业主和个体工商户的经营性信用贷款。",
                segments=(Segment.MICRO_BUSINESS,),
                amounts=(10_000, 1_000_000),
                auto_approval_max=200_000,
                term_months=(6, 12, 24),
                methods=(
                    RepaymentMethod.INTEREST_FIRST,
                    RepaymentMethod.BULLET,
                    RepaymentMethod.EQUAL_INSTALLMENT,
                ),
                pricing=_lpr_pricing(280, "0.0500"),
                admission_rules=_rules(_ages(20, 65), _debt_ratio("0.6"), _BULLET_WITHIN_INCOME),
                base_amounts=((Segment.MICRO_BUSINESS, 300_000),),
                max_total_exposure=1_500_000,
            ),
        ),
        (
            "YDD",
            _product(
                name="园丁贷",
                description="面向教师的低利率信用消费贷款,线上申请,按月还款。",
                segments=(Segment.TEACHER,),
                amounts=(10_000, 500_000),
                auto_approval_max=100_000,
                term_months=_SALARY_TERMS,
                methods=_SALARY_METHODS,
                pricing=_lpr_pricing(80, "0.0360"),
                admission_rules=_rules(_ages(22, 60), _debt_ratio("0.6")),
                base_amounts=((Segment.TEACHER, 300_000),),
                max_total_exposure=800_000,
            ),
        ),
        (
            "JWKD",
            _product(
                name="吉微快贷",
                description="面向小微商户的小额快速经营贷款,5万元以内自动审批。",
                segments=(Segment.MICRO_BUSINESS,),
                amounts=(1_000, 300_000),
                auto_approval_max=50_000,
                term_months=(6, 12),
                methods=(RepaymentMethod.INTEREST_FIRST, RepaymentMethod.EQUAL_INSTALLMENT),
                pricing=Pricing(PricingKind.FIXED, fixed_rate=Decimal("0.0600")),
                admission_rules=_rules(_ages(18, 60), _debt_ratio("0.55")),
                base_amounts=((Segment.MICRO_BUSINESS, 100_000),),
                max_total_exposure=500_000,
            ),
        ),
    )

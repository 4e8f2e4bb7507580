"""Screening households with the demo 吉农快贷: who is pre-approved, for how much, and why not."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from jikuai.demo_products import demo_products
from jikuai.domain.credit.products import LoanProduct
from jikuai.domain.customers.identity_numbers import parse_id_number
from jikuai.domain.villages.model import PeerRating, ScreeningOutcome
from jikuai.domain.villages.rosters import HouseholdFacts
from jikuai.domain.villages.screening import Screener, monthly_debts

TODAY = date(2026, 12, 5)
CODE, TERMS = demo_products()[0]
PRODUCT = LoanProduct(
    uuid.uuid4(), uuid.uuid4(), CODE, 1, TERMS, True, uuid.uuid4(), datetime.now(UTC)
)
SCREENER = Screener.of(PRODUCT, annual_rate=Decimal("0.0460"), today=TODAY)


def facts(
    *,
    born: str = "19800315",
    income: str = "80000",
    debts: str = "0",
    rating: PeerRating = PeerRating.GOOD,
) -> HouseholdFacts:
    from jikuai.domain.customers.identity_numbers import id_check_character

    body = f"220182{born}123"
    id_number = parse_id_number(body + id_check_character(body), today=TODAY)
    assert id_number is not None
    return HouseholdFacts(
        line=2,
        name="王建国",
        id_number=id_number,
        phone="13804310001",
        family_size=4,
        land_area=Decimal("30.00"),
        main_business="玉米种植",
        annual_income=Decimal(income),
        existing_debts=Decimal(debts),
        peer_rating=rating,
        reviewed_on=TODAY,
        reviewers="",
    )


def test_a_good_household_is_pre_approved_for_its_graded_base() -> None:
    screening = SCREENER.screen(facts(), blacklisted=False)
    assert screening.outcome is ScreeningOutcome.PRE_APPROVED
    assert (screening.grade, screening.limit, screening.reasons) == ("AA", Decimal("65000.00"), "")


def test_a_better_peer_review_scores_higher() -> None:
    good = SCREENER.screen(facts(rating=PeerRating.GOOD), blacklisted=False)
    excellent = SCREENER.screen(facts(rating=PeerRating.EXCELLENT), blacklisted=False)
    assert excellent.score is not None
    assert good.score is not None
    assert excellent.score > good.score


def test_declined_households_say_why() -> None:
    cases = {
        "PEER_REVIEW_POOR": SCREENER.screen(facts(rating=PeerRating.POOR), blacklisted=False),
        "BLACKLISTED": SCREENER.screen(facts(), blacklisted=True),
        "AGE_OUT_OF_RANGE": SCREENER.screen(facts(born="19500101"), blacklisted=False),
        "DEBT_RATIO_HIGH": SCREENER.screen(facts(debts="500000"), blacklisted=False),
    }
    for reason, screening in cases.items():
        assert screening.outcome is ScreeningOutcome.DECLINED
        assert reason in screening.reasons.split(",")
        assert screening.limit is None


def test_debts_are_repaid_over_a_year() -> None:
    assert monthly_debts(Decimal("10000")) == Decimal("833.33")


@given(
    income=st.integers(min_value=0, max_value=2_000_000),
    debts=st.integers(min_value=0, max_value=600_000),
    rating=st.sampled_from(PeerRating),
)
def test_a_pre_approved_line_keeps_to_the_product(
    income: int, debts: int, rating: PeerRating
) -> None:
    screening = SCREENER.screen(
        facts(income=str(income), debts=str(debts), rating=rating), blacklisted=False
    )
    if screening.outcome is ScreeningOutcome.PRE_APPROVED:
        assert screening.limit is not None
        assert TERMS.min_amount <= screening.limit <= TERMS.max_amount
        assert screening.limit % 100 == 0
        assert screening.limit <= TERMS.limit_policy.max_total_exposure - debts
    else:
        assert screening.limit is None
        assert screening.reasons

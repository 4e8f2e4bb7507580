"""Screening a household (预授信): the 吉农快贷 decision, taken from the roster alone.

A household is screened as a whitelisted farmer who asks for the product's smallest line:
admission rules, scorecard and limit policy all apply as they would to an application, with the
roster standing in for what an application declares. Its estimated debts are its exposure
elsewhere, and are assumed repaid over a year (a twelfth a month). The limit the decision
reaches is the pre-approved line; a household the decision rejects is declined, with the
reasons. When the farmer later accepts, the same product decides again on their live record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jikuai.domain.credit.decisions import Applicant, Outcome, Request, decide, monthly_obligation
from jikuai.domain.credit.model import RepaymentMethod
from jikuai.domain.credit.products import LoanProduct
from jikuai.domain.customers.identity_numbers import age_on
from jikuai.domain.customers.model import Segment
from jikuai.domain.shared.money import cents
from jikuai.domain.villages.model import Screening, ScreeningOutcome
from jikuai.domain.villages.rosters import HouseholdFacts

SCREENING_PRODUCT = "JNKD"  # 吉农快贷, the product whole-village credit pre-approves
MONTHS_TO_REPAY_DEBTS = 12
MAX_REMEMBERED = 100_000  # decisions kept, about 50 MB at most


# A decision depends on nothing but the product version, the request, the day and the
# household's values, so households that look the same to it (a roster's incomes and debts are
# estimates, in round figures) are decided once per process. Never stale: the key is every input.
_DECIDED: dict[tuple[object, ...], Screening] = {}


@dataclass(frozen=True, slots=True)
class Screener:
    """Screens the households of one import against one product version on one day."""

    product: LoanProduct
    request: Request
    today: date

    @classmethod
    def of(cls, product: LoanProduct, *, annual_rate: Decimal, today: date) -> Screener:
        """A screener asking for the product's smallest line at the day's rate."""
        terms = product.terms
        amount = terms.min_amount
        monthly = monthly_obligation(
            amount,
            annual_rate=annual_rate,
            method=RepaymentMethod.REVOLVING,
            term_months=None,
            days_in_year=terms.days_in_year,
            start=today,
        )
        return cls(product, Request(amount, None, RepaymentMethod.REVOLVING, monthly), today)

    def screen(self, facts: HouseholdFacts, *, blacklisted: bool) -> Screening:
        # Everything `applicant` reads from the household, which is all that varies.
        key = (
            self.product.id,
            self.request,
            self.today,
            age_on(facts.id_number.birth_date, self.today),
            facts.annual_income,
            facts.existing_debts,
            facts.peer_rating,
            blacklisted,
        )
        known = _DECIDED.get(key)
        if known is None:
            if len(_DECIDED) >= MAX_REMEMBERED:
                _DECIDED.clear()
            known = _DECIDED[key] = self._decide(self.applicant(facts, blacklisted))
        return known

    def _decide(self, applicant: Applicant) -> Screening:
        decision = decide(self.product.terms, applicant, self.request)
        score = decision.score
        if decision.outcome is Outcome.REJECTED or decision.limit is None or score is None:
            return Screening(
                ScreeningOutcome.DECLINED,
                score.score if score else None,
                score.grade.value if score else None,
                None,
                ",".join(decision.reasons),
            )
        return Screening(
            ScreeningOutcome.PRE_APPROVED, score.score, score.grade.value, decision.limit.limit, ""
        )

    def applicant(self, facts: HouseholdFacts, blacklisted: bool) -> Applicant:
        """The household as the decision sees an applicant."""
        return Applicant(
            age=age_on(facts.id_number.birth_date, self.today),
            segment=Segment.FARMER,
            identity_verified=True,  # the committee and the loan officer vouch for the roster
            blacklisted=blacklisted,
            whitelisted=True,
            whitelist_limit=None,
            current_overdue=False,
            overdue_months_24=0,
            max_consecutive_overdue_24=0,
            annual_income=facts.annual_income,
            monthly_debt_payments=monthly_debts(facts.existing_debts),
            existing_exposure=facts.existing_debts,
            peer_rating=facts.peer_rating.value,
        )


def monthly_debts(existing_debts: Decimal) -> Decimal:
    """What a household's estimated debts cost it a month, repaid over a year."""
    return cents(existing_debts / MONTHS_TO_REPAY_DEBTS)

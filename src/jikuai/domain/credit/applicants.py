"""What is known about an applicant when deciding: lists, repayment history, exposure.

The facts come from the bank's own records: white and black list entries in force, the last 24
months of installments (for 连三累六, three months in a row or six in all paid late), arrears
still unpaid however old, the customer's total exposure (see `LoanRepository.exposure`), and the
village peer review's rating of the household the customer heads, if one is on a roster.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from jikuai.domain.credit.decisions import Applicant
from jikuai.domain.credit.lists import ListKind
from jikuai.domain.credit.ports import InstallmentHistory
from jikuai.domain.customers.identity_numbers import age_on
from jikuai.domain.customers.model import Customer
from jikuai.domain.ports import Repositories

HISTORY_DAYS = 730  # the last 24 months that 连三累六 looks at


async def applicant_facts(
    reads: Repositories,
    customer: Customer,
    *,
    annual_income: Decimal,
    monthly_debt_payments: Decimal,
    today: date,
) -> Applicant:
    entries = await reads.credit_lists.for_id_number(
        customer.institution_id, customer.id_number_bidx
    )
    in_force = [entry for entry in entries if entry.in_force(today)]
    whitelist = [entry for entry in in_force if entry.kind is ListKind.WHITELIST]
    limits = [entry.limit_amount for entry in whitelist if entry.limit_amount is not None]
    since = today - timedelta(days=HISTORY_DAYS)
    history = await reads.loans.installment_history(customer.id, due_since=since)
    months = overdue_months([each for each in history if each.due_date >= since], today)
    households = await reads.villages.households_by_index(
        customer.institution_id, [customer.id_number_bidx]
    )
    return Applicant(
        age=age_on(customer.birth_date, today),
        segment=customer.segment,
        identity_verified=customer.registered_by_staff_id is not None or bool(whitelist),
        blacklisted=any(entry.kind is ListKind.BLACKLIST for entry in in_force),
        whitelisted=bool(whitelist),
        whitelist_limit=max(limits) if limits else None,
        current_overdue=any(each.paid_on is None and each.due_date < today for each in history),
        overdue_months_24=len(months),
        max_consecutive_overdue_24=longest_run(months),
        annual_income=annual_income,
        monthly_debt_payments=monthly_debt_payments,
        existing_exposure=await reads.loans.exposure(customer.id),
        peer_rating=households[0].peer_rating.value if households else None,
    )


def overdue_months(history: Sequence[InstallmentHistory], today: date) -> set[int]:
    """Months (as year × 12 + month) in which an installment was paid after its grace, or is
    still unpaid past it: what 连三累六 counts."""
    months = set()
    for each in history:
        deadline = each.due_date + timedelta(days=each.grace_days)
        late = each.paid_on > deadline if each.paid_on is not None else deadline < today
        if late:
            months.add(each.due_date.year * 12 + each.due_date.month)
    return months


def longest_run(months: set[int]) -> int:
    """The most months in a row in `months`."""
    longest = 0
    for month in months:
        if month - 1 not in months:
            length = 1
            while month + length in months:
                length += 1
            longest = max(longest, length)
    return longest

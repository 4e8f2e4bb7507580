"""A pre-approved farmer's offer (预授信额度): seen in the app, accepted in one step.

A farmer whose household was pre-approved signs in with WeChat and registers with the ID number
the roster has; from then on the app shows the offer until it expires. Accepting it applies for
the pre-approved line of 吉农快贷 with what the roster says of the household's income and debts:
the product decides again on the farmer's live record (blacklist, arrears, exposure), and an
automatic approval opens the line at once, so the farmer can draw on it straight away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from jikuai.domain.credit.applications import ApplicationState, LoanApplication
from jikuai.domain.credit.lines import CreditLine
from jikuai.domain.credit.model import RepaymentMethod
from jikuai.domain.credit.origination import ApplyForLoan, submit_within
from jikuai.domain.credit.products import LoanProduct
from jikuai.domain.customers.model import Customer
from jikuai.domain.ports import Repositories, UnitOfWork
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Village
from jikuai.domain.villages.model import Household
from jikuai.domain.villages.screening import monthly_debts

OFFER_PURPOSE = "整村授信预授信"


@dataclass(frozen=True, slots=True)
class Offer:
    """The household's pre-approved line, the village it came from and the product's current
    version the farmer would accept it under."""

    household: Household
    village: Village
    product: LoanProduct


@dataclass(frozen=True, slots=True)
class Accepted:
    application: LoanApplication
    credit_line: CreditLine | None  # None while the application waits for a reviewer


async def open_offer(actor: Actor, reads: Repositories, *, today: date) -> Offer | None:
    """The signed-up customer's open offer, if their household has one."""
    if not actor.is_customer:
        raise PermissionDenied
    customer = await _customer_of(actor, reads)
    if customer is None:
        return None
    households = await reads.villages.households_by_index(
        customer.institution_id, [customer.id_number_bidx]
    )
    if not households or not households[0].offer_open_on(today):
        return None
    household = households[0]
    village = await reads.tenancy.village(household.village_id)
    product = await reads.products.latest_of(household.product_id)
    if village is None or product is None or not product.active:
        return None
    return Offer(household, village, product)


async def accept_offer(*, actor: Actor, uow: UnitOfWork, now: datetime, today: date) -> Accepted:
    """Apply for the offered line as the roster describes the household; OFFER_NOT_AVAILABLE
    when there is none (or no longer one: it was accepted meanwhile, or expired)."""
    if not actor.is_customer:
        raise PermissionDenied
    async with uow:
        customer = await _customer_of(actor, uow)
        if customer is None:
            raise DomainError(ErrorCode.OFFER_NOT_AVAILABLE)
        await uow.customers.lock(customer.id)  # one acceptance at a time
        offer = await open_offer(actor, uow, today=today)
        limit = offer.household.pre_approved_limit if offer else None
        if offer is None or limit is None:
            raise DomainError(ErrorCode.OFFER_NOT_AVAILABLE)
        household = offer.household
        command = ApplyForLoan(
            customer_id=customer.id,
            product_id=offer.product.id,
            amount=limit,
            term_months=None,
            method=RepaymentMethod.REVOLVING,
            annual_income=household.annual_income,
            monthly_debt_payments=monthly_debts(household.existing_debts),
            purpose=OFFER_PURPOSE,
        )
        application = await submit_within(uow, command, actor=actor, now=now, today=today)
        line = await _line_of(uow, application)
        if application.state is not ApplicationState.REJECTED:
            accepted = await uow.villages.accept(
                household.id, credit_line_id=line.id if line else None, at=now
            )
            if not accepted:
                raise DomainError(ErrorCode.OFFER_NOT_AVAILABLE)
        await uow.commit()
    return Accepted(application, line)


async def _customer_of(actor: Actor, reads: Repositories) -> Customer | None:
    if actor.customer_id is None:
        return None
    found = await reads.customers.by_id([actor.customer_id], institution_id=None)
    return found[0] if found else None


async def _line_of(reads: Repositories, application: LoanApplication) -> CreditLine | None:
    lines = await reads.credit_lines.of_customers([application.customer_id])
    return next((line for line in lines if line.application_id == application.id), None)

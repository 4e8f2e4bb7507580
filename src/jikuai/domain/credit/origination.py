"""From application to money: decide, review, sign, disburse; open credit lines.

`submit_application` runs the whole decision and, for an automatic approval, approves in the
same transaction: a whitelisted farmer within the limit is approved by one call. An approved
revolving application opens its credit line at once; any other goes on to a signed contract,
whose rate is fixed from that day's LPR, and to disbursement, which books the loan and its
schedule.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from jikuai.domain.credit.access import APPLYING_STAFF, CREDIT_STAFF, DISBURSING_STAFF
from jikuai.domain.credit.applications import ApplicationState, Contract, LoanApplication
from jikuai.domain.credit.decisions import (
    Applicant,
    Decision,
    Outcome,
    Request,
    decide,
    monthly_obligation,
)
from jikuai.domain.credit.lines import CreditLine, CreditLineStatus
from jikuai.domain.credit.lists import ListKind
from jikuai.domain.credit.model import (
    Classification,
    Loan,
    LoanInstallment,
    LoanStatus,
    RepaymentMethod,
)
from jikuai.domain.credit.ports import InstallmentHistory
from jikuai.domain.credit.products import LoanProduct, ProductTerms, lpr_on
from jikuai.domain.credit.schedules import Schedule, build_schedule, due_date
from jikuai.domain.customers.identity_numbers import age_on
from jikuai.domain.customers.model import Customer
from jikuai.domain.ports import Repositories, UnitOfWork
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.shared.money import ZERO, cents
from jikuai.domain.tenancy.actors import Actor

_S = ApplicationState
HISTORY_DAYS = 730  # the last 24 months that 连三累六 looks at


@dataclass(frozen=True, slots=True)
class ApplyForLoan:
    customer_id: uuid.UUID
    product_id: uuid.UUID
    amount: Decimal
    term_months: int | None
    method: RepaymentMethod
    annual_income: Decimal
    monthly_debt_payments: Decimal = ZERO
    purpose: str = ""


@dataclass(frozen=True, slots=True)
class Review:
    application_id: uuid.UUID
    approve: bool
    amount: Decimal | None
    term_months: int | None
    reason: str


async def preview_decision(
    command: ApplyForLoan, *, actor: Actor, reads: Repositories, today: date
) -> Decision:
    """The whole pipeline for staff, saving nothing."""
    if not actor.is_staff or actor.role not in CREDIT_STAFF:
        raise PermissionDenied
    customer = await _customer(reads, actor, command.customer_id)
    product = await _offered_product(reads, command.product_id, customer)
    decision, _ = await _decide(reads, product, customer, command, today)
    return decision


async def submit_application(
    command: ApplyForLoan, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> LoanApplication:
    if actor.is_staff and actor.role not in APPLYING_STAFF:
        raise PermissionDenied
    async with uow:
        customer = await _customer(uow, actor, command.customer_id)
        product = await _offered_product(uow, command.product_id, customer)
        decision, record = await _decide(uow, product, customer, command, today)
        application = LoanApplication(
            id=new_id(),
            institution_id=customer.institution_id,
            customer_id=customer.id,
            product_id=product.id,
            amount=command.amount,
            term_months=command.term_months,
            method=command.method,
            purpose=command.purpose.strip()[:200],
            annual_income=command.annual_income,
            monthly_debt_payments=command.monthly_debt_payments,
            state=_S.SUBMITTED,
            decision=record,
            approved_amount=None,
            approved_term_months=None,
            submitted_by_staff_id=actor.id if actor.is_staff else None,
            reviewed_by_staff_id=None,
            contract=None,
            created_at=now,
            updated_at=now,
        )
        reason = ",".join(decision.reasons) or None
        transitions = [
            application.created(actor=actor, now=now),
            application.move(_S(decision.outcome.value), actor=None, reason=reason, now=now),
        ]
        approved = decision.outcome is Outcome.AUTO_APPROVED
        if approved:
            application.approved_amount = command.amount
            application.approved_term_months = command.term_months
            transitions.append(application.move(_S.APPROVED, actor=None, reason="auto", now=now))
        await uow.applications.add(application, transitions)
        if approved and product.terms.revolving:
            await _open_credit_line(uow, application, product, now=now, today=today)
        await uow.commit()
    return application


async def review_application(
    command: Review, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> LoanApplication:
    """Approve (with amount and term) or reject an application in manual review."""
    if not actor.is_staff:
        raise PermissionDenied
    async with uow:
        application = await _application_for_staff(uow, actor, command.application_id)
        if application.state is not _S.MANUAL_REVIEW:
            raise DomainError(ErrorCode.INVALID_STATE)
        if application.submitted_by_staff_id == actor.id:
            raise DomainError(ErrorCode.OWN_APPLICATION)
        product = (await uow.products.by_id([application.product_id]))[0]
        terms = product.terms
        if not command.approve:
            moved = application.move(_S.REJECTED, actor=actor, reason=command.reason, now=now)
        else:
            amount = command.amount if command.amount is not None else application.amount
            term = (
                command.term_months if command.term_months is not None else application.term_months
            )
            _check_request(terms, amount, term, application.method)
            if not any(each.role is actor.role for each in terms.approval_authority):
                raise PermissionDenied
            if not terms.may_approve(actor.role, amount):
                raise DomainError(ErrorCode.AMOUNT_ABOVE_AUTHORITY, field=("amount",))
            application.approved_amount = amount
            application.approved_term_months = term
            moved = application.move(_S.APPROVED, actor=actor, reason=command.reason, now=now)
        application.reviewed_by_staff_id = actor.id
        await uow.applications.save(application, [moved])
        if command.approve and terms.revolving:
            await _open_credit_line(uow, application, product, now=now, today=today)
        await uow.commit()
    return application


async def withdraw_application(
    application_id: uuid.UUID, reason: str, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> LoanApplication:
    async with uow:
        application = await uow.applications.for_update(application_id)
        if application is None or not _may_act_on(actor, application):
            raise DomainError(ErrorCode.NOT_FOUND, field=("applicationId",))
        moved = application.move(_S.WITHDRAWN, actor=actor, reason=reason or None, now=now)
        await uow.applications.save(application, [moved])
        await uow.commit()
    return application


async def sign_contract(
    application_id: uuid.UUID, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> LoanApplication:
    """The customer signs (签约): the rate is fixed from today's LPR + spread, floored."""
    if not actor.is_customer:
        raise PermissionDenied
    async with uow:
        application = await uow.applications.for_update(application_id)
        if application is None or application.customer_id != actor.customer_id:
            raise DomainError(ErrorCode.NOT_FOUND, field=("applicationId",))
        product = (await uow.products.by_id([application.product_id]))[0]
        if product.terms.revolving:
            raise DomainError(ErrorCode.INVALID_STATE)  # its line opened at approval
        rate, lpr = await _contract_rate(uow, product.terms, today)
        application.contract = Contract(
            contract_no=_contract_number("JK", today),
            annual_rate=rate,
            lpr_rate=lpr.rate if lpr else None,
            lpr_published_on=lpr.published_on if lpr else None,
            signed_at=now,
        )
        moved = application.move(_S.CONTRACT_SIGNED, actor=actor, reason=None, now=now)
        await uow.applications.save(application, [moved])
        await uow.commit()
    return application


async def disburse(
    application_id: uuid.UUID, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> Loan:
    """Pay out a signed contract (放款): the loan and its schedule start today."""
    if not actor.is_staff or actor.role not in DISBURSING_STAFF:
        raise PermissionDenied
    async with uow:
        application = await _application_for_staff(uow, actor, application_id)
        if application.state is not _S.CONTRACT_SIGNED or application.contract is None:
            raise DomainError(ErrorCode.INVALID_STATE)
        product = (await uow.products.by_id([application.product_id]))[0]
        amount, term_months = application.approved_terms
        schedule = build_schedule(
            amount,
            annual_rate=application.contract.annual_rate,
            method=application.method,
            start=today,
            term_months=term_months,
            days_in_year=product.terms.days_in_year,
        )
        loan = new_loan(
            product,
            customer_id=application.customer_id,
            principal=amount,
            annual_rate=application.contract.annual_rate,
            method=application.method,
            schedule=schedule,
            contract_no=application.contract.contract_no,
            start=today,
            now=now,
            application_id=application.id,
            officer_id=application.submitted_by_staff_id or actor.id,
        )
        await uow.loans.add(loan, installments_of(loan, schedule))
        moved = application.move(_S.DISBURSED, actor=actor, reason=None, now=now)
        await uow.applications.save(application, [moved])
        await uow.commit()
    return loan


def new_loan(
    product: LoanProduct,
    *,
    customer_id: uuid.UUID,
    principal: Decimal,
    annual_rate: Decimal,
    method: RepaymentMethod,
    schedule: Schedule,
    contract_no: str,
    start: date,
    now: datetime,
    application_id: uuid.UUID | None = None,
    credit_line_id: uuid.UUID | None = None,
    officer_id: uuid.UUID | None = None,
    term_days: int | None = None,
) -> Loan:
    terms = product.terms
    return Loan(
        id=new_id(),
        institution_id=product.institution_id,
        customer_id=customer_id,
        product_id=product.id,
        application_id=application_id,
        credit_line_id=credit_line_id,
        officer_id=officer_id,
        contract_no=contract_no,
        method=method,
        principal=principal,
        annual_rate=annual_rate,
        penalty_rate=terms.penalty_rate(annual_rate),
        days_in_year=terms.days_in_year,
        grace_days=terms.grace_days,
        allocation_order=terms.allocation_order,
        term_months=None if term_days is not None else len(schedule.installments),
        term_days=term_days,
        start_date=start,
        maturity_date=schedule.installments[-1].due_date,
        status=LoanStatus.ACTIVE,
        outstanding_principal=principal,
        interest_accrued_to=start,
        days_past_due=0,
        classification=Classification.NORMAL,
        classification_override=None,
        closed_on=None,
        created_at=now,
        updated_at=now,
    )


def installments_of(loan: Loan, schedule: Schedule) -> list[LoanInstallment]:
    """The booked installments of a schedule. A drawdown's interest accrues day by day, so
    its one installment starts with none."""
    accrues_daily = loan.method is RepaymentMethod.REVOLVING
    return [
        LoanInstallment(
            loan_id=loan.id,
            number=each.number,
            due_date=each.due_date,
            principal=each.principal,
            interest=ZERO if accrues_daily else each.interest,
        )
        for each in schedule.installments
    ]


async def _open_credit_line(
    uow: UnitOfWork,
    application: LoanApplication,
    product: LoanProduct,
    *,
    now: datetime,
    today: date,
) -> None:
    """Approving a revolving product opens its line (授信); approval is its contract, so the
    rate is fixed from the LPR of the approval date."""
    limit, _ = application.approved_terms
    rate, _ = await _contract_rate(uow, product.terms, today)
    await uow.credit_lines.add(
        CreditLine(
            id=new_id(),
            institution_id=application.institution_id,
            customer_id=application.customer_id,
            product_id=product.id,
            application_id=application.id,
            limit_amount=limit,
            used_amount=ZERO,
            annual_rate=rate,
            contract_no=_contract_number("SX", today),
            valid_until=due_date(today, product.terms.credit_line_months),
            status=CreditLineStatus.ACTIVE,
            created_at=now,
            updated_at=now,
        )
    )


async def _contract_rate(
    reads: Repositories, terms: ProductTerms, day: date
) -> tuple[Decimal, Any]:
    pricing = terms.pricing
    lpr = None
    if pricing.lpr_tenor is not None:
        lpr = lpr_on(await reads.products.lpr_rates(), pricing.lpr_tenor, day)
    return pricing.rate(lpr), lpr


def _contract_number(prefix: str, day: date) -> str:
    return f"{prefix}{day:%Y%m%d}{secrets.token_hex(5).upper()}"


async def _customer(reads: Repositories, actor: Actor, customer_id: uuid.UUID) -> Customer:
    """The applicant: the customer themself, or one of the staff member's institution."""
    found = await reads.customers.by_id([customer_id], institution_id=None)
    if not found or not actor.may_see_customer(found[0].id, found[0].institution_id):
        raise DomainError(ErrorCode.NOT_FOUND, field=("customerId",))
    return found[0]


async def _offered_product(
    reads: Repositories, product_id: uuid.UUID, customer: Customer
) -> LoanProduct:
    """The newest version of the product the client showed, if offered to this customer."""
    latest = await reads.products.latest_of(product_id)
    if latest is None or latest.institution_id != customer.institution_id:
        raise DomainError(ErrorCode.NOT_FOUND, field=("productId",))
    if not latest.offered_to(customer.segment):
        raise DomainError(ErrorCode.PRODUCT_NOT_OFFERED, field=("productId",))
    return latest


async def _decide(
    reads: Repositories,
    product: LoanProduct,
    customer: Customer,
    command: ApplyForLoan,
    today: date,
) -> tuple[Decision, dict[str, Any]]:
    terms = product.terms
    _check_request(terms, command.amount, command.term_months, command.method)
    if command.annual_income < 0 or command.monthly_debt_payments < 0:
        raise DomainError(ErrorCode.INVALID_AMOUNT, field=("annualIncome",))
    rate, lpr = await _contract_rate(reads, terms, today)
    monthly = monthly_obligation(
        command.amount,
        annual_rate=rate,
        method=command.method,
        term_months=command.term_months,
        days_in_year=terms.days_in_year,
        start=today,
    )
    applicant = await _applicant(reads, customer, command, today)
    decision = decide(
        terms, applicant, Request(command.amount, command.term_months, command.method, monthly)
    )
    record = decision.record() | {
        "productCode": product.code,
        "productVersion": product.version,
        "annualRate": str(rate),
        "lpr": str(lpr.rate) if lpr else None,
        "decidedOn": today.isoformat(),
    }
    return decision, record


def _check_request(
    terms: ProductTerms, amount: Decimal, term_months: int | None, method: RepaymentMethod
) -> None:
    errors = []
    if amount != cents(amount) or not terms.min_amount <= amount <= terms.max_amount:
        errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=("amount",)))
    if method not in terms.methods:
        errors.append(DomainError(ErrorCode.INVALID_METHOD, field=("method",)))
    revolving = method is RepaymentMethod.REVOLVING
    if (revolving and term_months is not None) or (
        not revolving and term_months not in terms.term_months
    ):
        errors.append(DomainError(ErrorCode.INVALID_TERM, field=("termMonths",)))
    if errors:
        raise DomainErrors(errors)


async def _applicant(
    reads: Repositories, customer: Customer, command: ApplyForLoan, today: date
) -> Applicant:
    entries = await reads.credit_lists.for_id_number(
        customer.institution_id, customer.id_number_bidx
    )
    in_force = [entry for entry in entries if entry.in_force(today)]
    whitelist = [entry for entry in in_force if entry.kind is ListKind.WHITELIST]
    limits = [entry.limit_amount for entry in whitelist if entry.limit_amount is not None]
    since = today - timedelta(days=HISTORY_DAYS)
    history = await reads.loans.installment_history(customer.id, due_since=since)
    months = _overdue_months([each for each in history if each.due_date >= since], today)
    return Applicant(
        age=age_on(customer.birth_date, today),
        segment=customer.segment,
        identity_verified=customer.registered_by_staff_id is not None or bool(whitelist),
        blacklisted=any(entry.kind is ListKind.BLACKLIST for entry in in_force),
        whitelisted=bool(whitelist),
        whitelist_limit=max(limits) if limits else None,
        current_overdue=any(each.paid_on is None and each.due_date < today for each in history),
        overdue_months_24=len(months),
        max_consecutive_overdue_24=_longest_run(months),
        annual_income=command.annual_income,
        monthly_debt_payments=command.monthly_debt_payments,
        existing_exposure=await reads.loans.exposure(customer.id),
    )


def _overdue_months(history: Sequence[InstallmentHistory], today: date) -> set[int]:
    """Months (as year × 12 + month) in which an installment was paid after its grace, or is
    still unpaid past it: what 连三累六 counts."""
    months = set()
    for each in history:
        deadline = each.due_date + timedelta(days=each.grace_days)
        late = each.paid_on > deadline if each.paid_on is not None else deadline < today
        if late:
            months.add(each.due_date.year * 12 + each.due_date.month)
    return months


def _longest_run(months: set[int]) -> int:
    longest = 0
    for month in months:
        if month - 1 not in months:
            length = 1
            while month + length in months:
                length += 1
            longest = max(longest, length)
    return longest


def _may_act_on(actor: Actor, application: LoanApplication) -> bool:
    if actor.is_customer:
        return actor.customer_id == application.customer_id
    return actor.role in CREDIT_STAFF and actor.institution_id == application.institution_id


async def _application_for_staff(
    uow: UnitOfWork, actor: Actor, application_id: uuid.UUID
) -> LoanApplication:
    application = await uow.applications.for_update(application_id)
    if application is None or application.institution_id != actor.institution_id:
        raise DomainError(ErrorCode.NOT_FOUND, field=("applicationId",))
    return application

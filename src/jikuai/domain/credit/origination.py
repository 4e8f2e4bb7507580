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
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jikuai.domain.credit.access import (
    APPLYING_STAFF,
    CREDIT_STAFF,
    DISBURSING_STAFF,
    acts_on_credit_of,
)
from jikuai.domain.credit.applicants import applicant_facts
from jikuai.domain.credit.applications import (
    ApplicationState,
    Contract,
    LoanApplication,
    Transition,
)
from jikuai.domain.credit.decisions import (
    Decision,
    Outcome,
    Request,
    decide,
    monthly_obligation,
)
from jikuai.domain.credit.lines import CreditLine, CreditLineStatus
from jikuai.domain.credit.model import (
    Classification,
    Loan,
    LoanInstallment,
    LoanStatus,
    RepaymentMethod,
)
from jikuai.domain.credit.products import LoanProduct, LprRate, ProductTerms
from jikuai.domain.credit.schedules import Schedule, build_schedule, due_date
from jikuai.domain.customers.model import Customer
from jikuai.domain.ports import Repositories, UnitOfWork
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode, PermissionDenied
from jikuai.domain.shared.ids import new_id
from jikuai.domain.shared.money import ZERO, cents, exact_cents
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role

_S = ApplicationState


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
    decision, _ = await _decide(reads, product, customer, _checked(command, product), today)
    return decision


async def save_draft(
    command: ApplyForLoan,
    draft_id: uuid.UUID | None,
    *,
    actor: Actor,
    uow: UnitOfWork,
    now: datetime,
) -> LoanApplication:
    """Keep an application being filled in (DRAFT): a new one, or `draft_id` changed. The
    request is checked against the product as a submission would be, but nothing is decided."""
    _may_apply(actor)
    async with uow:
        customer = await _customer(uow, actor, command.customer_id)
        product = await _offered_product(uow, command.product_id, customer)
        command = _checked(command, product)
        if draft_id is None:
            draft = _new_application(command, customer, product, actor, _S.DRAFT, now)
            await uow.applications.add(draft, [draft.created(actor=actor, now=now)])
        else:
            draft = await _own_application(uow, actor, draft_id)
            if draft.state is not _S.DRAFT or draft.customer_id != customer.id:
                raise DomainError(ErrorCode.INVALID_STATE)
            _fill(draft, command, product, now)
            _note_applying_staff(draft, actor)
            await uow.applications.save(draft, [])
        await uow.commit()
    return draft


async def submit_application(
    command: ApplyForLoan, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> LoanApplication:
    """Apply and be decided at once; an automatic approval approves in the same call."""
    _may_apply(actor)
    async with uow:
        application = await submit_within(uow, command, actor=actor, now=now, today=today)
        await uow.commit()
    return application


async def submit_within(
    uow: UnitOfWork, command: ApplyForLoan, *, actor: Actor, now: datetime, today: date
) -> LoanApplication:
    """`submit_application` inside the caller's transaction, for a use case that does more
    in the same one (accepting a whole-village credit offer). The caller checks the actor."""
    customer = await _customer(uow, actor, command.customer_id, lock=True)
    product = await _offered_product(uow, command.product_id, customer)
    command = _checked(command, product)
    application = _new_application(command, customer, product, actor, _S.SUBMITTED, now)
    transitions = [application.created(actor=actor, now=now)]
    transitions += await _decided(uow, application, product, customer, command, today, now)
    await uow.applications.add(application, transitions)
    await _open_line_if_approved(uow, application, product, now=now, today=today)
    return application


async def submit_draft(
    application_id: uuid.UUID, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> LoanApplication:
    """Submit a saved draft under the product's newest version, decided as `submit` is."""
    _may_apply(actor)
    async with uow:
        application = await _own_application(uow, actor, application_id)
        if application.state is not _S.DRAFT:
            raise DomainError(ErrorCode.INVALID_STATE)
        customer = await _customer(uow, actor, application.customer_id, lock=True)
        product = await _offered_product(uow, application.product_id, customer)
        command = _checked(_command_of(application), product)
        _fill(application, command, product, now)
        _note_applying_staff(application, actor)
        transitions = [application.move(_S.SUBMITTED, actor=actor, reason=None, now=now)]
        transitions += await _decided(uow, application, product, customer, command, today, now)
        await uow.applications.save(application, transitions)
        await _open_line_if_approved(uow, application, product, now=now, today=today)
        await uow.commit()
    return application


async def review_application(
    command: Review, *, actor: Actor, uow: UnitOfWork, now: datetime, today: date
) -> LoanApplication:
    """Approve (with amount and term) or reject an application in manual review. Either takes
    a role of the product's approval authority, and someone who had no hand in the application.
    An approval also takes the amount into the reviewer's authority, the limit the decision set
    (the suggested amount when none is given) and, under the customer's lock, the room the
    customer's total exposure still leaves: other approvals may have come since the decision."""
    if not actor.is_staff:
        raise PermissionDenied
    async with uow:
        application = await _application_for_staff(uow, actor, command.application_id)
        if application.state is not _S.MANUAL_REVIEW:
            raise DomainError(ErrorCode.INVALID_STATE)
        product = (await uow.products.by_id([application.product_id]))[0]
        terms = product.terms
        if not any(each.role is actor.role for each in terms.approval_authority):
            raise PermissionDenied
        if await _had_a_hand_in(uow, actor, application):
            raise DomainError(ErrorCode.OWN_APPLICATION)
        if command.approve:
            customer = await _customer(uow, actor, application.customer_id, lock=True)
            amount, term = _approved_terms(command, application, terms, actor.role)
            room = terms.limit_policy.max_total_exposure - await uow.loans.exposure(customer.id)
            if amount > room:
                raise DomainError(ErrorCode.LIMIT_EXCEEDED, field=("amount",))
            if terms.revolving and await _has_open_line(uow, customer, product):
                raise DomainError(ErrorCode.CREDIT_LINE_EXISTS)
            application.approved_amount, application.approved_term_months = amount, term
            moved = application.move(_S.APPROVED, actor=actor, reason=command.reason, now=now)
        else:
            moved = application.move(_S.REJECTED, actor=actor, reason=command.reason, now=now)
        application.reviewed_by_staff_id = actor.id
        await uow.applications.save(application, [moved])
        await _open_line_if_approved(uow, application, product, now=now, today=today)
        await uow.commit()
    return application


async def _had_a_hand_in(uow: UnitOfWork, actor: Actor, application: LoanApplication) -> bool:
    """Whether the staff member submitted the application or moved it before (四眼原则)."""
    if application.submitted_by_staff_id == actor.id:
        return True
    history = (await uow.applications.transitions_of([application.id])).get(application.id, [])
    return any(each.actor_id == actor.id for each in history)


async def withdraw_application(
    application_id: uuid.UUID, reason: str, *, actor: Actor, uow: UnitOfWork, now: datetime
) -> LoanApplication:
    """Withdraw before the money moves. An approved credit line cannot be withdrawn this way:
    its approval opened the line, which is the contract."""
    async with uow:
        application = await _own_application(uow, actor, application_id)
        if application.state is _S.APPROVED:
            product = (await uow.products.by_id([application.product_id]))[0]
            if product.terms.revolving:
                raise DomainError(ErrorCode.INVALID_STATE)
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
        application = await _own_application(uow, actor, application_id)
        product = (await uow.products.by_id([application.product_id]))[0]
        if product.terms.revolving:
            raise DomainError(ErrorCode.INVALID_STATE)  # its line opened at approval
        rate, lpr = await contract_rate(uow, product.terms, today)
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
    """Pay out a signed contract (放款): the loan and its schedule start today. The customer's
    total exposure is checked again under a lock: what was approved may no longer fit."""
    if not actor.is_staff or actor.role not in DISBURSING_STAFF:
        raise PermissionDenied
    async with uow:
        application = await _application_for_staff(uow, actor, application_id)
        if application.state is not _S.CONTRACT_SIGNED or application.contract is None:
            raise DomainError(ErrorCode.INVALID_STATE)
        product = (await uow.products.by_id([application.product_id]))[0]
        await _customer(uow, actor, application.customer_id, lock=True)
        exposure = await uow.loans.exposure(application.customer_id)  # this approval included
        if exposure > product.terms.limit_policy.max_total_exposure:
            raise DomainError(ErrorCode.LIMIT_EXCEEDED)
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


async def _open_line_if_approved(
    uow: UnitOfWork,
    application: LoanApplication,
    product: LoanProduct,
    *,
    now: datetime,
    today: date,
) -> None:
    """Approving a revolving product opens its line (授信); approval is its contract, so the
    rate is fixed from the LPR of the approval date."""
    if application.state is not _S.APPROVED or not product.terms.revolving:
        return
    limit, _ = application.approved_terms
    rate, _ = await contract_rate(uow, product.terms, today)
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


async def _decided(
    uow: UnitOfWork,
    application: LoanApplication,
    product: LoanProduct,
    customer: Customer,
    command: ApplyForLoan,
    today: date,
    now: datetime,
) -> list[Transition]:
    """Decide a SUBMITTED application and move it to the outcome (and on to APPROVED when the
    outcome is automatic approval); the transitions, for the caller to store."""
    if product.terms.revolving and await _has_open_line(uow, customer, product):
        raise DomainError(ErrorCode.CREDIT_LINE_EXISTS, field=("productId",))
    decision, record = await _decide(uow, product, customer, command, today)
    application.decision = record
    reason = ",".join(decision.reasons) or None
    outcome = _S(decision.outcome.value)
    transitions = [application.move(outcome, actor=None, reason=reason, now=now)]
    if decision.outcome is Outcome.AUTO_APPROVED:
        application.approved_amount = command.amount
        application.approved_term_months = command.term_months
        transitions.append(application.move(_S.APPROVED, actor=None, reason="auto", now=now))
    return transitions


async def _has_open_line(uow: UnitOfWork, customer: Customer, product: LoanProduct) -> bool:
    """Whether the customer has an active line of this product, under any of its versions."""
    lines = await uow.credit_lines.of_customers([customer.id])
    active = [line for line in lines if line.status is CreditLineStatus.ACTIVE]
    products = await uow.products.by_id(list({line.product_id for line in active}))
    return any(each.code == product.code for each in products)


def _new_application(
    command: ApplyForLoan,
    customer: Customer,
    product: LoanProduct,
    actor: Actor,
    state: ApplicationState,
    now: datetime,
) -> LoanApplication:
    application = LoanApplication(
        id=new_id(),
        institution_id=customer.institution_id,
        customer_id=customer.id,
        product_id=product.id,
        amount=command.amount,
        term_months=command.term_months,
        method=command.method,
        purpose="",
        annual_income=command.annual_income,
        monthly_debt_payments=command.monthly_debt_payments,
        state=state,
        decision={},
        approved_amount=None,
        approved_term_months=None,
        submitted_by_staff_id=actor.id if actor.is_staff else None,
        reviewed_by_staff_id=None,
        contract=None,
        created_at=now,
        updated_at=now,
    )
    _fill(application, command, product, now)
    return application


def _fill(
    application: LoanApplication, command: ApplyForLoan, product: LoanProduct, now: datetime
) -> None:
    """Put the request's values (and the product version it is made under) on the application."""
    application.product_id = product.id
    application.amount = command.amount
    application.term_months = command.term_months
    application.method = command.method
    application.purpose = command.purpose.strip()[:200]
    application.annual_income = command.annual_income
    application.monthly_debt_payments = command.monthly_debt_payments
    application.updated_at = now


def _note_applying_staff(application: LoanApplication, actor: Actor) -> None:
    """The staff member who last prepared the application for the customer may not review it."""
    if actor.is_staff:
        application.submitted_by_staff_id = actor.id


def _command_of(application: LoanApplication) -> ApplyForLoan:
    return ApplyForLoan(
        customer_id=application.customer_id,
        product_id=application.product_id,
        amount=application.amount,
        term_months=application.term_months,
        method=application.method,
        annual_income=application.annual_income,
        monthly_debt_payments=application.monthly_debt_payments,
        purpose=application.purpose,
    )


def _approved_terms(
    command: Review, application: LoanApplication, terms: ProductTerms, role: Role
) -> tuple[Decimal, int | None]:
    """The amount and term a reviewer approves: as given, or the decision's suggestion and the
    term asked for; never above the decision's limit nor the reviewer's authority."""
    suggested = application.decision.get("approved_amount")
    limit = (application.decision.get("limit") or {}).get("limit")
    given = command.amount if command.amount is not None else suggested or application.amount
    amount = Decimal(given)
    term = command.term_months if command.term_months is not None else application.term_months
    errors = _request_errors(terms, amount, term, application.method)
    if errors:
        raise DomainErrors(errors)
    if limit is not None and amount > Decimal(limit):
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, field=("amount",))
    if not terms.may_approve(role, amount):
        raise DomainError(ErrorCode.AMOUNT_ABOVE_AUTHORITY, field=("amount",))
    return cents(amount), term


async def contract_rate(
    reads: Repositories, terms: ProductTerms, day: date
) -> tuple[Decimal, LprRate | None]:
    """The rate a contract made on `day` gets, and the LPR it was priced on."""
    pricing = terms.pricing
    lpr = None
    if pricing.lpr_tenor is not None:
        lpr = await reads.products.lpr_in_force(pricing.lpr_tenor, day)
    return pricing.rate(lpr), lpr


def _contract_number(prefix: str, day: date) -> str:
    return f"{prefix}{day:%Y%m%d}{secrets.token_hex(5).upper()}"


def _may_apply(actor: Actor) -> None:
    """Customers apply for themselves; of staff, loan officers and branch managers."""
    if actor.is_staff and actor.role not in APPLYING_STAFF:
        raise PermissionDenied


async def _customer(
    uow: Repositories | UnitOfWork, actor: Actor, customer_id: uuid.UUID, *, lock: bool = False
) -> Customer:
    """The applicant: the customer themself, or one of the staff member's institution. With
    `lock`, their credit is held until the transaction ends, so two decisions about the same
    customer's exposure are taken one after the other."""
    found = await uow.customers.by_id([customer_id], institution_id=None)
    if not found or not actor.may_see_customer(found[0].id, found[0].institution_id):
        raise DomainError(ErrorCode.NOT_FOUND, field=("customerId",))
    if lock:
        await uow.customers.lock(customer_id)
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


def _checked(command: ApplyForLoan, product: LoanProduct) -> ApplyForLoan:
    """The request with its amounts written to the cent, or every error in it at once."""
    errors = _request_errors(product.terms, command.amount, command.term_months, command.method)
    errors += [
        DomainError(ErrorCode.INVALID_AMOUNT, field=(field,))
        for field, value in (
            ("annualIncome", command.annual_income),
            ("monthlyDebtPayments", command.monthly_debt_payments),
        )
        if exact_cents(value) is None or value < 0
    ]
    if errors:
        raise DomainErrors(errors)
    return replace(
        command,
        amount=cents(command.amount),
        annual_income=cents(command.annual_income),
        monthly_debt_payments=cents(command.monthly_debt_payments),
    )


def _request_errors(
    terms: ProductTerms, amount: Decimal, term_months: int | None, method: RepaymentMethod
) -> list[DomainError]:
    """What is wrong with an amount, term and method for the product."""
    errors = []
    if exact_cents(amount) is None or not terms.min_amount <= amount <= terms.max_amount:
        errors.append(DomainError(ErrorCode.INVALID_AMOUNT, field=("amount",)))
    if method not in terms.methods:
        errors.append(DomainError(ErrorCode.INVALID_METHOD, field=("method",)))
    revolving = method is RepaymentMethod.REVOLVING
    if (revolving and term_months is not None) or (
        not revolving and term_months not in terms.term_months
    ):
        errors.append(DomainError(ErrorCode.INVALID_TERM, field=("termMonths",)))
    return errors


async def _decide(
    reads: Repositories,
    product: LoanProduct,
    customer: Customer,
    command: ApplyForLoan,
    today: date,
) -> tuple[Decision, dict[str, Any]]:
    terms = product.terms
    rate, lpr = await contract_rate(reads, terms, today)
    monthly = monthly_obligation(
        command.amount,
        annual_rate=rate,
        method=command.method,
        term_months=command.term_months,
        days_in_year=terms.days_in_year,
        start=today,
    )
    applicant = await applicant_facts(
        reads,
        customer,
        annual_income=command.annual_income,
        monthly_debt_payments=command.monthly_debt_payments,
        today=today,
    )
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


async def _own_application(
    uow: UnitOfWork, actor: Actor, application_id: uuid.UUID
) -> LoanApplication:
    """An application the actor may act on as its applicant: the customer's own, or one of the
    institution for its loan officers and branch managers. Locked until the transaction ends."""
    application = await uow.applications.for_update(application_id)
    if application is None or not acts_on_credit_of(
        actor, application.institution_id, application.customer_id, APPLYING_STAFF
    ):
        raise DomainError(ErrorCode.NOT_FOUND, field=("applicationId",))
    return application


async def _application_for_staff(
    uow: UnitOfWork, actor: Actor, application_id: uuid.UUID
) -> LoanApplication:
    application = await uow.applications.for_update(application_id)
    if application is None or application.institution_id != actor.institution_id:
        raise DomainError(ErrorCode.NOT_FOUND, field=("applicationId",))
    return application

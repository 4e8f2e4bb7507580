"""Retail credit: who may read what, and the mutations as calls into `domain/credit`."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

from jikuai.domain.credit import catalog, lending, monitoring, origination
from jikuai.domain.credit.access import (
    CREDIT_STAFF,
    LIST_KEEPERS,
    credit_reader,
    sees_credit_of,
)
from jikuai.domain.credit.alerts import RiskAlert
from jikuai.domain.credit.applications import LoanApplication
from jikuai.domain.credit.decisions import Decision
from jikuai.domain.credit.lines import CreditLine
from jikuai.domain.credit.lists import CreditListEntry, ListKind
from jikuai.domain.credit.model import Classification, Loan, LoanInstallment, RepaymentMethod
from jikuai.domain.credit.ports import AlertFilter, ApplicationFilter, LoanFilter
from jikuai.domain.credit.products import LoanProduct, LprRate
from jikuai.domain.credit.schedules import Schedule, build_schedule
from jikuai.domain.credit.servicing import Dues, dues, payoff_amount
from jikuai.domain.customers.identity_numbers import parse_id_number
from jikuai.domain.customers.model import Segment
from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode, PermissionDenied
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import Role
from jikuai.resolvers.context import Context
from jikuai.resolvers.envelopes import open_sealed
from jikuai.resolvers.errors import Forbidden
from jikuai.resolvers.outcomes import Attempt, attempt, bad_input
from jikuai.resolvers.pages import Page, paged

T = TypeVar("T")
R = TypeVar("R", CreditLine, Loan, LoanApplication)


# Reads ----------------------------------------------------------------------------------------


async def staff(context: Context, roles: frozenset[Role] = CREDIT_STAFF) -> Actor:
    actor = await context.require_actor()
    if not actor.is_staff or actor.role not in roles:
        raise Forbidden
    return actor


async def products(context: Context, segment: Segment | None) -> list[LoanProduct]:
    """A customer sees what their institution offers their segment; staff see their
    institution's catalogue (province staff: every institution's)."""
    actor = await context.require_actor()
    reads = await context.db.reads()
    if actor.is_customer:
        customer = await context.visible_customer(actor.customer_id) if actor.customer_id else None
        if customer is None:
            return []
        offered = await reads.products.current([customer.institution_id])
        return [each for each in offered if each.offered_to(customer.segment)]
    scope = actor.staff_scope()
    current = await reads.products.current(None if scope is None else [scope])
    return [each for each in current if segment is None or segment in each.terms.segments]


async def current_rate(context: Context, product: LoanProduct) -> Decimal | None:
    """The rate a contract signed today would get; None while no LPR is in force for it."""
    pricing = product.terms.pricing
    tenor = pricing.lpr_tenor
    lpr = await context.loaders.lpr_in_force.load((tenor, context.today)) if tenor else None
    try:
        return pricing.rate(lpr)
    except DomainError:
        return None


def schedule(
    amount: Decimal,
    *,
    annual_rate: Decimal,
    method: RepaymentMethod,
    start: date,
    term_months: int | None,
    days: int | None,
) -> Schedule:
    """The calculator's schedule; its bad input is a top-level error with the field."""
    try:
        return build_schedule(
            amount,
            annual_rate=annual_rate,
            method=method,
            start=start,
            term_months=term_months,
            days=days,
        )
    except DomainError as error:
        raise bad_input(error) from None


async def lpr_rates(context: Context) -> Sequence[LprRate]:
    return await (await context.db.reads()).products.lpr_rates()


async def visible(context: Context, institution_id: uuid.UUID, customer_id: uuid.UUID) -> bool:
    return sees_credit_of(await context.require_actor(), institution_id, customer_id)


async def application(context: Context, key: uuid.UUID) -> LoanApplication | None:
    found = await context.loaders.application_by_id.load(key)
    if found is None or not await visible(context, found.institution_id, found.customer_id):
        return None
    return found


async def loan(context: Context, key: uuid.UUID) -> Loan | None:
    found = await context.loaders.loan_by_id.load(key)
    if found is None or not await visible(context, found.institution_id, found.customer_id):
        return None
    return found


async def credit_line(context: Context, key: uuid.UUID) -> CreditLine | None:
    found = await context.loaders.credit_line_by_id.load(key)
    if found is None or not await visible(context, found.institution_id, found.customer_id):
        return None
    return found


async def product(context: Context, key: uuid.UUID) -> LoanProduct | None:
    """A product version: customers and staff of its institution, and province staff."""
    actor = await context.require_actor()
    found = await context.loaders.product_by_id.load(key)
    if found is None:
        return None
    if actor.is_staff:
        return found if actor.may_see_staff_of(found.institution_id) else None
    customer = await context.visible_customer(actor.customer_id) if actor.customer_id else None
    return found if customer and customer.institution_id == found.institution_id else None


async def risk_alert(context: Context, key: uuid.UUID) -> RiskAlert | None:
    """An alert, for credit staff of its institution (and province staff)."""
    actor = await context.require_actor()
    found = await (await context.db.reads()).alerts.by_id(key)
    if found is None or not actor.is_staff:
        return None
    return found if sees_credit_of(actor, found.institution_id, found.customer_id) else None


async def list_entry(context: Context, key: uuid.UUID) -> CreditListEntry | None:
    """A list entry, for the list keepers of its institution (and province staff)."""
    actor = await context.require_actor()
    found = await (await context.db.reads()).credit_lists.by_id(key)
    if found is None or not actor.is_staff:
        return None
    keeper = actor.role in LIST_KEEPERS and actor.institution_id == found.institution_id
    return found if keeper or actor.sees_all_institutions else None


async def _scope(context: Context) -> tuple[uuid.UUID | None, uuid.UUID | None] | None:
    """(institution, customer) a list is limited to; None when the actor sees nothing."""
    actor = await context.require_actor()
    if actor.is_customer:
        return (None, actor.customer_id) if actor.customer_id else None
    if actor.role not in CREDIT_STAFF and not actor.sees_all_institutions:
        return None
    return actor.staff_scope(), None


async def application_page(
    context: Context, filter: ApplicationFilter, *, first: int, after: uuid.UUID | None
) -> Page[LoanApplication]:
    scope = await _scope(context)
    if scope is None:
        return Page([], has_next_page=False)
    institution_id, customer_id = scope
    scoped = dataclasses.replace(
        filter, institution_id=institution_id, customer_id=customer_id or filter.customer_id
    )
    reads = await context.db.reads()
    page = await paged(
        first, lambda limit: reads.applications.page(scoped, after=after, limit=limit)
    )
    for each in page.items:
        context.loaders.application_by_id.prime(each.id, each)
    return page


async def loan_page(
    context: Context, filter: LoanFilter, *, first: int, after: uuid.UUID | None
) -> Page[Loan]:
    scope = await _scope(context)
    if scope is None:
        return Page([], has_next_page=False)
    institution_id, customer_id = scope
    scoped = dataclasses.replace(
        filter, institution_id=institution_id, customer_id=customer_id or filter.customer_id
    )
    reads = await context.db.reads()
    page = await paged(first, lambda limit: reads.loans.page(scoped, after=after, limit=limit))
    for each in page.items:
        context.loaders.loan_by_id.prime(each.id, each)
    return page


async def alert_page(
    context: Context, filter: AlertFilter, *, first: int, after: uuid.UUID | None
) -> Page[RiskAlert]:
    actor = await staff(context)
    scoped = dataclasses.replace(filter, institution_id=actor.staff_scope())
    reads = await context.db.reads()
    return await paged(first, lambda limit: reads.alerts.page(scoped, after=after, limit=limit))


async def list_entry_page(
    context: Context, kind: ListKind | None, *, first: int, after: uuid.UUID | None
) -> Page[CreditListEntry]:
    actor = await staff(context, LIST_KEEPERS)
    reads = await context.db.reads()
    return await paged(
        first,
        lambda limit: reads.credit_lists.page(
            institution_id=actor.staff_scope(), kind=kind, after=after, limit=limit
        ),
    )


async def credit_lines_of(
    context: Context, customer_ids: Sequence[uuid.UUID]
) -> list[list[CreditLine]]:
    """Each customer's lines, for whoever may read that customer's credit."""
    found = await context.loaders.credit_lines_by_customer.load_many(customer_ids)
    return await _readable(context, found)


async def loans_of(context: Context, customer_ids: Sequence[uuid.UUID]) -> list[list[Loan]]:
    """Each customer's loans, oldest first, for whoever may read that customer's credit."""
    return await _readable(context, await context.loaders.loans_by_customer.load_many(customer_ids))


async def applications_of(
    context: Context, customer_ids: Sequence[uuid.UUID]
) -> list[list[LoanApplication]]:
    found = await context.loaders.applications_by_customer.load_many(customer_ids)
    return await _readable(context, found)


async def _readable(context: Context, groups: Sequence[list[R]]) -> list[list[R]]:
    sees = credit_reader(await context.require_actor())
    return [
        [each for each in rows if sees(each.institution_id, each.customer_id)] for rows in groups
    ]


async def installments(context: Context, loan_id: uuid.UUID) -> list[LoanInstallment]:
    return await context.loaders.installments_by_loan.load(loan_id)


async def standing(context: Context, found: Loan) -> tuple[Dues, Decimal]:
    """What is due today and what would settle the loan today, computed on copies: reading
    a loan never changes it."""
    rows = copy.deepcopy(await installments(context, found.id))
    shadow = copy.deepcopy(found)
    today = context.today
    return dues(shadow, rows, today), payoff_amount(shadow, rows, today)


async def preview_decision(context: Context, command: origination.ApplyForLoan) -> Decision:
    actor = await staff(context)
    try:
        return await origination.preview_decision(
            command, actor=actor, reads=await context.db.reads(), today=context.today
        )
    except PermissionDenied:
        raise Forbidden from None
    except (DomainError, DomainErrors) as failure:
        raise bad_input(failure) from None


# Mutations ------------------------------------------------------------------------------------


async def create_product(context: Context, command: catalog.DefineProduct) -> Attempt[LoanProduct]:
    actor = await context.require_actor()
    return await attempt(
        catalog.create_product(command, actor=actor, uow=context.db.unit_of_work(), now=context.now)
    )


async def update_product(context: Context, command: catalog.DefineProduct) -> Attempt[LoanProduct]:
    actor = await context.require_actor()
    return await attempt(
        catalog.update_product(command, actor=actor, uow=context.db.unit_of_work(), now=context.now)
    )


async def publish_lpr(context: Context, rate: LprRate) -> Attempt[LprRate]:
    actor = await context.require_actor()
    return await attempt(
        catalog.publish_lpr(
            rate,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            request_id=context.request_id,
        )
    )


async def add_list_entry(
    context: Context, sealed_id_number: str, command: catalog.AddListEntry
) -> Attempt[CreditListEntry]:
    actor = await context.require_actor()
    if not actor.is_staff or actor.role not in LIST_KEEPERS:
        raise Forbidden

    async def work() -> CreditListEntry:
        raw = open_sealed(context, {"idNumber": sealed_id_number})["idNumber"]
        parsed = parse_id_number(raw, today=context.today)
        if parsed is None:
            raise DomainError(ErrorCode.INVALID_ID_NUMBER, field=("idNumber",))
        vault = context.services.vault
        return await catalog.add_list_entry(
            dataclasses.replace(command, id_number=parsed.value),
            actor=actor,
            uow=context.db.unit_of_work(),
            id_number_index=vault.id_number_index(parsed.value),
            now=context.now,
            request_id=context.request_id,
        )

    return await attempt(work())


async def revoke_list_entry(context: Context, entry_id: uuid.UUID) -> Attempt[CreditListEntry]:
    actor = await context.require_actor()
    return await attempt(
        catalog.revoke_list_entry(
            entry_id,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            request_id=context.request_id,
        )
    )


async def submit_application(
    context: Context, command: origination.ApplyForLoan
) -> Attempt[LoanApplication]:
    actor = await context.require_actor()
    return await attempt(
        origination.submit_application(
            command,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            today=context.today,
        )
    )


async def save_draft(
    context: Context, command: origination.ApplyForLoan, draft_id: uuid.UUID | None
) -> Attempt[LoanApplication]:
    actor = await context.require_actor()
    return await attempt(
        origination.save_draft(
            command, draft_id, actor=actor, uow=context.db.unit_of_work(), now=context.now
        )
    )


async def submit_draft(context: Context, application_id: uuid.UUID) -> Attempt[LoanApplication]:
    actor = await context.require_actor()
    return await attempt(
        origination.submit_draft(
            application_id,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            today=context.today,
        )
    )


async def review_application(
    context: Context, command: origination.Review
) -> Attempt[LoanApplication]:
    actor = await context.require_actor()
    return await attempt(
        origination.review_application(
            command,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            today=context.today,
        )
    )


async def withdraw_application(
    context: Context, application_id: uuid.UUID, reason: str
) -> Attempt[LoanApplication]:
    actor = await context.require_actor()
    return await attempt(
        origination.withdraw_application(
            application_id, reason, actor=actor, uow=context.db.unit_of_work(), now=context.now
        )
    )


async def sign_contract(context: Context, application_id: uuid.UUID) -> Attempt[LoanApplication]:
    actor = await context.require_actor()
    return await attempt(
        origination.sign_contract(
            application_id,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            today=context.today,
        )
    )


async def disburse(context: Context, application_id: uuid.UUID) -> Attempt[Loan]:
    actor = await context.require_actor()
    return await attempt(
        origination.disburse(
            application_id,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            today=context.today,
        )
    )


async def draw_credit(context: Context, command: lending.DrawCredit) -> Attempt[Loan]:
    actor = await context.require_actor()
    return await attempt(
        lending.draw_credit(
            command,
            actor=actor,
            unit_of_work=context.db.unit_of_work,
            now=context.now,
            today=context.today,
        )
    )


async def repay(context: Context, command: lending.RepayLoan) -> Attempt[lending.Repaid]:
    actor = await context.require_actor()
    return await attempt(
        lending.repay_loan(
            command,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            today=context.today,
        )
    )


async def override_classification(
    context: Context, loan_id: uuid.UUID, classification: Classification | None, reason: str
) -> Attempt[Loan]:
    actor = await context.require_actor()
    return await attempt(
        lending.override_classification(
            loan_id,
            classification,
            reason,
            actor=actor,
            uow=context.db.unit_of_work(),
            now=context.now,
            request_id=context.request_id,
        )
    )


async def act_on_alert(
    context: Context,
    action: Callable[..., Awaitable[RiskAlert]],
    command: monitoring.AlertAction,
) -> Attempt[RiskAlert]:
    """Acknowledge or close an alert."""
    actor = await context.require_actor()
    return await attempt(
        action(command, actor=actor, uow=context.db.unit_of_work(), now=context.now)
    )


async def assign_alert(
    context: Context, command: monitoring.AlertAction, assignee_id: uuid.UUID
) -> Attempt[RiskAlert]:
    actor = await context.require_actor()
    return await attempt(
        monitoring.assign_alert(
            command, assignee_id, actor=actor, uow=context.db.unit_of_work(), now=context.now
        )
    )

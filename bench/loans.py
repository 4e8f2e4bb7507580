"""The 50-customer list with loans: its query, and the loans of the customers it shows.

`customers(first: 50)` with each customer's loans, asked by `yushu-officer`, against the
hand-written `POST /customers-with-loans` (`bench/handwritten.py`). Customers come oldest first,
so the page is the first 50 customers the officer sees; the untimed setup gives each of them one
to three loans, through the project's own use cases, as a branch would:

- `BENCHLIST`, the demo's 园丁贷 (YDD) offered to every segment, without its age rule (the
  bench's customers were born around 1960) and with a total-exposure cap no one reaches, made
  by the institution's admin through the product use case;
- per loan, `submit_application` by the officer (approved automatically), `sign_contract` by
  the customer, `disburse` by the officer: an installment loan whose schedule starts today.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from bench import api, dataset
from jikuai.config import Settings
from jikuai.container import build_services
from jikuai.demo_products import demo_products
from jikuai.domain.credit.applications import ApplicationState
from jikuai.domain.credit.catalog import DefineProduct, create_product
from jikuai.domain.credit.model import RepaymentMethod
from jikuai.domain.credit.origination import (
    ApplyForLoan,
    disburse,
    sign_contract,
    submit_application,
)
from jikuai.domain.customers.model import Customer, CustomerFilter, Segment
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor, ActorKind
from jikuai.domain.tenancy.model import Role
from jikuai.persistence.engine import DatabaseSession

PAGE = 50
PRODUCT_CODE = "BENCHLIST"
BASE_PRODUCT_CODE = "YDD"
PRODUCT_ADMIN = "yushu-admin"
UNREACHED_EXPOSURE = Decimal("100000000000")
BASE_AMOUNT = Decimal(300_000)
AGE_RULE = "AGE_OUT_OF_RANGE"
LOANS_PER_CUSTOMER = (1, 2, 3)  # in turn down the page: 99 loans for 50 customers
ANNUAL_INCOME = Decimal(200_000)
TERMS = (12, 24, 36)
METHODS = (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL)
HANDWRITTEN = "handwritten customers+loans (50)"
GRAPHQL = "graphql customers+loans (50)"
TARGET_RATIO = 0.6

# Each loan's plain columns: none of these has a resolver of its own (no schedule, no dues).
QUERY = (
    "query CustomersWithLoans { customers(first: 50) { edges { cursor node { id segment age "
    "nameMasked phoneMasked idNumberMasked loans { id status principal annualRate termMonths "
    "startDate maturityDate outstandingPrincipal } } } pageInfo { hasNextPage endCursor } } }"
)
# The same selection on any page, to check the hand-written endpoint beyond the first one.
PAGE_QUERY = (
    "query Page($first: Int!, $after: String) { customers(first: $first, after: $after) "
    "{ edges { cursor node { id segment age nameMasked phoneMasked idNumberMasked loans { id "
    "status principal annualRate termMonths startDate maturityDate outstandingPrincipal } } } "
    "pageInfo { hasNextPage endCursor } } }"
)


@dataclass(frozen=True, slots=True)
class Seeded:
    customers: int
    loans: int
    seconds: float

    def document(self) -> dict[str, object]:
        return {
            "customers": self.customers,
            "loans": self.loans,
            "setup_seconds": self.seconds,
            "product_code": PRODUCT_CODE,
            "query": QUERY,
        }


async def prepare(settings: Settings, *, customers: int = PAGE, parallel: int = 4) -> Seeded:
    """`BENCHLIST` and the loans of the first `customers` the officer sees (untimed)."""
    started = time.perf_counter()
    services = build_services(settings)
    try:
        session = services.database.session()
        try:
            reads = await session.reads()
            admin = await reads.tenancy.staff_by_username(PRODUCT_ADMIN)
            officer = await reads.tenancy.staff_by_username(dataset.OFFICER)
            if admin is None or officer is None:
                raise api.SetupError("demo staff missing: did `jikuai seed demo` run?")
            terms = dict(demo_products())[BASE_PRODUCT_CODE]
            product = await create_product(
                DefineProduct(
                    PRODUCT_CODE,
                    replace(
                        terms,
                        name=f"{terms.name}(bench)",
                        segments=tuple(Segment),
                        admission_rules=tuple(
                            rule for rule in terms.admission_rules if rule.reason_code != AGE_RULE
                        ),
                        limit_policy=replace(
                            terms.limit_policy,
                            base_amounts=tuple((segment, BASE_AMOUNT) for segment in Segment),
                            max_total_exposure=UNREACHED_EXPOSURE,
                        ),
                    ),
                ),
                actor=Actor.of_staff(admin),
                uow=session.unit_of_work(),
                now=datetime.now(UTC),
            )
            # The officer's first page, as `customers(first: 50)` reads it.
            page = await (await session.reads()).customers.page(
                institution_id=officer.institution_id,
                only_id=None,
                filter=CustomerFilter(),
                after=None,
                limit=customers,
            )
        finally:
            await session.close()
        if len(page) < customers:
            raise api.SetupError(f"{dataset.OFFICER} sees {len(page)} customers, not {customers}")
        staff = Actor.of_staff(officer)

        async def lend_to_some(chosen: list[tuple[int, Customer]]) -> int:
            made = 0
            session = services.database.session()
            try:
                for position, customer in chosen:
                    for number in range(LOANS_PER_CUSTOMER[position % len(LOANS_PER_CUSTOMER)]):
                        await _lend(session, staff, customer, product.id, position + number)
                        made += 1
            finally:
                await session.close()
            return made

        numbered = list(enumerate(page))
        made = await asyncio.gather(*(lend_to_some(numbered[i::parallel]) for i in range(parallel)))
    finally:
        await services.close()
    return Seeded(len(page), sum(made), time.perf_counter() - started)


async def _lend(
    session: DatabaseSession,
    staff: Actor,
    customer: Customer,
    product_id: uuid.UUID,
    turn: int,
) -> None:
    """One installment loan of 10,000 to 30,000 over 12, 24 or 36 months: applied for by the
    officer and approved automatically, signed by the customer, paid out by the officer."""
    now = datetime.now(UTC)
    today = business_date(now)
    application = await submit_application(
        ApplyForLoan(
            customer_id=customer.id,
            product_id=product_id,
            amount=Decimal(10_000 + 5_000 * (turn % 5)),
            term_months=TERMS[turn % len(TERMS)],
            method=METHODS[turn % len(METHODS)],
            annual_income=ANNUAL_INCOME,
            purpose="bench",
        ),
        actor=staff,
        uow=session.unit_of_work(),
        now=now,
        today=today,
    )
    if application.state is not ApplicationState.APPROVED:
        raise api.SetupError(
            f"{PRODUCT_CODE} application of {customer.id} not approved automatically: "
            f"{application.state}"
        )
    borrower = Actor(
        kind=ActorKind.CUSTOMER,
        id=new_id(),  # their WeChat account, which the bench's customers do not have
        role=Role.CUSTOMER,
        institution_id=customer.institution_id,
        customer_id=customer.id,
    )
    await sign_contract(
        application.id, actor=borrower, uow=session.unit_of_work(), now=now, today=today
    )
    await disburse(application.id, actor=staff, uow=session.unit_of_work(), now=now, today=today)

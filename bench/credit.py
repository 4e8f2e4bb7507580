"""The retail credit phase: automatic loan decisions and repayment schedules.

- `submitLoanApplication` on the automatic path (admission, scorecard, limit, persist): 100
  teachers of `yushu` born in 1988, registered for the bench, in turn ask for 50,000 over
  36 months of `BENCHYDD`, the demo's 园丁贷 (YDD) with a total-exposure cap no one reaches.
  Every approval counts towards its applicant's exposure, so under YDD's own cap the run would
  soon measure reviews instead; with this cap each request takes every step of the decision and
  is approved without review. Many applicants, because decisions about one customer's credit
  are taken one after the other.
- `loanSchedulePreview` of a 360-month loan over HTTP, and `build_schedule` of the same loan
  in-process with `timeit`.
"""

from __future__ import annotations

import statistics
import timeit
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bench import api, dataset
from jikuai.config import Settings
from jikuai.container import build_services
from jikuai.demo_products import demo_products
from jikuai.domain.credit.catalog import DefineProduct, create_product
from jikuai.domain.customers.model import Segment
from jikuai.domain.tenancy.actors import Actor

OFFICER = "yushu-officer"
PRODUCT_CODE = "BENCHYDD"
BASE_PRODUCT_CODE = "YDD"
PRODUCT_ADMIN = "yushu-admin"
UNREACHED_EXPOSURE = Decimal("100000000000")
TARGET_P99_MS = 50.0
# The decision is measured at several loads; the target is judged at the design point: a
# handful of decisions in flight per worker, what one worker of a pilot institution carries.
DESIGN_CONCURRENCY = 4
CONCURRENCY_SWEEP = (1, DESIGN_CONCURRENCY, 8)
SUBMIT = "graphql submitLoanApplication (automatic)"
PREVIEW = "graphql loanSchedulePreview (360 months)"

SUBMIT_QUERY = (
    "mutation Submit($input: LoanApplicationInput!) { submitLoanApplication(input: $input) "
    "{ application { id state } userErrors { code } } }"
)
PREVIEW_QUERY = (
    'query Preview { loanSchedulePreview(input: {amount: "1000000", termMonths: 360, '
    'method: EQUAL_INSTALLMENT, annualRate: "0.0435"}) { totalInterest } }'
)
APPLICANTS = 100
APPLICANT_AREA_CODE = "220185"  # apart from the demo's and the other bench customers' numbers
APPLICANTS_BORN = date(1988, 6, 1)  # within every demo product's age rule
_TEACHERS = (
    "query Teachers($after: String) { customers(first: 100, after: $after, "
    "filter: {segment: TEACHER}) { edges { node { id age } } "
    "pageInfo { hasNextPage endCursor } } }"
)
_PRODUCTS = "query Products { loanProducts { id code } }"


@dataclass(frozen=True, slots=True)
class Fixture:
    token: str
    customer_ids: list[str]
    product_id: str

    def submit_variables(self, customer_id: str) -> dict[str, Any]:
        return {
            "input": {
                "customerId": customer_id,
                "productId": self.product_id,
                "amount": "50000",
                "termMonths": 36,
                "method": "EQUAL_INSTALLMENT",
                "annualIncome": "120000",
            }
        }


def fixture(port: int, password: str) -> Fixture:
    """Sign in as the yushu officer; the yushu teacher and the YDD product (untimed)."""
    graph = api.Api(port)
    try:
        token = graph.sign_in(OFFICER, password)
        applicants = _applicant_ids(graph)
        products = [
            product
            for product in graph.call(_PRODUCTS)["loanProducts"]
            if product["code"] == PRODUCT_CODE
        ]
        if not products:
            raise api.SetupError(f"no {PRODUCT_CODE} product in loanProducts")
        found = Fixture(token, applicants, str(products[0]["id"]))
        # One untimed call: the automatic path must approve, or the scenario measures errors.
        variables = found.submit_variables(found.customer_ids[0])
        payload = graph.call(SUBMIT_QUERY, variables)["submitLoanApplication"]
        if payload["userErrors"] or (payload["application"] or {}).get("state") != "APPROVED":
            raise api.SetupError(f"submitLoanApplication not approved automatically: {payload}")
        return found
    finally:
        graph.close()


def _applicant_ids(graph: api.Api) -> list[str]:
    """The bench's applicants: the teachers of the age `prepare` registered them at (the
    other bench customers were all born around 1960)."""
    age = date.today().year - APPLICANTS_BORN.year
    ids: list[str] = []
    after = None
    while True:
        page = graph.call(_TEACHERS, {"after": after})["customers"]
        ids += [edge["node"]["id"] for edge in page["edges"] if abs(edge["node"]["age"] - age) <= 1]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    if len(ids) < APPLICANTS:
        raise api.SetupError(f"{OFFICER} sees {len(ids)} applicants: did `prepare` run?")
    return ids[-APPLICANTS:]


async def prepare(settings: Settings) -> None:
    """The product and the applicants (untimed)."""
    await add_product(settings)
    crowd = dataset.people(
        APPLICANT_AREA_CODE,
        APPLICANTS,
        seed="jikuai-bench-credit",
        first_birth=APPLICANTS_BORN,
        segments=(Segment.TEACHER,),
    )
    await dataset.seed_customers(settings, APPLICANTS, crowd=crowd)


async def add_product(settings: Settings) -> None:
    """`BENCHYDD`: YDD's terms with an exposure cap no one reaches, made by the institution's
    admin through the product use case, as `createLoanProduct` would (untimed)."""
    services = build_services(settings)
    session = services.database.session()
    try:
        admin = await (await session.reads()).tenancy.staff_by_username(PRODUCT_ADMIN)
        if admin is None:
            raise api.SetupError(f"{PRODUCT_ADMIN} missing: did `jikuai seed demo` run?")
        terms = dict(demo_products())[BASE_PRODUCT_CODE]
        policy = replace(terms.limit_policy, max_total_exposure=UNREACHED_EXPOSURE)
        await create_product(
            DefineProduct(PRODUCT_CODE, replace(terms, limit_policy=policy)),
            actor=Actor.of_staff(admin),
            uow=session.unit_of_work(),
            now=datetime.now(UTC),
        )
    finally:
        await session.close()
        await services.close()


def sweep(harness_concurrency: int) -> list[int]:
    """The concurrencies the decision is measured at: the sweep and the harness's own."""
    return sorted({*CONCURRENCY_SWEEP, harness_concurrency})


def time_schedule(repeat: int = 7) -> dict[str, float]:
    """µs per `build_schedule` of 1,000,000 over 360 months at 4.35%, equal installments:
    median (and best) of `repeat` timeit repeats, each long enough to last about 0.2 s."""
    from jikuai.domain.credit.model import RepaymentMethod
    from jikuai.domain.credit.schedules import build_schedule

    def build() -> object:
        return build_schedule(
            Decimal("1000000"),
            annual_rate=Decimal("0.0435"),
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            start=date(2026, 11, 29),
            term_months=360,
        )

    timer = timeit.Timer(build)
    number, _ = timer.autorange()
    runs = [seconds / number * 1e6 for seconds in timer.repeat(repeat=repeat, number=number)]
    return {
        "median_us": statistics.median(runs),
        "best_us": min(runs),
        "loops_per_repeat": float(number),
        "repeats": float(repeat),
    }

"""The retail credit phase: automatic loan decisions and repayment schedules.

- `submitLoanApplication` on the automatic path (admission, scorecard, limit, persist): the
  demo teacher of `yushu` asks for 50,000 of 园丁贷 (YDD) over 36 months, under the product's
  auto-approval maximum and the limit, so every request is approved without review (term-loan
  approvals do not add to exposure, so repetitions stay on the automatic path).
- `loanSchedulePreview` of a 360-month loan over HTTP, and `build_schedule` of the same loan
  in-process with `timeit`.
"""

from __future__ import annotations

import statistics
import timeit
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bench import api

OFFICER = "yushu-officer"
PRODUCT_CODE = "YDD"
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
_TEACHERS = (
    "query Teachers { customers(first: 20, filter: {segment: TEACHER}) "
    "{ edges { node { id segment } } } }"
)
_PRODUCTS = "query Products { loanProducts { id code } }"


@dataclass(frozen=True, slots=True)
class Fixture:
    token: str
    customer_id: str
    product_id: str

    def submit_variables(self) -> dict[str, Any]:
        return {
            "input": {
                "customerId": self.customer_id,
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
        edges = graph.call(_TEACHERS)["customers"]["edges"]
        if not edges:
            raise api.SetupError(f"{OFFICER} sees no TEACHER customer: did `seed demo` run?")
        products = [
            product
            for product in graph.call(_PRODUCTS)["loanProducts"]
            if product["code"] == PRODUCT_CODE
        ]
        if not products:
            raise api.SetupError(f"no {PRODUCT_CODE} product in loanProducts")
        found = Fixture(token, str(edges[0]["node"]["id"]), str(products[0]["id"]))
        # One untimed call: the automatic path must approve, or the scenario measures errors.
        payload = graph.call(SUBMIT_QUERY, found.submit_variables())["submitLoanApplication"]
        if payload["userErrors"] or (payload["application"] or {}).get("state") != "APPROVED":
            raise api.SetupError(f"submitLoanApplication not approved automatically: {payload}")
        return found
    finally:
        graph.close()


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

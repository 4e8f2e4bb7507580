"""What keeps credit within bounds: total exposure with approvals not yet paid out, one line per
product, review authority and limits, drawdown keys, and configuration or input that could not
be served."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.support.credit import (
    AGE_RULE,
    CREATE_PRODUCT,
    DECISION_FIELDS,
    NOT_BLACKLISTED,
    create_product,
    credit_line_id,
    customer_token,
    error_codes,
    fixed,
    lpr,
    mutate,
    open_line,
    product_input,
    review,
    submit,
)
from tests.support.stack import Stack

DRAW = """
mutation($input: DrawCreditInput!) {
  drawCredit(input: $input) { loan { id principal } userErrors { field code } }
}
"""
WITHDRAW = """
mutation($id: ID!) {
  withdrawLoanApplication(input: {applicationId: $id}) {
    application { state } userErrors { field code }
  }
}
"""
APPLICATION = f"""
query($id: ID!) {{ loanApplication(id: $id) {{ state decision {{ {DECISION_FIELDS} record }} }} }}
"""
PREVIEW_SCHEDULE = """
query($start: Date!) {
  loanSchedulePreview(input: {amount: "1000", termMonths: 12, method: EQUAL_INSTALLMENT,
                               annualRate: "0.0435", startDate: $start}) { totalInterest }
}
"""
SCHEDULE_AMOUNT = """
query($amount: Decimal!) {
  loanSchedulePreview(input: {amount: $amount, termMonths: 12, method: EQUAL_INSTALLMENT,
                               annualRate: "0.0435"}) { totalInterest }
}
"""


async def _exposure_capped_product(stack: Stack) -> dict[str, Any]:
    """Up to 500,000, approved automatically, with a total exposure cap of 400,000."""
    return await create_product(
        stack,
        methods=["EQUAL_INSTALLMENT"],
        term_months=[12],
        pricing=fixed("0.0435"),
        auto_approval_max="500000",
        base_amount="300000",
        limitPolicy={
            "baseAmounts": [{"segment": "FARMER", "amount": "300000"}],
            "maxTotalExposure": "400000",
        },
    )


async def _second_application(stack: Stack) -> str:
    """A customer's second 300,000 under the 400,000 cap, waiting in review: its id."""
    product = await _exposure_capped_product(stack)
    token, customer_id = await customer_token(stack)
    await submit(stack, token, customer_id=customer_id, product_id=product["id"], amount="300000")
    waiting = await submit(
        stack, token, customer_id=customer_id, product_id=product["id"], amount="300000"
    )
    application_id: str = waiting["application"]["id"]
    return application_id


async def test_approvals_not_yet_paid_out_count_against_total_exposure(stack: Stack) -> None:
    product = await _exposure_capped_product(stack)
    token, customer_id = await customer_token(stack)

    first = await submit(
        stack, token, customer_id=customer_id, product_id=product["id"], amount="300000"
    )
    second = await submit(
        stack, token, customer_id=customer_id, product_id=product["id"], amount="300000"
    )

    assert first["application"]["state"] == "APPROVED"
    decision = second["application"]["decision"]
    assert second["application"]["state"] == "MANUAL_REVIEW"
    assert decision["reasons"] == ["ABOVE_LIMIT"]
    assert decision["limit"]["limit"] == "100000.00"
    assert decision["approvedAmount"] == "100000.00"


async def test_a_reviewer_approves_within_the_decisions_limit(stack: Stack) -> None:
    application_id = await _second_application(stack)

    above = await review(stack, "alpha-risk", application_id, amount="300000")
    suggested = await review(stack, "alpha-risk", application_id)

    assert above["userErrors"] == [{"field": ["amount"], "code": "LIMIT_EXCEEDED"}]
    assert suggested["userErrors"] == []
    assert suggested["application"]["approvedAmount"] == "100000.00"


async def test_rejecting_takes_a_role_of_the_approval_authority(stack: Stack) -> None:
    application_id = await _second_application(stack)

    body = await stack.gql(
        """mutation($id: ID!) { reviewLoanApplication(input: {applicationId: $id,
            approve: false, reason: "no"}) { application { state } } }""",
        {"id": application_id},
        token=await stack.token("alpha-admin"),
    )

    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_second_line_of_the_same_product_is_refused(stack: Stack) -> None:
    line = await open_line(stack)

    again = await submit(
        stack,
        line.token,
        customer_id=line.customer_id,
        product_id=line.product["id"],
        amount="10000",
        method="REVOLVING",
        term_months=None,
    )

    assert again["userErrors"] == [{"field": ["productId"], "code": "CREDIT_LINE_EXISTS"}]


async def test_an_approved_credit_line_cannot_be_withdrawn(stack: Stack) -> None:
    line = await open_line(stack)

    withdrawn = await mutate(
        stack, WITHDRAW, "withdrawLoanApplication", line.token, id=line.application["id"]
    )

    assert withdrawn["userErrors"] == [{"field": None, "code": "INVALID_STATE"}]


async def test_a_drawdown_key_names_one_drawdown_only(stack: Stack) -> None:
    line = await open_line(stack)
    line_id = await credit_line_id(stack, line)
    key = str(uuid.uuid4())

    def draw(amount: str) -> dict[str, Any]:
        return {"creditLineId": line_id, "amount": amount, "days": 30, "idempotencyKey": key}

    first = await mutate(stack, DRAW, "drawCredit", line.token, input=draw("1000"))
    same = await mutate(stack, DRAW, "drawCredit", line.token, input=draw("1000.00"))
    other = await mutate(stack, DRAW, "drawCredit", line.token, input=draw("5000"))

    assert first["loan"]["principal"] == "1000.00"
    assert same["loan"] == first["loan"]
    assert other["userErrors"] == [{"field": ["idempotencyKey"], "code": "IDEMPOTENCY_KEY_REUSED"}]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"penaltyUplift": "0.3333333"}, ["terms", "penaltyUplift"], "INVALID_RATE"),
        (
            {
                "limitPolicy": {
                    "baseAmounts": [],
                    "maxTotalExposure": "100000",
                    "roundingUnit": "0",
                }
            },
            ["terms", "limitPolicy", "roundingUnit"],
            "INVALID_AMOUNT",
        ),
        ({"pricing": lpr(-300)}, ["terms", "pricing"], "INVALID_RATE"),
        ({"pricing": fixed("0.04351234")}, ["terms", "pricing"], "INVALID_RATE"),
        ({"autoApprovalMax": "900000"}, ["terms", "autoApprovalMax"], "INVALID_AMOUNT"),
        ({"methods": ["REVOLVING", "EQUAL_INSTALLMENT"]}, ["terms", "methods"], "INVALID_METHOD"),
        ({"graceDays": 400}, ["terms", "graceDays"], "INVALID_PRODUCT"),
    ],
)
async def test_terms_that_could_not_be_served_are_refused(
    stack: Stack, change: dict[str, Any], field: list[str], code: str
) -> None:
    given = product_input(
        "BAD" + uuid.uuid4().hex[:6].upper(),
        methods=["EQUAL_INSTALLMENT"],
        term_months=[12],
        pricing=fixed("0.0435"),
        auto_approval_max="30000",
        rules=[AGE_RULE, NOT_BLACKLISTED],
    )
    given["terms"] |= change

    body = await stack.gql(CREATE_PRODUCT, {"input": given}, token=await stack.token("alpha-admin"))

    assert body["data"]["createLoanProduct"]["userErrors"] == [{"field": field, "code": code}]


async def test_a_scorecard_that_could_not_be_scored_is_refused(stack: Stack) -> None:
    given = product_input(
        "BAD" + uuid.uuid4().hex[:6].upper(),
        methods=["EQUAL_INSTALLMENT"],
        term_months=[12],
        pricing=fixed("0.0435"),
        auto_approval_max="30000",
    )
    given["terms"]["scorecard"]["intercept"] = "100000000"

    body = await stack.gql(CREATE_PRODUCT, {"input": given}, token=await stack.token("alpha-admin"))

    assert body["data"]["createLoanProduct"]["userErrors"] == [
        {"field": ["terms", "scorecard", "intercept"], "code": "INVALID_SCORECARD"}
    ]


async def test_a_schedule_starting_beyond_any_loans_calendar_is_refused(stack: Stack) -> None:
    body = await stack.gql(PREVIEW_SCHEDULE, {"start": "9999-06-01"})

    assert body["errors"][0]["extensions"]["code"] == "INVALID_DATE"
    assert body["errors"][0]["extensions"]["field"] == ["startDate"]


@pytest.mark.parametrize("amount", ["1e16", "12345678901234567.00", "-1e400"])
async def test_amounts_no_account_could_hold_are_refused_up_front(
    stack: Stack, amount: str
) -> None:
    body = await stack.gql(SCHEDULE_AMOUNT, {"amount": amount})

    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_simultaneous_applications_share_one_exposure_cap(stack: Stack) -> None:
    product = await _exposure_capped_product(stack)
    token, customer_id = await customer_token(stack)

    answers = await asyncio.gather(
        *(
            submit(stack, token, customer_id=customer_id, product_id=product["id"], amount="100000")
            for _ in range(8)
        )
    )

    states = [each["application"]["state"] for each in answers]
    assert states.count("APPROVED") == 4  # 4 × 100,000 fill the cap of 400,000


async def _waiting_pair(stack: Stack, *, methods: list[str], amount: str) -> list[str]:
    """Two applications of one customer, both waiting in review under a 400,000 cap."""
    revolving = methods == ["REVOLVING"]
    product = await create_product(
        stack,
        methods=methods,
        term_months=[] if revolving else [12],
        pricing=fixed("0.0435"),
        auto_approval_max="1000",
        limitPolicy={
            "baseAmounts": [{"segment": "FARMER", "amount": "300000"}],
            "maxTotalExposure": "400000",
        },
    )
    token, customer_id = await customer_token(stack)
    ids = []
    for _ in range(2):
        payload = await submit(
            stack,
            token,
            customer_id=customer_id,
            product_id=product["id"],
            amount=amount,
            method=methods[0],
            term_months=None if revolving else 12,
        )
        assert payload["application"]["state"] == "MANUAL_REVIEW", payload
        ids.append(payload["application"]["id"])
    return ids


@pytest.mark.parametrize("methods", [["REVOLVING"], ["EQUAL_INSTALLMENT"]])
async def test_a_review_approves_only_what_room_is_left_after_earlier_approvals(
    stack: Stack, methods: list[str]
) -> None:
    first, second = await _waiting_pair(stack, methods=methods, amount="300000")

    approved = await review(stack, "alpha-risk", first)
    refused = await review(stack, "alpha-risk", second)

    assert approved["application"]["state"] == "APPROVED"
    assert refused["userErrors"] == [{"field": ["amount"], "code": "LIMIT_EXCEEDED"}]


async def test_a_review_opens_no_second_line_of_a_product(stack: Stack) -> None:
    first, second = await _waiting_pair(stack, methods=["REVOLVING"], amount="100000")

    await review(stack, "alpha-risk", first)
    refused = await review(stack, "alpha-risk", second)

    assert refused["userErrors"] == [{"field": None, "code": "CREDIT_LINE_EXISTS"}]

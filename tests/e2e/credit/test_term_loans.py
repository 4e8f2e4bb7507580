"""A term loan from application to closing: review authority, signing, disbursing, repaying,
and who may see it."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

from tests.support.credit import (
    DISBURSE,
    LOAN,
    REPAY,
    SIGN,
    customer_token,
    mutate,
    review,
    submit,
    term_product,
)
from tests.support.stack import Stack

APPLICATION = "query($id: ID!) { loanApplication(id: $id) { id state } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"


async def _reviewed(stack: Stack) -> tuple[str, str, dict[str, Any]]:
    """100000 over 12 months submitted by alpha-manager for a self-registered customer."""
    product = await term_product(stack)
    token, customer_id = await customer_token(stack)
    payload = await submit(
        stack,
        await stack.token("alpha-manager"),
        customer_id=customer_id,
        product_id=product["id"],
        amount="100000",
    )
    assert payload["userErrors"] == [], payload
    return token, customer_id, payload["application"]


async def disbursed_loan(stack: Stack) -> tuple[str, str, dict[str, Any]]:
    """(customer token, customer id, loan) of a disbursed 100000 / 12 months loan at 4.35%."""
    token, customer_id, application = await _reviewed(stack)
    approved = await review(stack, "alpha-risk", application["id"])
    assert approved["userErrors"] == [], approved
    signed = await mutate(stack, SIGN, "signLoanContract", token, id=application["id"])
    assert signed["userErrors"] == [], signed
    disbursed = await mutate(
        stack, DISBURSE, "disburseLoan", await stack.token("alpha-officer"), id=application["id"]
    )
    assert disbursed["userErrors"] == [], disbursed
    return token, customer_id, disbursed["loan"]


async def test_review_sign_and_disburse_a_term_loan(stack: Stack) -> None:
    token, _, application = await _reviewed(stack)
    assert application["state"] == "MANUAL_REVIEW"
    assert application["decision"]["reasons"] == ["ABOVE_AUTO_APPROVAL"]

    own = await review(stack, "alpha-manager", application["id"])
    assert own["userErrors"] == [{"field": None, "code": "OWN_APPLICATION"}]

    above = await review(stack, "alpha-officer", application["id"])
    assert above["userErrors"] == [{"field": ["amount"], "code": "AMOUNT_ABOVE_AUTHORITY"}]

    approved = await review(stack, "alpha-risk", application["id"])
    assert approved["userErrors"] == []
    assert approved["application"]["state"] == "APPROVED"
    assert approved["application"]["approvedAmount"] == "100000.00" or Decimal(
        approved["application"]["approvedAmount"]
    ) == Decimal(100000)

    signed = await mutate(stack, SIGN, "signLoanContract", token, id=application["id"])
    assert signed["userErrors"] == []
    assert signed["application"]["state"] == "CONTRACT_SIGNED"
    assert signed["application"]["contract"]["annualRate"] == "0.0435"

    again = await mutate(stack, SIGN, "signLoanContract", token, id=application["id"])
    assert again["userErrors"] == [{"field": None, "code": "INVALID_STATE"}]

    officer = await stack.token("alpha-officer")
    disbursed = await mutate(stack, DISBURSE, "disburseLoan", officer, id=application["id"])
    assert disbursed["userErrors"] == []
    loan = disbursed["loan"]
    assert loan["status"] == "ACTIVE"
    assert loan["principal"] in ("100000.00", "100000")
    payments = [each["payment"] for each in loan["installments"]]
    assert payments == ["8530.99"] * 11 + ["8531.01"]

    twice = await mutate(stack, DISBURSE, "disburseLoan", officer, id=application["id"])
    assert twice["userErrors"] == [{"field": None, "code": "INVALID_STATE"}]


async def test_the_customer_may_not_approve_and_staff_may_not_sign(stack: Stack) -> None:
    token, _, application = await _reviewed(stack)

    by_customer = await stack.gql(
        "mutation($id: ID!) { reviewLoanApplication(input: "
        '{applicationId: $id, approve: true, reason: "me"}) { userErrors { code } } }',
        {"id": application["id"]},
        token=token,
    )
    by_staff = await stack.gql(
        SIGN, {"id": application["id"]}, token=await stack.token("alpha-risk")
    )

    assert [each["extensions"]["code"] for each in by_customer["errors"]] == ["FORBIDDEN"]
    assert [each["extensions"]["code"] for each in by_staff["errors"]] == ["FORBIDDEN"]


async def _repay(stack: Stack, token: str, loan_id: str, amount: str, key: str) -> dict[str, Any]:
    payload: dict[str, Any] = await mutate(
        stack,
        REPAY,
        "repayLoan",
        token,
        input={"loanId": loan_id, "amount": amount, "idempotencyKey": key},
    )
    return payload


async def test_repayment_is_idempotent_by_key_and_payoff_closes_the_loan(stack: Stack) -> None:
    token, _, loan = await disbursed_loan(stack)
    key = f"repay-{uuid.uuid4().hex}"

    first = await _repay(stack, token, loan["id"], "8530.99", key)
    assert first["userErrors"] == []
    assert first["replayed"] is False
    paid = first["repayment"]
    assert paid["amount"] == "8530.99"
    parts = ("principalPaid", "interestPaid", "penaltyPaid")  # principal includes prepaid
    assert sum(Decimal(paid[part]) for part in parts) == Decimal("8530.99")
    assert Decimal(paid["prepaidPrincipal"]) <= Decimal(paid["principalPaid"])

    replay = await _repay(stack, token, loan["id"], "8530.99", key)
    assert replay["userErrors"] == []
    assert replay["replayed"] is True
    assert replay["repayment"] == paid
    assert len(replay["loan"]["repayments"]) == 1
    assert replay["loan"]["outstandingPrincipal"] == first["loan"]["outstandingPrincipal"]

    reused = await _repay(stack, token, loan["id"], "100.00", key)
    assert reused["userErrors"] == [{"field": ["idempotencyKey"], "code": "IDEMPOTENCY_KEY_REUSED"}]

    current = (await stack.gql(LOAN, {"id": loan["id"]}, token=token))["data"]["loan"]
    assert len(current["repayments"]) == 1
    closing = await _repay(stack, token, loan["id"], current["payoffAmount"], f"k-{uuid.uuid4()}")
    assert closing["userErrors"] == [], closing
    assert closing["loan"]["status"] == "CLOSED"
    assert Decimal(closing["loan"]["outstandingPrincipal"]) == 0
    assert closing["loan"]["closedOn"] is not None

    after = await _repay(stack, token, loan["id"], "1.00", f"k-{uuid.uuid4()}")
    assert [each["code"] for each in after["userErrors"]] == ["LOAN_CLOSED"]


async def test_another_institution_and_another_customer_see_nothing(stack: Stack) -> None:
    token, _, loan = await disbursed_loan(stack)
    other_token, _ = await customer_token(stack)
    loans = (await stack.gql("{ loans { edges { node { id } } } }", token=token))["data"]
    application_id = None
    applications = await stack.gql(
        "{ loanApplications(first: 100) { edges { node { id state } } } }", token=token
    )
    for edge in applications["data"]["loanApplications"]["edges"]:
        if edge["node"]["state"] == "DISBURSED":
            application_id = edge["node"]["id"]
    assert application_id is not None
    assert [edge["node"]["id"] for edge in loans["loans"]["edges"]] == [loan["id"]]

    for viewer in (await stack.token("beta-admin"), await stack.token("beta-risk"), other_token):
        for query, variables in (
            (LOAN, {"id": loan["id"]}),
            (APPLICATION, {"id": application_id}),
            (NODE, {"id": loan["id"]}),
            (NODE, {"id": application_id}),
        ):
            body = await stack.gql(query, variables, token=viewer)
            assert [each["extensions"]["code"] for each in body["errors"]] == ["NOT_FOUND"], (
                query,
                body,
            )

    others_loans = await stack.gql("{ loans { edges { node { id } } } }", token=other_token)
    assert others_loans["data"]["loans"]["edges"] == []
    beta_loans = await stack.gql(
        "{ loans(first: 100) { edges { node { id } } } }", token=await stack.token("beta-admin")
    )
    assert loan["id"] not in str(beta_loans)

    stolen = await _repay(stack, other_token, loan["id"], "10.00", f"k-{uuid.uuid4()}")
    assert stolen["userErrors"] == [{"field": ["loanId"], "code": "NOT_FOUND"}]
    beta_repay = await stack.gql(
        REPAY,
        {"input": {"loanId": loan["id"], "amount": "10.00", "idempotencyKey": "x"}},
        token=await stack.token("beta-officer"),
    )
    assert beta_repay["data"]["repayLoan"]["userErrors"] == [
        {"field": ["loanId"], "code": "NOT_FOUND"}
    ]
    unchanged = (await stack.gql(LOAN, {"id": loan["id"]}, token=token))["data"]["loan"]
    assert unchanged["repayments"] == []


async def test_simultaneous_repayments_with_one_key_pay_once(stack: Stack) -> None:
    token, _, loan = await disbursed_loan(stack)
    key = str(uuid.uuid4())

    answers = await asyncio.gather(
        *(_repay(stack, token, loan["id"], "1000.00", key) for _ in range(4))
    )

    assert [each["userErrors"] for each in answers] == [[]] * 4
    assert sorted(each["replayed"] for each in answers) == [False, True, True, True]
    after = (await stack.gql(LOAN, {"id": loan["id"]}, token=token))["data"]["loan"]
    assert len(after["repayments"]) == 1
    assert after["outstandingPrincipal"] == "99000.00"

"""The daily pass: overdue loans, alerts raised once, alert handling, classification overrides;
and blacklisted applicants."""

from __future__ import annotations

from datetime import date, timedelta

from tests.e2e.credit.test_term_loans import disbursed_loan
from tests.support.credit import (
    DECISION_FIELDS,
    LOAN,
    add_list_entry,
    application_input,
    audit_actions,
    customer_token,
    daily_pass,
    submit,
    term_product,
)
from tests.support.stack import Stack

ALERTS = """
query($loan: ID!) {
  riskAlerts(first: 50, filter: {loanId: $loan}) { edges { node { id kind status } } }
}
"""
ALERT_ACTION = """
mutation($id: ID!) {{ {name}(input: {{alertId: $id, note: "called"}}) {{
  alert {{ id status note }} userErrors {{ field code }} }} }}
"""
CLASSIFY = """
mutation($id: ID!) {
  classifyLoan(input: {loanId: $id, classification: SUBSTANDARD, reason: "farm flooded"}) {
    loan { classification derivedClassification classificationOverride } userErrors { code }
  }
}
"""


async def _daily(stack: Stack, on: date) -> int:
    return (await daily_pass(stack, on)).alerts_raised


async def _alerts(stack: Stack, loan_id: str) -> list[dict]:
    body = await stack.gql(ALERTS, {"loan": loan_id}, token=await stack.token("alpha-risk"))
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["riskAlerts"]["edges"]]


async def test_the_daily_pass_marks_a_loan_overdue_once(stack: Stack) -> None:
    _token, _, loan = await disbursed_loan(stack)
    first_due = date.fromisoformat(loan["installments"][0]["dueDate"])
    business_date = first_due + timedelta(days=40)

    await _daily(stack, business_date)

    officer = await stack.token("alpha-officer")
    seen = (await stack.gql(LOAN, {"id": loan["id"]}, token=officer))["data"]["loan"]
    assert seen["daysPastDue"] == 40
    assert seen["bucket"] == "M2"
    assert seen["classification"] == "SPECIAL_MENTION"
    alerts = await _alerts(stack, loan["id"])
    overdue = [each for each in alerts if each["kind"] == "OVERDUE_STARTED"]
    assert len(overdue) == 1
    assert overdue[0]["status"] == "OPEN"

    await _daily(stack, business_date)
    assert sorted(a["id"] for a in await _alerts(stack, loan["id"])) == sorted(
        a["id"] for a in alerts
    )

    risk = await stack.token("alpha-risk")
    alert_id = overdue[0]["id"]
    acknowledged = await stack.gql(
        ALERT_ACTION.format(name="acknowledgeRiskAlert"), {"id": alert_id}, token=risk
    )
    assert acknowledged["data"]["acknowledgeRiskAlert"]["alert"]["status"] == "ACKNOWLEDGED"
    closed = await stack.gql(
        ALERT_ACTION.format(name="closeRiskAlert"), {"id": alert_id}, token=risk
    )
    assert closed["data"]["closeRiskAlert"]["alert"]["status"] == "CLOSED"
    twice = await stack.gql(
        ALERT_ACTION.format(name="closeRiskAlert"), {"id": alert_id}, token=risk
    )
    assert twice["data"]["closeRiskAlert"]["userErrors"] == [
        {"field": None, "code": "INVALID_STATE"}
    ]
    beta = await stack.gql(
        ALERT_ACTION.format(name="acknowledgeRiskAlert"),
        {"id": alert_id},
        token=await stack.token("beta-risk"),
    )
    assert beta["data"]["acknowledgeRiskAlert"]["userErrors"] == [
        {"field": ["alertId"], "code": "NOT_FOUND"}
    ]


async def test_a_risk_officer_overrides_the_classification_with_an_audit_event(
    stack: Stack,
) -> None:
    _, _, loan = await disbursed_loan(stack)

    by_officer = await stack.gql(
        CLASSIFY, {"id": loan["id"]}, token=await stack.token("alpha-officer")
    )
    assert [each["extensions"]["code"] for each in by_officer["errors"]] == ["FORBIDDEN"]

    body = await stack.gql(CLASSIFY, {"id": loan["id"]}, token=await stack.token("alpha-risk"))

    payload = body["data"]["classifyLoan"]
    assert payload["userErrors"] == []
    assert payload["loan"] == {
        "classification": "SUBSTANDARD",
        "derivedClassification": "NORMAL",
        "classificationOverride": "SUBSTANDARD",
    }
    assert await audit_actions(stack, loan["id"]) == ["loan.classification_override"]


async def test_a_blacklisted_applicant_is_rejected_and_preview_agrees(stack: Stack) -> None:
    product = await term_product(stack)
    id_number = stack.new_id_number()
    _, customer_id = await customer_token(stack, id_number=id_number)
    await add_list_entry(stack, id_number, kind="BLACKLIST", username="alpha-admin")
    officer = await stack.token("alpha-officer")
    request = application_input(customer_id, product["id"], "20000")

    preview = await stack.gql(
        f"query($input: LoanApplicationInput!) {{ previewLoanDecision(input: $input) "
        f"{{ {DECISION_FIELDS} }} }}",
        {"input": request},
        token=officer,
    )
    before = await stack.gql(
        "query($c: ID!) { loanApplications(filter: {customerId: $c}) { edges { node { id } } } }",
        {"c": customer_id},
        token=officer,
    )
    payload = await submit(
        stack, officer, customer_id=customer_id, product_id=product["id"], amount="20000"
    )

    assert before["data"]["loanApplications"]["edges"] == []
    assert preview["data"]["previewLoanDecision"]["outcome"] == "REJECTED"
    assert preview["data"]["previewLoanDecision"]["reasons"] == ["BLACKLISTED"]
    assert payload["userErrors"] == []
    application = payload["application"]
    assert application["state"] == "REJECTED"
    assert application["decision"]["reasons"] == ["BLACKLISTED"]
    assert application["decision"] == preview["data"]["previewLoanDecision"]

"""The rest of the workflow: withdrawing, product versions, exposure, prepayment that shortens
the term, alert assignment, list revocation, who sees which products, the LPR table, and what
the daily pass lets lapse.

The last two tests run the daily pass far in the future over every loan and application of the
session, so they stay at the end of this file."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jikuai.schema.relay import to_global_id
from tests.e2e.credit.test_term_loans import disbursed_loan
from tests.support.credit import (
    ADD_LIST_ENTRY,
    AGE_RULE,
    DECISION_FIELDS,
    REPAY,
    SIGN,
    UPDATE_PRODUCT,
    WHITELISTED,
    add_list_entry,
    application_input,
    audit_actions,
    customer_token,
    daily_pass,
    error_codes,
    mutate,
    open_line,
    product_input,
    review,
    revolving_product,
    submit,
    term_product,
)
from tests.support.stack import Stack

WITHDRAW = """
mutation($id: ID!) {
  withdrawLoanApplication(input: {applicationId: $id, reason: "changed my mind"}) {
    application { id state transitions { fromState toState actorKind reason } }
    userErrors { field code }
  }
}
"""
APPLICATION = """
query($id: ID!) { loanApplication(id: $id) { id state product { id version }
  transitions { toState reason } } }
"""
PREVIEW = f"""
query($input: LoanApplicationInput!) {{ previewLoanDecision(input: $input) {{
  {DECISION_FIELDS} record }} }}
"""
REVOKE = """
mutation($id: ID!) {
  revokeCreditListEntry(entryId: $id) { entry { id revokedAt } userErrors { field code } }
}
"""
PRODUCTS = "query { loanProducts { id code segments } }"
LPR_RATES = "query { lprRates { tenor publishedOn rate } }"
PUBLISH = """
mutation($rate: Decimal!) {
  publishLprRate(input: {tenor: FIVE_YEARS_PLUS, publishedOn: "2023-01-20", rate: $rate}) {
    rate { rate } userErrors { field code }
  }
}
"""
ASSIGN = """
mutation($id: ID!, $to: ID!) {
  assignRiskAlert(input: {alertId: $id, assigneeId: $to}) {
    alert { id assigneeId status } userErrors { field code }
  }
}
"""
ALERTS = """
query($loan: ID!) { riskAlerts(filter: {loanId: $loan}) { edges { node { id kind } } } }
"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
LINES = """
query($id: ID!) { customer(id: $id) { creditLines { id status available } } }
"""
DRAW = """
mutation($input: DrawCreditInput!) {
  drawCredit(input: $input) { loan { id } userErrors { field code } }
}
"""


async def _in_review(stack: Stack) -> tuple[str, str, dict[str, Any]]:
    """A self-registered customer's 100,000 application, waiting in manual review."""
    product = await term_product(stack)
    token, customer_id = await customer_token(stack)
    payload = await submit(
        stack, token, customer_id=customer_id, product_id=product["id"], amount="100000"
    )
    assert payload["application"]["state"] == "MANUAL_REVIEW", payload
    return token, customer_id, payload["application"]


async def test_a_customer_withdraws_an_application_under_review(stack: Stack) -> None:
    token, _, application = await _in_review(stack)
    other, _ = await customer_token(stack)

    by_other = await mutate(stack, WITHDRAW, "withdrawLoanApplication", other, id=application["id"])
    withdrawn = await mutate(
        stack, WITHDRAW, "withdrawLoanApplication", token, id=application["id"]
    )
    again = await mutate(stack, WITHDRAW, "withdrawLoanApplication", token, id=application["id"])

    assert by_other == {
        "application": None,
        "userErrors": [{"field": ["applicationId"], "code": "NOT_FOUND"}],
    }
    assert withdrawn["userErrors"] == []
    assert withdrawn["application"]["state"] == "WITHDRAWN"
    assert withdrawn["application"]["transitions"][-1] == {
        "fromState": "MANUAL_REVIEW",
        "toState": "WITHDRAWN",
        "actorKind": "CUSTOMER",
        "reason": "changed my mind",
    }
    assert again["userErrors"] == [{"field": None, "code": "INVALID_STATE"}]


async def test_an_application_keeps_the_product_version_it_was_made_under(stack: Stack) -> None:
    product = await term_product(stack)
    token, customer_id = await customer_token(stack)
    first = await submit(
        stack, token, customer_id=customer_id, product_id=product["id"], amount="20000"
    )
    updated = await mutate(
        stack,
        UPDATE_PRODUCT,
        "updateLoanProduct",
        await stack.token("alpha-admin"),
        input=product_input(
            product["code"],
            methods=["EQUAL_INSTALLMENT"],
            term_months=[12],
            pricing={"kind": "FIXED", "fixedRate": "0.0399"},
            auto_approval_max="30000",
        ),
    )

    second = await submit(
        stack, token, customer_id=customer_id, product_id=product["id"], amount="20000"
    )

    assert updated["product"]["version"] == 2
    versions = []
    for payload in (first, second):
        body = await stack.gql(APPLICATION, {"id": payload["application"]["id"]}, token=token)
        versions.append(body["data"]["loanApplication"]["product"]["version"])
    assert versions == [1, 2]


async def test_an_open_credit_line_counts_in_the_next_decisions_exposure(stack: Stack) -> None:
    customer_id = (await open_line(stack)).customer_id
    product = await term_product(stack)

    body = await stack.gql(
        PREVIEW,
        {"input": application_input(customer_id, product["id"], "20000")},
        token=await stack.token("alpha-officer"),
    )

    record = body["data"]["previewLoanDecision"]["record"]
    assert record["inputs"]["applicant.existing_exposure"] == "50000.00"
    assert record["limit"]["exposure_room"] == "950000.00"


async def test_a_partial_prepayment_can_shorten_the_term(stack: Stack) -> None:
    token, _, loan = await disbursed_loan(stack)

    paid = await mutate(
        stack,
        REPAY,
        "repayLoan",
        token,
        input={
            "loanId": loan["id"],
            "amount": "50000.00",
            "idempotencyKey": str(uuid.uuid4()),
            "prepaymentMode": "REDUCE_TERM",
        },
    )

    assert paid["userErrors"] == []
    after = paid["loan"]
    assert after["outstandingPrincipal"] == "50000.00"
    assert paid["repayment"]["prepaidPrincipal"] == "50000.00"
    installments = after["installments"]
    assert len(installments) < 12
    assert sum(Decimal(each["principal"]) for each in installments) == Decimal("100000.00")
    unpaid = [each for each in installments if each["paidOn"] is None]
    assert all(Decimal(each["payment"]) <= Decimal("8530.99") for each in unpaid[1:-1])


async def test_alerts_are_assigned_within_the_institution_only(stack: Stack) -> None:
    _, _, loan = await disbursed_loan(stack)
    first_due = date.fromisoformat(loan["installments"][0]["dueDate"])
    await daily_pass(stack, first_due + timedelta(days=5))
    risk = await stack.token("alpha-risk")
    alerts = (await stack.gql(ALERTS, {"loan": loan["id"]}, token=risk))["data"]["riskAlerts"]
    alert_id = alerts["edges"][0]["node"]["id"]
    officer = to_global_id("Staff", stack.world.staff["alpha-officer"].id)
    foreign = to_global_id("Staff", stack.world.staff["beta-officer"].id)

    to_foreign = await mutate(stack, ASSIGN, "assignRiskAlert", risk, id=alert_id, to=foreign)
    to_officer = await mutate(stack, ASSIGN, "assignRiskAlert", risk, id=alert_id, to=officer)

    assert to_foreign["userErrors"] == [{"field": ["assigneeId"], "code": "NOT_FOUND"}]
    assert to_officer["userErrors"] == []
    assert to_officer["alert"]["assigneeId"] == officer


async def test_alerts_and_list_entries_are_nodes_for_their_institution_only(
    stack: Stack,
) -> None:
    _, _, loan = await disbursed_loan(stack)
    first_due = date.fromisoformat(loan["installments"][0]["dueDate"])
    await daily_pass(stack, first_due + timedelta(days=2))
    risk = await stack.token("alpha-risk")
    alerts = (await stack.gql(ALERTS, {"loan": loan["id"]}, token=risk))["data"]["riskAlerts"]
    alert_id = alerts["edges"][0]["node"]["id"]
    entry_id = (await add_list_entry(stack, stack.new_id_number()))["entry"]["id"]

    def seen(body: dict[str, Any]) -> bool:
        return "errors" not in body and body["data"]["node"] is not None

    for node_id, allowed, refused in (
        (alert_id, ["alpha-risk", "alpha-officer", "prov-admin"], ["beta-risk"]),
        (entry_id, ["alpha-risk", "alpha-admin", "prov-admin"], ["alpha-officer", "beta-risk"]),
    ):
        for username in allowed:
            assert seen(await stack.gql(NODE, {"id": node_id}, token=await stack.token(username)))
        for username in refused:
            body = await stack.gql(NODE, {"id": node_id}, token=await stack.token(username))
            assert error_codes(body) == ["NOT_FOUND"]


async def test_revoking_a_whitelist_entry_ends_the_fast_lane(stack: Stack) -> None:
    product = await revolving_product(stack, [AGE_RULE, WHITELISTED])
    id_number = stack.new_id_number()
    token, customer_id = await customer_token(stack, id_number=id_number)
    entry = (await add_list_entry(stack, id_number))["entry"]
    risk = await stack.token("alpha-risk")

    revoked = await mutate(stack, REVOKE, "revokeCreditListEntry", risk, id=entry["id"])
    again = await mutate(stack, REVOKE, "revokeCreditListEntry", risk, id=entry["id"])
    by_beta = await stack.gql(REVOKE, {"id": entry["id"]}, token=await stack.token("beta-risk"))
    payload = await submit(
        stack,
        token,
        customer_id=customer_id,
        product_id=product["id"],
        amount="30000",
        method="REVOLVING",
        term_months=None,
    )

    assert revoked["entry"]["revokedAt"] is not None
    assert again["userErrors"] == [{"field": None, "code": "INVALID_STATE"}]
    assert by_beta["data"]["revokeCreditListEntry"]["userErrors"] == [
        {"field": ["entryId"], "code": "NOT_FOUND"}
    ]
    assert payload["application"]["state"] == "REJECTED"
    assert payload["application"]["decision"]["reasons"] == ["NOT_WHITELISTED"]
    assert await audit_actions(stack, entry["id"]) == ["credit_list.add", "credit_list.revoke"]


async def test_a_list_entry_needs_a_valid_sealed_id_number_and_a_keeper(stack: Stack) -> None:
    variables = {
        "input": {
            "kind": "BLACKLIST",
            "idNumber": stack.seal("idNumber", "110105194912310021"),
            "source": "法院",
            "reason": "失信被执行人",
            "validFrom": "2020-01-01",
        }
    }

    by_officer = await stack.gql(
        ADD_LIST_ENTRY, variables, token=await stack.token("alpha-officer")
    )
    bad = await stack.gql(ADD_LIST_ENTRY, variables, token=await stack.token("alpha-risk"))
    sealed_for_phone = variables | {
        "input": variables["input"] | {"idNumber": stack.seal("phone", stack.new_id_number())}
    }
    wrong_field = await stack.gql(
        ADD_LIST_ENTRY, sealed_for_phone, token=await stack.token("alpha-risk")
    )

    assert error_codes(by_officer) == ["FORBIDDEN"]
    assert bad["data"]["addCreditListEntry"]["userErrors"] == [
        {"field": ["idNumber"], "code": "INVALID_ID_NUMBER"}
    ]
    assert wrong_field["data"]["addCreditListEntry"]["userErrors"] == [
        {"field": ["idNumber"], "code": "ENVELOPE_INVALID"}
    ]


async def test_a_customer_sees_the_products_of_their_segment_only(stack: Stack) -> None:
    farmers = await term_product(stack, segments=["FARMER"])
    teachers = await term_product(stack, segments=["TEACHER"])
    token, _ = await customer_token(stack, segment="FARMER")
    beta_token, _ = await customer_token(stack, institution="beta", segment="FARMER")

    seen = (await stack.gql(PRODUCTS, token=token))["data"]["loanProducts"]
    seen_in_beta = (await stack.gql(PRODUCTS, token=beta_token))["data"]["loanProducts"]

    codes = {each["code"] for each in seen}
    assert farmers["code"] in codes
    assert teachers["code"] not in codes
    assert all("FARMER" in each["segments"] for each in seen)
    assert farmers["code"] not in {each["code"] for each in seen_in_beta}


async def test_the_lpr_table_is_kept_by_province_admins(stack: Stack) -> None:
    admin = await stack.token("alpha-admin")
    province = await stack.token("prov-admin")

    by_admin = await stack.gql(PUBLISH, {"rate": "0.0420"}, token=admin)
    too_high = await mutate(stack, PUBLISH, "publishLprRate", province, rate="0.25")
    too_precise = await mutate(stack, PUBLISH, "publishLprRate", province, rate="0.04201234")
    published = await mutate(stack, PUBLISH, "publishLprRate", province, rate="0.0420")
    corrected = await mutate(stack, PUBLISH, "publishLprRate", province, rate="0.0430")
    table = (await stack.gql(LPR_RATES))["data"]["lprRates"]

    assert error_codes(by_admin) == ["FORBIDDEN"]
    assert too_high["userErrors"] == [{"field": ["rate"], "code": "INVALID_RATE"}]
    assert too_precise["userErrors"] == [{"field": ["rate"], "code": "INVALID_RATE"}]
    assert published["rate"] == {"rate": "0.0420"}
    assert corrected["userErrors"] == []
    on_that_day = [
        each
        for each in table
        if each["tenor"] == "FIVE_YEARS_PLUS" and each["publishedOn"] == "2023-01-20"
    ]
    assert on_that_day == [
        {"tenor": "FIVE_YEARS_PLUS", "publishedOn": "2023-01-20", "rate": "0.0430"}
    ]


async def test_reviews_and_contracts_lapse_but_an_approved_credit_line_does_not(
    stack: Stack,
) -> None:
    line = await open_line(stack)
    token, customer_id = line.token, line.customer_id
    _, _, waiting = await _in_review(stack)
    customer, _, signed = await _in_review(stack)
    await review(stack, "alpha-risk", signed["id"])
    await mutate(stack, SIGN, "signLoanContract", customer, id=signed["id"])
    lines = (await stack.gql(LINES, {"id": customer_id}, token=token))["data"]["customer"]

    await daily_pass(stack, date.today() + timedelta(days=31))

    risk = await stack.token("alpha-risk")
    for application in (waiting, signed):
        body = await stack.gql(APPLICATION, {"id": application["id"]}, token=risk)
        lapsed = body["data"]["loanApplication"]
        assert lapsed["state"] == "EXPIRED"
        assert lapsed["transitions"][-1] == {"toState": "EXPIRED", "reason": "lapsed"}
    after = (await stack.gql(LINES, {"id": customer_id}, token=token))["data"]["customer"]
    assert after == lines
    assert after["creditLines"][0]["status"] == "ACTIVE"


async def test_a_credit_line_past_its_last_day_expires_and_cannot_be_drawn(stack: Stack) -> None:
    line = await open_line(stack)
    token, customer_id = line.token, line.customer_id
    line = (await stack.gql(LINES, {"id": customer_id}, token=token))["data"]["customer"][
        "creditLines"
    ][0]

    result = await daily_pass(stack, date.today() + timedelta(days=400))

    assert result.credit_lines_expired >= 1
    after = (await stack.gql(LINES, {"id": customer_id}, token=token))["data"]["customer"]
    assert after["creditLines"][0]["status"] == "EXPIRED"
    drawn = await mutate(
        stack,
        DRAW,
        "drawCredit",
        token,
        input={
            "creditLineId": line["id"],
            "amount": "1000",
            "days": 10,
            "idempotencyKey": str(uuid.uuid4()),
        },
    )
    assert drawn["userErrors"] == [{"field": ["creditLineId"], "code": "CREDIT_LINE_INACTIVE"}]

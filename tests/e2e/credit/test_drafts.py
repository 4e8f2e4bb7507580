"""Drafts: an application saved while being filled in, changed, then submitted and decided."""

from __future__ import annotations

from typing import Any

from tests.support.credit import (
    APPLICATION_FIELDS,
    application_input,
    customer_token,
    mutate,
    review,
    term_product,
)
from tests.support.stack import Stack

SAVE = f"""
mutation($input: SaveLoanApplicationDraftInput!) {{
  saveLoanApplicationDraft(input: $input) {{
    application {{ {APPLICATION_FIELDS} product {{ version }} }} userErrors {{ field code }}
  }}
}}
"""
SUBMIT_DRAFT = f"""
mutation($id: ID!) {{
  submitLoanApplicationDraft(input: {{applicationId: $id}}) {{
    application {{ {APPLICATION_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""


async def _save(stack: Stack, token: str, **fields: Any) -> Any:
    return await mutate(stack, SAVE, "saveLoanApplicationDraft", token, input=fields)


async def test_a_draft_is_saved_changed_and_submitted(stack: Stack) -> None:
    product = await term_product(stack)
    token, customer_id = await customer_token(stack)
    request = application_input(customer_id, product["id"], "50000")

    saved = await _save(stack, token, **request)
    draft = saved["application"]
    changed = await _save(
        stack, token, **request | {"amount": "20000", "applicationId": draft["id"]}
    )
    submitted = await mutate(
        stack, SUBMIT_DRAFT, "submitLoanApplicationDraft", token, id=draft["id"]
    )
    again = await mutate(stack, SUBMIT_DRAFT, "submitLoanApplicationDraft", token, id=draft["id"])

    assert saved["userErrors"] == []
    assert draft["state"] == "DRAFT"
    assert draft["decision"] is None
    assert changed["application"]["amount"] == "20000.00"
    application = submitted["application"]
    assert application["id"] == draft["id"]
    assert application["state"] == "APPROVED"
    assert application["decision"]["outcome"] == "AUTO_APPROVED"
    assert [(each["fromState"], each["toState"]) for each in application["transitions"]] == [
        (None, "DRAFT"),
        ("DRAFT", "SUBMITTED"),
        ("SUBMITTED", "AUTO_APPROVED"),
        ("AUTO_APPROVED", "APPROVED"),
    ]
    assert again["userErrors"] == [{"field": None, "code": "INVALID_STATE"}]


async def test_a_draft_is_checked_against_the_product_but_not_decided(stack: Stack) -> None:
    product = await term_product(stack)
    token, customer_id = await customer_token(stack)

    bad = await _save(
        stack,
        token,
        **application_input(customer_id, product["id"], "0.001", term_months=7)
        | {"annualIncome": "1.005"},
    )

    assert bad["application"] is None
    assert bad["userErrors"] == [
        {"field": ["amount"], "code": "INVALID_AMOUNT"},
        {"field": ["termMonths"], "code": "INVALID_TERM"},
        {"field": ["annualIncome"], "code": "INVALID_AMOUNT"},
    ]


async def test_only_the_applicant_changes_or_submits_a_draft(stack: Stack) -> None:
    product = await term_product(stack)
    token, customer_id = await customer_token(stack)
    other, _ = await customer_token(stack)
    draft = (await _save(stack, token, **application_input(customer_id, product["id"], "5000")))[
        "application"
    ]

    by_other = await mutate(
        stack, SUBMIT_DRAFT, "submitLoanApplicationDraft", other, id=draft["id"]
    )
    by_beta = await mutate(
        stack,
        SUBMIT_DRAFT,
        "submitLoanApplicationDraft",
        await stack.token("beta-officer"),
        id=draft["id"],
    )
    by_officer = await mutate(
        stack,
        SUBMIT_DRAFT,
        "submitLoanApplicationDraft",
        await stack.token("alpha-officer"),
        id=draft["id"],
    )

    not_found = [{"field": ["applicationId"], "code": "NOT_FOUND"}]
    assert by_other["userErrors"] == not_found
    assert by_beta["userErrors"] == not_found
    assert by_officer["userErrors"] == []
    assert by_officer["application"]["state"] == "APPROVED"


async def test_staff_who_prepared_a_draft_cannot_review_it(stack: Stack) -> None:
    product = await term_product(stack)
    token, customer_id = await customer_token(stack)
    draft = (await _save(stack, token, **application_input(customer_id, product["id"], "50000")))[
        "application"
    ]
    manager = await stack.token("alpha-manager")
    await _save(
        stack,
        manager,
        **application_input(customer_id, product["id"], "100000") | {"applicationId": draft["id"]},
    )
    submitted = await mutate(
        stack, SUBMIT_DRAFT, "submitLoanApplicationDraft", token, id=draft["id"]
    )
    assert submitted["application"]["state"] == "MANUAL_REVIEW"

    reviewed = await review(stack, "alpha-manager", draft["id"])

    assert reviewed["userErrors"] == [{"field": None, "code": "OWN_APPLICATION"}]

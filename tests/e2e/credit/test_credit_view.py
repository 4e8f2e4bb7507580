"""A customer's credit view for staff: lines, loans and applications, batched per level."""

from __future__ import annotations

from tests.e2e.credit.test_term_loans import disbursed_loan
from tests.support.credit import open_line
from tests.support.stack import Stack

VIEW = """
query($id: ID!) {
  customer(id: $id) {
    creditLines { limitAmount status }
    loans { principal status nextDueDate }
    loanApplications { state amount }
  }
}
"""
PAGE = """
query($first: Int!) {
  customers(first: $first) {
    edges { node { id creditLines { id } loans { id } loanApplications { id } } }
  }
}
"""


async def test_an_officer_sees_a_customers_lines_loans_and_applications(stack: Stack) -> None:
    _, customer_id, _ = await disbursed_loan(stack)

    body = await stack.gql(VIEW, {"id": customer_id}, token=await stack.token("alpha-officer"))

    view = body["data"]["customer"]
    assert view["creditLines"] == []
    assert [(each["principal"], each["status"]) for each in view["loans"]] == [
        ("100000.00", "ACTIVE")
    ]
    assert view["loans"][0]["nextDueDate"] is not None
    assert [each["state"] for each in view["loanApplications"]] == ["DISBURSED"]


async def test_the_customer_sees_their_own_view_and_others_see_nothing(stack: Stack) -> None:
    line = await open_line(stack)

    own = await stack.gql(VIEW, {"id": line.customer_id}, token=line.token)
    beta = await stack.gql(VIEW, {"id": line.customer_id}, token=await stack.token("beta-officer"))

    assert own["data"]["customer"]["creditLines"] == [
        {"limitAmount": "50000.00", "status": "ACTIVE"}
    ]
    assert [each["extensions"]["code"] for each in beta["errors"]] == ["NOT_FOUND"]


async def test_a_page_of_credit_views_costs_the_same_statements_at_any_size(stack: Stack) -> None:
    await open_line(stack)
    token = await stack.token("alpha-officer")

    counts = []
    for first in (2, 20):
        with stack.count_statements() as statements:
            body = await stack.gql(PAGE, {"first": first}, token=token)
        assert "errors" not in body, body
        counts.append(len(statements))

    assert counts[0] == counts[1]


async def test_a_relation_asked_twice_on_a_page_is_read_once(stack: Stack) -> None:
    await disbursed_loan(stack)
    token = await stack.token("alpha-officer")
    twice = "query { customers(first: 20) { edges { node { a: loans { id } b: loans { id } } } } }"

    with stack.count_statements() as statements:
        body = await stack.gql(twice, {}, token=token)

    edges = body["data"]["customers"]["edges"]
    assert all(each["node"]["a"] == each["node"]["b"] for each in edges)
    assert any(each["node"]["a"] for each in edges)
    assert sum("FROM loans" in each for each in statements) == 1

"""Cashiers and service accounts are actors of their own: what is not theirs is FORBIDDEN or
not found, never someone else's data and never an internal error."""

from typing import Any

import pytest

from tests.support.credit import customer_token
from tests.support.merchants import approved_merchant
from tests.support.points import service_token
from tests.support.stack import Stack

# Reads meant for staff or customers.
STAFF_OR_CUSTOMER_READS = [
    "{ customers(first: 5) { edges { node { id } } } }",
    "{ loanApplications(first: 5) { edges { node { id } } } }",
    "{ loans(first: 5) { edges { node { id } } } }",
    "{ riskAlerts(first: 5) { edges { node { id } } } }",
    "{ creditListEntries(first: 5) { edges { node { id } } } }",
    "{ loanProducts { id } }",
    "{ merchants(first: 5) { edges { node { id } } } }",
]


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.mark.parametrize("query", STAFF_OR_CUSTOMER_READS)
async def test_a_cashier_and_a_service_account_may_not_read_staff_lists(
    stack: Stack, query: str
) -> None:
    merchant = await approved_merchant(stack)
    for token in (merchant.cashier_token, await service_token(stack)):
        body = await stack.gql(query, token=token)
        if "errors" in body:
            assert _codes(body) == ["FORBIDDEN"], body
            assert body["data"] is None
        else:  # the credit lists answer a role outside credit with nothing
            assert next(iter(body["data"].values())) == {"edges": []}, body


async def test_neither_sees_a_customer_by_id(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    _token, customer_id = await customer_token(stack)
    query = "query($id: ID!) { customer(id: $id) { id } }"
    for token in (merchant.cashier_token, await service_token(stack)):
        body = await stack.gql(query, {"id": customer_id}, token=token)
        assert _codes(body) == ["NOT_FOUND"], body
        points = await stack.gql(
            "query($id: ID) { pointsAccount(customerId: $id) { balance } }",
            {"id": customer_id},
            token=token,
        )
        assert _codes(points) == ["FORBIDDEN"], points


async def test_me_names_a_cashier_and_a_service_account(stack: Stack) -> None:
    merchant = await approved_merchant(stack)
    query = "{ me { kind role registered staff { id } customer { id } institution { code } } }"
    cashier = (await stack.gql(query, token=merchant.cashier_token))["data"]["me"]
    service = (await stack.gql(query, token=await service_token(stack)))["data"]["me"]
    own = (await stack.gql("{ merchant { id } }", token=merchant.cashier_token))["data"]

    assert cashier == {
        "kind": "MERCHANT",
        "role": "MERCHANT_OPERATOR",
        "registered": True,
        "staff": None,
        "customer": None,
        "institution": {"code": "alpha"},
    }
    assert service["kind"] == "SERVICE"
    assert service["role"] == "SERVICE_ACCOUNT"
    assert service["institution"] == {"code": "alpha"}
    assert own == {"merchant": {"id": merchant.merchant_id}}

"""A whitelisted farmer's credit line: approved in one call, drawn idempotently, restored by
repayment; concurrent drawdowns never exceed the limit."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

from tests.support.credit import (
    CREDIT_LINES,
    DRAW,
    REPAY,
    open_line,
)
from tests.support.stack import Stack


async def _revolving_line(stack: Stack, limit: str = "50000") -> tuple[str, str, dict[str, Any]]:
    line = await open_line(stack, limit)
    return line.token, line.customer_id, line.application


async def _lines(stack: Stack, token: str, customer_id: str) -> list[dict[str, Any]]:
    body = await stack.gql(CREDIT_LINES, {"id": customer_id}, token=token)
    assert "errors" not in body, body
    lines: list[dict[str, Any]] = body["data"]["customer"]["creditLines"]
    return lines


async def _draw(stack: Stack, token: str, line_id: str, amount: str, key: str) -> dict[str, Any]:
    body = await stack.gql(
        DRAW,
        {"input": {"creditLineId": line_id, "amount": amount, "days": 30, "idempotencyKey": key}},
        token=token,
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["drawCredit"]
    return payload


async def test_a_whitelisted_farmer_is_approved_in_one_call(stack: Stack) -> None:
    token, customer_id, application = await _revolving_line(stack)

    assert application["state"] == "APPROVED"
    assert [(t["fromState"], t["toState"]) for t in application["transitions"]] == [
        (None, "SUBMITTED"),
        ("SUBMITTED", "AUTO_APPROVED"),
        ("AUTO_APPROVED", "APPROVED"),
    ]
    assert application["decision"]["outcome"] == "AUTO_APPROVED"
    lines = await _lines(stack, token, customer_id)
    assert [(each["limitAmount"], each["available"], each["status"]) for each in lines] == [
        ("50000.00", "50000.00", "ACTIVE")
    ]
    assert Decimal(lines[0]["annualRate"]) > 0


async def test_a_drawdown_is_idempotent_by_key_and_repayment_restores_the_line(
    stack: Stack,
) -> None:
    token, customer_id, _ = await _revolving_line(stack)
    line = (await _lines(stack, token, customer_id))[0]
    key = f"draw-{uuid.uuid4().hex}"

    first = await _draw(stack, token, line["id"], "20000", key)
    again = await _draw(stack, token, line["id"], "20000", key)

    assert first["userErrors"] == []
    assert again["userErrors"] == []
    assert first["loan"]["method"] == "REVOLVING"
    assert first["loan"]["termDays"] == 30
    assert again["loan"]["id"] == first["loan"]["id"]
    after_draw = (await _lines(stack, token, customer_id))[0]
    assert (after_draw["usedAmount"], after_draw["available"]) == ("20000.00", "30000.00")

    too_much = await _draw(stack, token, line["id"], "30000.01", f"draw-{uuid.uuid4().hex}")
    assert too_much["loan"] is None
    assert too_much["userErrors"] == [{"field": ["amount"], "code": "LIMIT_EXCEEDED"}]

    body = await stack.gql(
        REPAY,
        {
            "input": {
                "loanId": first["loan"]["id"],
                "amount": first["loan"]["payoffAmount"],
                "idempotencyKey": f"repay-{uuid.uuid4().hex}",
            }
        },
        token=token,
    )
    repaid = body["data"]["repayLoan"]
    assert repaid["userErrors"] == [], body
    assert repaid["loan"]["status"] == "CLOSED"
    restored = (await _lines(stack, token, customer_id))[0]
    assert (restored["usedAmount"], restored["available"]) == ("0.00", "50000.00")


async def test_two_simultaneous_drawdowns_never_exceed_the_limit(stack: Stack) -> None:
    token, customer_id, _ = await _revolving_line(stack, limit="10000")
    line = (await _lines(stack, token, customer_id))[0]

    results = await asyncio.gather(
        _draw(stack, token, line["id"], "6000", f"a-{uuid.uuid4().hex}"),
        _draw(stack, token, line["id"], "6000", f"b-{uuid.uuid4().hex}"),
    )

    succeeded = [each for each in results if each["userErrors"] == []]
    refused = [each for each in results if each["userErrors"]]
    assert len(succeeded) == 1, results
    assert [each["userErrors"] for each in refused] == [
        [{"field": ["amount"], "code": "LIMIT_EXCEEDED"}]
    ]
    after = (await _lines(stack, token, customer_id))[0]
    assert (after["usedAmount"], after["available"]) == ("6000.00", "4000.00")
    assert Decimal(after["usedAmount"]) <= Decimal(after["limitAmount"])


async def test_staff_cannot_draw_on_a_customers_line(stack: Stack) -> None:
    token, customer_id, _ = await _revolving_line(stack)
    line = (await _lines(stack, token, customer_id))[0]

    body = await stack.gql(
        DRAW,
        {"input": {"creditLineId": line["id"], "amount": "100", "days": 5, "idempotencyKey": "k"}},
        token=await stack.token("alpha-officer"),
    )

    assert [each["extensions"]["code"] for each in body["errors"]] == ["FORBIDDEN"]

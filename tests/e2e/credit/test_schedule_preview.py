"""The repayment calculator: no sign-in, exact to the cent, bad input is a stable error."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.stack import Stack

PREVIEW = """
query($input: LoanSchedulePreviewInput!) {
  loanSchedulePreview(input: $input) {
    installments { number principal interest payment remainingPrincipal }
    totalInterest totalPayment
  }
}
"""


async def _preview(stack: Stack, **input: Any) -> dict[str, Any]:
    return await stack.gql(PREVIEW, {"input": {"startDate": "2024-01-15"} | input})


async def test_equal_installment_100000_over_12_months(stack: Stack) -> None:
    body = await _preview(
        stack, amount="100000", termMonths=12, annualRate="0.0435", method="EQUAL_INSTALLMENT"
    )

    schedule = body["data"]["loanSchedulePreview"]
    payments = [each["payment"] for each in schedule["installments"]]
    assert payments == ["8530.99"] * 11 + ["8531.01"]
    assert schedule["totalInterest"] == "2371.90"
    assert schedule["totalPayment"] == "102371.90"
    assert schedule["installments"][-1]["remainingPrincipal"] in ("0", "0.00")


async def test_equal_principal_100000_over_12_months(stack: Stack) -> None:
    body = await _preview(
        stack, amount="100000", termMonths=12, annualRate="0.0435", method="EQUAL_PRINCIPAL"
    )

    schedule = body["data"]["loanSchedulePreview"]
    assert schedule["installments"][0]["payment"] == "8695.83"
    assert schedule["installments"][-1]["payment"] == "8363.58"
    assert schedule["totalInterest"] == "2356.26"


async def test_equal_installment_300000_over_36_months(stack: Stack) -> None:
    body = await _preview(
        stack, amount="300000", termMonths=36, annualRate="0.0485", method="EQUAL_INSTALLMENT"
    )

    schedule = body["data"]["loanSchedulePreview"]
    assert schedule["installments"][0]["payment"] == "8971.08"
    assert schedule["totalInterest"] == "22958.84"


async def test_revolving_drawing_of_45_days(stack: Stack) -> None:
    body = await _preview(stack, amount="50000", days=45, annualRate="0.0435", method="REVOLVING")

    assert body["data"]["loanSchedulePreview"]["totalInterest"] == "271.88"


@pytest.mark.parametrize(
    ("input", "code", "field"),
    [
        ({"amount": "0", "termMonths": 12}, "INVALID_AMOUNT", ["amount"]),
        ({"amount": "-5", "termMonths": 12}, "INVALID_AMOUNT", ["amount"]),
        ({"amount": "1000.001", "termMonths": 12}, "INVALID_AMOUNT", ["amount"]),
        ({"amount": "1000", "termMonths": 0}, "INVALID_TERM", ["termMonths"]),
        ({"amount": "1000", "termMonths": 12, "annualRate": "-1"}, "INVALID_RATE", ["annualRate"]),
        ({"amount": "1000", "method": "REVOLVING"}, "INVALID_TERM", ["days"]),
    ],
)
async def test_bad_input_is_an_error_with_a_stable_code(
    stack: Stack, input: dict[str, Any], code: str, field: list[str]
) -> None:
    full = {"annualRate": "0.0435", "method": "EQUAL_INSTALLMENT"} | input

    response = await stack.post(PREVIEW, {"input": full})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    assert [error["extensions"] for error in body["errors"]] == [{"code": code, "field": field}]


@pytest.mark.parametrize(
    "amount", [1.5, "abc", "1e400", "-1e99", "1e30", "123456789012345678901234"]
)
async def test_an_amount_that_is_not_a_decimal_string_is_refused_before_execution(
    stack: Stack, amount: Any
) -> None:
    input = {"amount": amount, "termMonths": 12, "annualRate": "0.0435", "method": "BULLET"}

    response = await stack.post(PREVIEW, {"input": input})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert "Decimal" in body["errors"][0]["message"]
    # Variable coercion errors carry no `extensions.code` anywhere in this API (see report).
    assert body["errors"][0].get("extensions", {}).get("code") != "INTERNAL"

"""Loan products: versions, validation, who may create them, who sees them."""

from __future__ import annotations

from tests.support.credit import (
    CREATE_PRODUCT,
    UPDATE_PRODUCT,
    add_list_entry,
    create_product,
    customer_token,
    fixed,
    lpr,
    product_input,
    publish_lpr,
    submit,
    term_product,
    unique_code,
)
from tests.support.stack import Stack

RECORD = "query($id: ID!) { loanApplication(id: $id) { decision { record } } }"

PRODUCTS = "{ loanProducts { id code version name terms } }"


def _term_input(code: str, **extra: object) -> dict:
    options = {
        "methods": ["EQUAL_INSTALLMENT"],
        "term_months": [12],
        "pricing": fixed("0.0435"),
        "auto_approval_max": "30000",
    } | extra
    return product_input(code, **options)


async def test_an_update_makes_version_2_and_the_list_shows_the_newest(stack: Stack) -> None:
    created = await term_product(stack, name="惠农贷")
    assert created["version"] == 1

    body = await stack.gql(
        UPDATE_PRODUCT,
        {"input": _term_input(created["code"], name="惠农贷二期")},
        token=await stack.token("alpha-admin"),
    )

    updated = body["data"]["updateLoanProduct"]
    assert updated["userErrors"] == []
    assert (updated["product"]["code"], updated["product"]["version"]) == (created["code"], 2)
    listed = await stack.gql(PRODUCTS, token=await stack.token("alpha-officer"))
    mine = [each for each in listed["data"]["loanProducts"] if each["code"] == created["code"]]
    assert [(each["version"], each["name"]) for each in mine] == [(2, "惠农贷二期")]
    assert mine[0]["terms"] is not None
    assert "admissionRules" in str(mine[0]["terms"]) or "admission_rules" in str(mine[0]["terms"])


async def test_a_rule_that_does_not_parse_is_invalid_expression_at_its_path(stack: Stack) -> None:
    rules = [
        {"name": "age", "expression": "between(applicant.age, 18, 70)", "reasonCode": "AGE"},
        {"name": "bad", "expression": "applicant.age >", "reasonCode": "BAD"},
    ]

    body = await stack.gql(
        CREATE_PRODUCT,
        {"input": _term_input(unique_code("BAD"), rules=rules)},
        token=await stack.token("alpha-admin"),
    )

    payload = body["data"]["createLoanProduct"]
    assert payload["product"] is None
    assert payload["userErrors"] == [
        {"field": ["terms", "admissionRules", "1", "expression"], "code": "INVALID_EXPRESSION"}
    ]


async def test_an_unknown_variable_is_invalid_expression(stack: Stack) -> None:
    rules = [{"name": "x", "expression": "applicant.salary > 3", "reasonCode": "X"}]

    body = await stack.gql(
        CREATE_PRODUCT,
        {"input": _term_input(unique_code("BAD"), rules=rules)},
        token=await stack.token("alpha-admin"),
    )

    codes = [each["code"] for each in body["data"]["createLoanProduct"]["userErrors"]]
    assert codes == ["INVALID_EXPRESSION"]


async def test_a_loan_officer_may_not_create_a_product(stack: Stack) -> None:
    body = await stack.gql(
        CREATE_PRODUCT,
        {"input": _term_input(unique_code("OFF"))},
        token=await stack.token("alpha-officer"),
    )

    assert [each["extensions"]["code"] for each in body["errors"]] == ["FORBIDDEN"]


async def test_a_taken_code_is_product_exists(stack: Stack) -> None:
    created = await term_product(stack)

    body = await stack.gql(
        CREATE_PRODUCT,
        {"input": _term_input(created["code"].lower())},
        token=await stack.token("alpha-admin"),
    )

    assert body["data"]["createLoanProduct"]["userErrors"] == [
        {"field": ["code"], "code": "PRODUCT_EXISTS"}
    ]


async def test_another_institutions_staff_do_not_see_the_product(stack: Stack) -> None:
    created = await term_product(stack)

    listed = await stack.gql(PRODUCTS, token=await stack.token("beta-officer"))
    by_node = await stack.gql(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": created["id"]},
        token=await stack.token("beta-admin"),
    )

    assert created["code"] not in [each["code"] for each in listed["data"]["loanProducts"]]
    assert by_node["data"] is None or by_node["data"]["node"] is None
    assert [each["extensions"]["code"] for each in by_node["errors"]] == ["NOT_FOUND"]


async def test_staff_see_the_terms_json(stack: Stack) -> None:
    created = await create_product(
        stack,
        methods=["EQUAL_INSTALLMENT"],
        term_months=[12],
        pricing=fixed("0.0435"),
        auto_approval_max="12345",
    )

    terms = created["terms"]
    assert isinstance(terms, dict)
    assert "12345" in str(terms)
    assert created["currentRate"] == "0.0435"


async def test_a_yes_no_characteristic_is_scored_by_its_flag_bins(stack: Stack) -> None:
    given = product_input(
        unique_code("FLAG"),
        methods=["EQUAL_INSTALLMENT"],
        term_months=[12],
        pricing=fixed("0.0435"),
        auto_approval_max="30000",
    )
    given["terms"]["scorecard"]["characteristics"].append(
        {
            "name": "whitelisted",
            "variable": "applicant.whitelisted",
            "bins": [{"points": "0.9", "flag": True}, {"points": "0", "flag": False}],
        }
    )
    created = await stack.gql(
        CREATE_PRODUCT, {"input": given}, token=await stack.token("alpha-admin")
    )
    product = created["data"]["createLoanProduct"]["product"]
    id_number = stack.new_id_number()
    listed = await customer_token(stack, id_number=id_number)
    await add_list_entry(stack, id_number)
    unlisted = await customer_token(stack)

    scored = []
    for token, customer_id in (listed, unlisted):
        payload = await submit(
            stack, token, customer_id=customer_id, product_id=product["id"], amount="10000"
        )
        body = await stack.gql(RECORD, {"id": payload["application"]["id"]}, token=token)
        characteristics = body["data"]["loanApplication"]["decision"]["record"]["score"][
            "characteristics"
        ]
        scored += [
            (each["bin"], each["points"])
            for each in characteristics
            if each["name"] == "whitelisted"
        ]

    assert scored == [("true", "25.97"), ("false", "0.00")]


async def test_the_catalogue_prices_every_product_with_one_read_of_the_lpr(stack: Stack) -> None:
    await publish_lpr(stack, "ONE_YEAR")
    for spread in (10, 20, 30):
        await create_product(
            stack,
            methods=["EQUAL_INSTALLMENT"],
            term_months=[12],
            pricing=lpr(spread),
            auto_approval_max="30000",
        )
    token = await stack.token("alpha-officer")

    counts = []
    for fields in ("id", "id currentRate"):
        with stack.count_statements() as statements:
            body = await stack.gql(f"{{ loanProducts {{ {fields} }} }}", token=token)
        assert "errors" not in body, body
        counts.append(len(statements))

    assert counts[1] == counts[0] + 1

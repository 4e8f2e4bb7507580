"""Helpers for the retail-credit end-to-end tests: products, LPRs, customers with tokens."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from jikuai.domain.credit.monitoring import DailyResult, run_credit_daily
from tests.support.stack import Stack

PRODUCT_FIELDS = """
  id code version name active segments minAmount maxAmount termMonths methods maxDrawDays
  pricing { kind lprTenor spreadBp floorRate fixedRate } currentRate terms
"""
CREATE_PRODUCT = f"""
mutation($input: LoanProductInput!) {{
  createLoanProduct(input: $input) {{ product {{ {PRODUCT_FIELDS} }} userErrors {{ field code }} }}
}}
"""
UPDATE_PRODUCT = f"""
mutation($input: LoanProductInput!) {{
  updateLoanProduct(input: $input) {{ product {{ {PRODUCT_FIELDS} }} userErrors {{ field code }} }}
}}
"""
PUBLISH_LPR = """
mutation($input: PublishLprInput!) {
  publishLprRate(input: $input) { rate { tenor publishedOn rate } userErrors { field code } }
}
"""
ADD_LIST_ENTRY = """
mutation($input: AddCreditListEntryInput!) {
  addCreditListEntry(input: $input) {
    entry { id kind idNumberMasked limitAmount } userErrors { field code }
  }
}
"""
WECHAT_LOGIN = """
mutation($code: String!) { wechatLogin(input: {code: $code}) { accessToken userErrors { code } } }
"""
REGISTER_SELF = """
mutation($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) { customer { id } userErrors { field code } }
}
"""
DECISION_FIELDS = """
  outcome reasons rules { name passed reasonCode } score grade approvedAmount
  limit { baseAmount coefficient limit }
"""
APPLICATION_FIELDS = f"""
  id state amount termMonths method approvedAmount approvedTermMonths
  decision {{ {DECISION_FIELDS} }}
  contract {{ contractNo annualRate lprRate lprPublishedOn }}
  transitions {{ fromState toState actorKind reason }}
"""
SUBMIT = f"""
mutation($input: LoanApplicationInput!) {{
  submitLoanApplication(input: $input) {{
    application {{ {APPLICATION_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
REVIEW = f"""
mutation($input: ReviewLoanApplicationInput!) {{
  reviewLoanApplication(input: $input) {{
    application {{ {APPLICATION_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
SIGN = f"""
mutation($id: ID!) {{
  signLoanContract(input: {{applicationId: $id}}) {{
    application {{ {APPLICATION_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
LOAN_FIELDS = """
  id contractNo method principal annualRate termMonths termDays status outstandingPrincipal
  daysPastDue bucket classification derivedClassification classificationOverride closedOn
  installments { number dueDate principal interest payment principalPaid interestPaid paidOn }
  nextDueDate payoffAmount amountsDue { total }
  repayments { amount principalPaid interestPaid penaltyPaid prepaidPrincipal }
"""
DISBURSE = f"""
mutation($id: ID!) {{
  disburseLoan(input: {{applicationId: $id}}) {{
    loan {{ {LOAN_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
DRAW = f"""
mutation($input: DrawCreditInput!) {{
  drawCredit(input: $input) {{ loan {{ {LOAN_FIELDS} }} userErrors {{ field code }} }}
}}
"""
REPAY = f"""
mutation($input: RepayLoanInput!) {{
  repayLoan(input: $input) {{
    loan {{ {LOAN_FIELDS} }}
    repayment {{ amount principalPaid interestPaid penaltyPaid prepaidPrincipal }}
    replayed userErrors {{ field code }}
  }}
}}
"""
LOAN = f"query($id: ID!) {{ loan(id: $id) {{ {LOAN_FIELDS} }} }}"
CREDIT_LINES = """
query($id: ID!) {
  customer(id: $id) {
    creditLines { id limitAmount usedAmount available annualRate status product { code } }
  }
}
"""

GRADES = [
    ("AAA", 700, "1.5"),
    ("AA", 660, "1.3"),
    ("A", 620, "1.0"),
    ("BBB", 580, "1.0"),
    ("BB", 540, "0.8"),
    ("B", 500, "0.5"),
    ("CCC", 460, "0.3"),
    ("CC", 420, "0.1"),
    ("C", 0, "0"),
]
AUTHORITY = [
    {"role": "LOAN_OFFICER", "maxAmount": "50000"},
    {"role": "BRANCH_MANAGER", "maxAmount": "300000"},
    {"role": "RISK_OFFICER", "maxAmount": "1000000"},
]
AGE_RULE = {"name": "age", "expression": "between(applicant.age, 18, 70)", "reasonCode": "AGE"}
NOT_BLACKLISTED = {
    "name": "blacklist",
    "expression": "not applicant.blacklisted",
    "reasonCode": "BLACKLISTED",
}
WHITELISTED = {
    "name": "whitelist",
    "expression": "applicant.whitelisted",
    "reasonCode": "NOT_WHITELISTED",
}


def unique_code(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def fixed(rate: str) -> dict[str, Any]:
    return {"kind": "FIXED", "fixedRate": rate}


def lpr(spread_bp: int = 0, tenor: str = "ONE_YEAR") -> dict[str, Any]:
    return {"kind": "LPR", "lprTenor": tenor, "spreadBp": spread_bp}


def terms(
    *,
    methods: list[str],
    term_months: list[int],
    pricing: dict[str, Any],
    auto_approval_max: str,
    rules: list[dict[str, Any]] | None = None,
    name: str = "测试贷",
    segments: list[str] | None = None,
    min_amount: str = "1000",
    max_amount: str = "500000",
    base_amount: str = "200000",
    **extra: Any,
) -> dict[str, Any]:
    """A full `LoanProductTermsInput`: an average applicant scores about 609 (BBB, ×1.0)."""
    return {
        "name": name,
        "segments": segments or ["FARMER"],
        "minAmount": min_amount,
        "maxAmount": max_amount,
        "termMonths": term_months,
        "methods": methods,
        "pricing": pricing,
        "admissionRules": [AGE_RULE, NOT_BLACKLISTED] if rules is None else rules,
        "scorecard": {
            "baseScore": 600,
            "baseOdds": "50",
            "pdo": "20",
            "intercept": "3.9",
            "characteristics": [
                {
                    "name": "age",
                    "variable": "applicant.age",
                    "bins": [
                        {"points": "0.2", "lower": "18", "upper": "30"},
                        {"points": "0.3", "lower": "30", "upper": "50"},
                        {"points": "0.1", "lower": "50"},
                    ],
                    "defaultPoints": "0",
                }
            ],
            "grades": [
                {"grade": grade, "minScore": score, "coefficient": coefficient}
                for grade, score, coefficient in GRADES
            ],
        },
        "limitPolicy": {
            "baseAmounts": [
                {"segment": segment, "amount": base_amount}
                for segment in ("FARMER", "CIVIL_SERVANT", "TEACHER", "WHITE_COLLAR", "OTHER")
            ],
            "maxTotalExposure": "1000000",
        },
        "autoApprovalMax": auto_approval_max,
        "approvalAuthority": AUTHORITY,
        **extra,
    }


def product_input(code: str, **kwargs: Any) -> dict[str, Any]:
    return {"code": code, "terms": terms(**kwargs)}


async def create_product(
    stack: Stack, code: str | None = None, *, username: str = "alpha-admin", **kwargs: Any
) -> dict[str, Any]:
    """Create a product as `username`; returns the product (asserting no user errors)."""
    body = await stack.gql(
        CREATE_PRODUCT,
        {"input": product_input(code or unique_code("P"), **kwargs)},
        token=await stack.token(username),
    )
    assert "errors" not in body, body
    payload = body["data"]["createLoanProduct"]
    assert payload["userErrors"] == [], payload
    product: dict[str, Any] = payload["product"]
    return product


def term_product(stack: Stack, **kwargs: Any) -> Any:
    """Coroutine: a FIXED 4.35% EQUAL_INSTALLMENT/EQUAL_PRINCIPAL product of 12 and 36 months."""
    options: dict[str, Any] = {
        "methods": ["EQUAL_INSTALLMENT", "EQUAL_PRINCIPAL"],
        "term_months": [12, 36],
        "pricing": fixed("0.0435"),
        "auto_approval_max": "30000",
    } | kwargs
    return create_product(stack, **options)


async def publish_lpr(
    stack: Stack, tenor: str = "ONE_YEAR", published_on: date | None = None, rate: str = "0.0310"
) -> dict[str, Any]:
    body = await stack.gql(
        PUBLISH_LPR,
        {
            "input": {
                "tenor": tenor,
                "publishedOn": (published_on or date(2024, 1, 22)).isoformat(),
                "rate": rate,
            }
        },
        token=await stack.token("prov-admin"),
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["publishLprRate"]
    return payload


def institution_gid(stack: Stack, code: str = "alpha") -> str:
    return base64.urlsafe_b64encode(
        f"Institution:{stack.world.institutions[code].id}".encode()
    ).decode()


async def customer_token(
    stack: Stack, *, institution: str = "alpha", id_number: str | None = None, **fields: Any
) -> tuple[str, str]:
    """A customer signed in through WeChat who registered themself: (token, customer id)."""
    login = (await stack.gql(WECHAT_LOGIN, {"code": f"dev:o{uuid.uuid4().hex[:20]}"}))["data"][
        "wechatLogin"
    ]
    assert login["userErrors"] == [], login
    token: str = login["accessToken"]
    registration = stack.registration(
        id_number=id_number or stack.new_id_number(),
        institutionId=institution_gid(stack, institution),
        **fields,
    )
    body = await stack.gql(REGISTER_SELF, {"input": registration}, token=token)
    payload = body["data"]["registerCustomer"]
    assert payload["userErrors"] == [], payload
    return token, payload["customer"]["id"]


async def add_list_entry(
    stack: Stack,
    id_number: str,
    *,
    kind: str = "WHITELIST",
    limit: str | None = None,
    username: str = "alpha-risk",
) -> dict[str, Any]:
    body = await stack.gql(
        ADD_LIST_ENTRY,
        {
            "input": {
                "kind": kind,
                "idNumber": stack.seal("idNumber", id_number),
                "source": "整村授信",
                "reason": "test",
                "validFrom": "2020-01-01",
                "limitAmount": limit,
            }
        },
        token=await stack.token(username),
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["addCreditListEntry"]
    assert payload["userErrors"] == [], payload
    return payload


def application_input(
    customer_id: str,
    product_id: str,
    amount: str,
    *,
    method: str = "EQUAL_INSTALLMENT",
    term_months: int | None = 12,
    annual_income: str = "120000",
) -> dict[str, Any]:
    return {
        "customerId": customer_id,
        "productId": product_id,
        "amount": amount,
        "method": method,
        "termMonths": term_months,
        "annualIncome": annual_income,
    }


async def submit(stack: Stack, token: str, **kwargs: Any) -> dict[str, Any]:
    body = await stack.gql(SUBMIT, {"input": application_input(**kwargs)}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitLoanApplication"]
    return payload


async def review(
    stack: Stack, username: str, application_id: str, *, approve: bool = True, **extra: Any
) -> dict[str, Any]:
    body = await stack.gql(
        REVIEW,
        {"input": {"applicationId": application_id, "approve": approve, "reason": "ok", **extra}},
        token=await stack.token(username),
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["reviewLoanApplication"]
    return payload


async def mutate(stack: Stack, query: str, field: str, token: str, **variables: Any) -> Any:
    body = await stack.gql(query, variables, token=token)
    assert "errors" not in body, body
    return body["data"][field]


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def local_uuid(global_id: str) -> str:
    """The row id behind a global ID, for looking at the database directly."""
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return str(uuid.UUID(raw.split(":", 1)[1]))


async def audit_actions(stack: Stack, global_id: str) -> list[str]:
    """The audit trail of one object, oldest first."""
    async with stack.services.database.primary.connect() as connection:
        rows = await connection.execute(
            text("SELECT action FROM audit_events WHERE subject_id = :id ORDER BY id"),
            {"id": local_uuid(global_id)},
        )
        return [row[0] for row in rows]


async def daily_pass(stack: Stack, on: date) -> DailyResult:
    """`jikuai jobs run credit-daily --date on`, against the test stack's database."""
    session = stack.services.database.session()
    try:
        return await run_credit_daily(on, unit_of_work=session.unit_of_work, now=datetime.now(UTC))
    finally:
        await session.close()


@dataclass(frozen=True)
class OpenLine:
    """A whitelisted farmer whose revolving application was approved: the line is open."""

    token: str
    customer_id: str
    id_number: str
    product: dict[str, Any]
    application: dict[str, Any]


async def revolving_product(stack: Stack, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """A credit-line product at the 1-year LPR + 50 bp, approved automatically to 100,000."""
    await publish_lpr(stack, "ONE_YEAR", rate="0.0345")
    return await create_product(
        stack,
        methods=["REVOLVING"],
        term_months=[],
        pricing=lpr(50),
        auto_approval_max="100000",
        rules=rules,
    )


async def credit_line_id(stack: Stack, line: OpenLine) -> str:
    """The global ID of the credit line the approval opened."""
    lines = await stack.gql(
        "query($id: ID!) { customer(id: $id) { creditLines { id } } }",
        {"id": line.customer_id},
        token=line.token,
    )
    found: str = lines["data"]["customer"]["creditLines"][0]["id"]
    return found


async def open_line(stack: Stack, limit: str = "50000") -> OpenLine:
    product = await revolving_product(stack, [AGE_RULE, NOT_BLACKLISTED, WHITELISTED])
    id_number = stack.new_id_number()
    token, customer_id = await customer_token(stack, id_number=id_number)
    await add_list_entry(stack, id_number, limit=limit)
    payload = await submit(
        stack,
        token,
        customer_id=customer_id,
        product_id=product["id"],
        amount=limit,
        method="REVOLVING",
        term_months=None,
    )
    assert payload["userErrors"] == [], payload
    assert payload["application"]["state"] == "APPROVED", payload
    return OpenLine(token, customer_id, id_number, product, payload["application"])

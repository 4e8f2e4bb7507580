"""Helpers for the performance tests: a bank of its own with branches and staff, schemes, facts
and loans, so that every figure a test reads comes from its own data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from jikuai.domain.performance.freshness import forget_figures
from jikuai.domain.performance.indicators import Measure
from jikuai.domain.performance.model import Fact
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.model import Branch, Institution, InstitutionKind, Role, Staff
from jikuai.schema.relay import to_global_id
from tests.support.credit import (
    DISBURSE,
    SIGN,
    create_product,
    customer_token,
    fixed,
    mutate,
    submit,
)
from tests.support.points import db_session
from tests.support.stack import PASSWORD, Stack

# Who a bank has: (suffix, role, branch index)
STAFF = (
    ("o1", Role.LOAN_OFFICER, 0),
    ("o2", Role.LOAN_OFFICER, 0),
    ("o3", Role.LOAN_OFFICER, 1),
    ("m1", Role.BRANCH_MANAGER, 0),
    ("m2", Role.BRANCH_MANAGER, 1),
    ("risk", Role.RISK_OFFICER, 0),
    ("admin", Role.INSTITUTION_ADMIN, 0),
)

SCHEME_FIELDS = """
  id name version role periodKind bonusPool active
  indicators { indicator { code } weight target ceiling floor }
  targets { indicator { code } value branchId staffId }
"""
CREATE_SCHEME = f"""
mutation($input: CreateAssessmentSchemeInput!) {{
  createAssessmentScheme(input: $input) {{
    scheme {{ {SCHEME_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
REVISE_SCHEME = f"""
mutation($input: ReviseAssessmentSchemeInput!) {{
  reviseAssessmentScheme(input: $input) {{
    scheme {{ {SCHEME_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
SCOREBOARD = """
query(
  $period: String, $role: Role, $branchId: ID, $institutionId: ID, $first: Int, $after: String
) {
  performanceScoreboard(period: $period, role: $role, branchId: $branchId,
                        institutionId: $institutionId) {
    period role asOf closed totalCount totalBonus
    entries(first: $first, after: $after) {
      edges { cursor node {
        rank rankChange totalScore bonusShare staff { username }
        indicators { indicator { code } weight actual target attainment score }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
REASSIGN = """
mutation($input: ReassignPortfolioInput!) {
  reassignPortfolio(input: $input) {
    assignments { subjectKind subjectId validFrom validUntil staff { username } }
    userErrors { field code }
  }
}
"""
CLOSE = """
mutation($input: ClosePerformancePeriodInput!) {
  closePerformancePeriod(input: $input) { period results userErrors { field code } }
}
"""


@dataclass
class Bank:
    code: str
    institution: Institution
    branches: list[Branch]
    staff: dict[str, Staff]

    def username(self, suffix: str) -> str:
        return f"{self.code}-{suffix}"

    def staff_id(self, suffix: str) -> uuid.UUID:
        return self.staff[suffix].id


async def new_bank(stack: Stack) -> Bank:
    """A member institution with two branches and the staff of `STAFF`, known to `stack.token`."""
    code = f"k{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    institution = Institution(new_id(), code, f"{code} bank", "吉林省", InstitutionKind.MEMBER, now)
    branches = [Branch(new_id(), institution.id, f"{code}-0{n}", f"网点{n}") for n in (1, 2)]
    password_hash = stack.services.passwords.hash(PASSWORD)
    staff = {
        suffix: Staff(
            new_id(), institution.id, branches[branch].id, f"{code}-{suffix}", f"员工{suffix}",
            role, password_hash, True, now,
        )
        for suffix, role, branch in STAFF
    }  # fmt: skip
    async with db_session(stack) as session, session.unit_of_work() as uow:
        await uow.tenancy.add_institution(institution)
        for branch in branches:
            await uow.tenancy.add_branch(branch)
        for member in staff.values():
            await uow.tenancy.add_staff(member)
        await uow.commit()
    stack.world.institutions[code] = institution
    stack.world.staff.update({member.username: member for member in staff.values()})
    return Bank(code, institution, branches, staff)


def gid(type_name: str, key: uuid.UUID) -> str:
    return str(to_global_id(type_name, key))


async def create_scheme(
    stack: Stack, bank: Bank, indicators: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    """A monthly loan-officer scheme made by the bank's admin (asserting it was accepted)."""
    body = await stack.gql(
        CREATE_SCHEME,
        {
            "input": {
                "name": "客户经理月度考核",
                "role": "LOAN_OFFICER",
                "periodKind": "MONTH",
                "indicators": indicators,
            }
            | fields
        },
        token=await stack.token(bank.username("admin")),
    )
    assert "errors" not in body, body
    payload = body["data"]["createAssessmentScheme"]
    assert payload["userErrors"] == [], payload
    scheme: dict[str, Any] = payload["scheme"]
    return scheme


async def save_facts(stack: Stack, bank: Bank, *facts: tuple[date, Measure, str, str]) -> None:
    """Facts of (day, measure, staff suffix, value) as core banking would report them."""
    async with db_session(stack) as session, session.unit_of_work() as uow:
        await uow.performance.save_facts(
            [
                Fact(
                    bank.institution.id, day, "CORE", f"{measure}:{suffix}:{day}", measure,
                    bank.staff_id(suffix), None, Decimal(value),
                )
                for day, measure, suffix, value in facts
            ],
            now=datetime.now(UTC),
        )  # fmt: skip
        await uow.commit()
    await forget_figures(stack.services.cache, bank.institution.id)


async def scoreboard(stack: Stack, username: str, **variables: Any) -> dict[str, Any]:
    body = await stack.gql(SCOREBOARD, variables, token=await stack.token(username))
    assert "errors" not in body, body
    board: dict[str, Any] = body["data"]["performanceScoreboard"]
    return board


def entries(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in board["entries"]["edges"]]


async def register_for(stack: Stack, bank: Bank, suffix: str, **fields: Any) -> str:
    """A customer registered by the staff member, who so manages them; the customer's ID."""
    payload = await stack.register(bank.username(suffix), **fields)
    assert payload["userErrors"] == [], payload
    customer_id: str = payload["customer"]["id"]
    return customer_id


async def reassign(
    stack: Stack, bank: Bank, subject_ids: list[str], to: str, *, by: str = "admin", **extra: Any
) -> dict[str, Any]:
    body = await stack.gql(
        REASSIGN,
        {"input": {"subjectIds": subject_ids, "staffId": gid("Staff", bank.staff_id(to))} | extra},
        token=await stack.token(bank.username(by)),
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["reassignPortfolio"]
    return payload


async def disbursed_loan(stack: Stack, bank: Bank, officer: str, amount: str) -> dict[str, Any]:
    """A customer who registered themself, handed to `officer`, with a disbursed 12-month loan
    of `amount` (approved automatically)."""
    product = await create_product(
        stack,
        username=bank.username("admin"),
        methods=["EQUAL_INSTALLMENT"],
        term_months=[12],
        pricing=fixed("0.0435"),
        auto_approval_max="100000",
    )
    token, customer_id = await customer_token(stack, institution=bank.code)
    handed = await reassign(stack, bank, [customer_id], officer)
    assert handed["userErrors"] == [], handed
    payload = await submit(
        stack,
        await stack.token(bank.username(officer)),
        customer_id=customer_id,
        product_id=product["id"],
        amount=amount,
    )
    assert payload["application"]["state"] == "APPROVED", payload
    application_id = payload["application"]["id"]
    signed = await mutate(stack, SIGN, "signLoanContract", token, id=application_id)
    assert signed["userErrors"] == [], signed
    disbursed = await mutate(
        stack,
        DISBURSE,
        "disburseLoan",
        await stack.token(bank.username(officer)),
        id=application_id,
    )
    assert disbursed["userErrors"] == [], disbursed
    loan: dict[str, Any] = disbursed["loan"] | {"customerId": customer_id}
    return loan

"""Points for repaying on time come from the loans themselves: the installment due, settled in
full on its due date, earns once, where the institution rewards it. Paying early is a
prepayment that re-amortizes the schedule, not an installment repaid."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from jikuai.domain.credit.lending import RepayLoan, repay_loan
from jikuai.domain.tenancy.actors import Actor, ActorKind
from jikuai.domain.tenancy.model import Role
from tests.e2e.credit.test_term_loans import disbursed_loan
from tests.support.credit import local_uuid
from tests.support.points import HISTORY, account, assert_ledger_balances, set_rules
from tests.support.stack import Stack


async def _repay_on(
    stack: Stack, customer_id: str, loan_id: str, amount: str, key: str, on: date
) -> None:
    """The customer repays through the use case the API calls, on a chosen business date."""
    actor = Actor(
        kind=ActorKind.CUSTOMER,
        id=uuid.uuid4(),
        role=Role.CUSTOMER,
        institution_id=stack.world.institutions["alpha"].id,
        customer_id=uuid.UUID(local_uuid(customer_id)),
    )
    session = stack.services.database.session()
    try:
        await repay_loan(
            RepayLoan(uuid.UUID(local_uuid(loan_id)), Decimal(amount), key),
            actor=actor,
            uow=session.unit_of_work(),
            now=datetime.now(UTC),
            today=on,
        )
    finally:
        await session.close()


async def test_each_installment_repaid_on_its_due_date_earns_once(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id, loan = await disbursed_loan(stack)
    first, second = loan["installments"][:2]
    first_due = date.fromisoformat(first["dueDate"])
    key = uuid.uuid4().hex

    await _repay_on(stack, customer_id, loan["id"], first["payment"], key, first_due)
    after_first = (await account(stack, token))["balance"]
    await _repay_on(stack, customer_id, loan["id"], first["payment"], key, first_due)  # replay
    after_replay = (await account(stack, token))["balance"]
    second_due = date.fromisoformat(second["dueDate"])
    await _repay_on(stack, customer_id, loan["id"], "100.00", uuid.uuid4().hex, second_due)
    after_part = (await account(stack, token))["balance"]
    rest = str(Decimal(second["payment"]) - Decimal("100.00"))
    await _repay_on(stack, customer_id, loan["id"], rest, uuid.uuid4().hex, second_due)
    after_second = (await account(stack, token))["balance"]
    history = (await stack.gql(HISTORY, {"first": 10}, token=token))["data"]["pointsHistory"]

    assert (after_first, after_replay, after_part, after_second) == (50, 50, 50, 100)
    assert [edge["node"]["eventType"] for edge in history["edges"]] == ["ON_TIME_REPAYMENT"] * 2
    await assert_ledger_balances(stack)


async def test_an_overdue_installment_repaid_late_earns_nothing(stack: Stack) -> None:
    await set_rules(stack)
    token, customer_id, loan = await disbursed_loan(stack)
    first = loan["installments"][0]
    late = date.fromisoformat(first["dueDate"]) + timedelta(days=5)

    await _repay_on(stack, customer_id, loan["id"], first["payment"], uuid.uuid4().hex, late)
    history = (await stack.gql(HISTORY, {"first": 10}, token=token))["data"]["pointsHistory"]

    assert (await account(stack, token))["balance"] == 0
    assert history["edges"] == []

from tests.support.credit import customer_token
from tests.support.merchants import approved_merchant
from tests.support.points import (
    account,
    assert_ledger_balances,
    award,
    new_code,
    redeem,
    service_token,
    set_rules,
)
from tests.support.stack import Stack


async def test_earn_and_redeem(stack: Stack) -> None:
    await set_rules(stack)
    core = await service_token(stack)
    token, customer_id = await customer_token(stack)
    merchant = await approved_merchant(stack)
    await award(stack, core, customer_id, 1000)
    code = await new_code(stack, token)
    redeemed = await redeem(stack, merchant.cashier_token, code, points=300)
    assert redeemed["userErrors"] == [], redeemed
    assert redeemed["redemption"]["status"] == "COMPLETED"
    assert (await account(stack, token))["balance"] == 700
    await assert_ledger_balances(stack)

"""Sign-in under concurrency: no double accounts, no throttle bypass, no silent token reuse."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from jikuai.persistence.tables.identity import wechat_accounts
from tests.support.stack import PASSWORD, Stack

WECHAT_LOGIN = """
mutation($code: String!) { wechatLogin(input: {code: $code}) { accessToken userErrors { code } } }
"""
STAFF_LOGIN = """
mutation($u: String!, $p: String!) {
  staffLogin(input: {username: $u, password: $p}) { refreshToken userErrors { code } }
}
"""
REFRESH = """
mutation($t: String!) {
  refreshToken(input: {refreshToken: $t}) { refreshToken userErrors { code } }
}
"""


async def test_concurrent_first_logins_make_one_account(stack: Stack) -> None:
    openid = f"o{uuid.uuid4().hex[:20]}"

    bodies = await asyncio.gather(
        *(stack.gql(WECHAT_LOGIN, {"code": f"dev:{openid}:{n}"}) for n in range(4))
    )

    assert [body["data"]["wechatLogin"]["userErrors"] for body in bodies] == [[]] * 4
    async with stack.services.database.primary.connect() as connection:
        count = await connection.scalar(
            select(func.count())
            .select_from(wechat_accounts)
            .where(wechat_accounts.c.openid == openid)
        )
    assert count == 1


async def test_a_burst_of_guesses_is_throttled(stack: Stack) -> None:
    username = f"nobody-{uuid.uuid4().hex[:8]}"

    bodies = await asyncio.gather(
        *(stack.gql(STAFF_LOGIN, {"u": username, "p": f"guess-{n}"}) for n in range(12))
    )

    codes = [body["data"]["staffLogin"]["userErrors"][0]["code"] for body in bodies]
    assert codes.count("INVALID_CREDENTIALS") == stack.settings.login_max_failures
    assert codes.count("LOGIN_THROTTLED") == 12 - stack.settings.login_max_failures


async def test_a_refresh_token_used_twice_at_once_ends_the_login(stack: Stack) -> None:
    login = (await stack.gql(STAFF_LOGIN, {"u": "beta-officer", "p": PASSWORD}))["data"]
    token = login["staffLogin"]["refreshToken"]

    first, second = await asyncio.gather(
        stack.gql(REFRESH, {"t": token}), stack.gql(REFRESH, {"t": token})
    )

    results = [first["data"]["refreshToken"], second["data"]["refreshToken"]]
    winners = [result for result in results if not result["userErrors"]]
    assert len(winners) <= 1
    for winner in winners:
        after = await stack.gql(REFRESH, {"t": winner["refreshToken"]})
        assert after["data"]["refreshToken"]["userErrors"] == [{"code": "INVALID_REFRESH_TOKEN"}]

"""Staff sign-in: tokens, refresh rotation, reuse detection, logout, throttling."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.model import Role, Staff
from jikuai.persistence.tables.identity import refresh_tokens
from jikuai.persistence.tables.tenancy import staff
from jikuai.security import AccessTokenCodec, PasswordHasher
from tests.support.stack import PASSWORD, Stack

LOGIN = """
mutation($username: String!, $password: String!) {
  staffLogin(input: {username: $username, password: $password}) {
    accessToken refreshToken expiresAt
    staff { username role institution { code } branch { code } }
    userErrors { field code message }
  }
}
"""
REFRESH = """
mutation($token: String!) {
  refreshToken(input: {refreshToken: $token}) {
    accessToken refreshToken expiresAt userErrors { code }
  }
}
"""
LOGOUT = (
    "mutation($token: String!) { logout(input: {refreshToken: $token}) { userErrors { code } } }"
)
ME = "{ me { kind role registered staff { username } institution { code } } }"


async def _login(stack: Stack, username: str, password: str = PASSWORD) -> dict:
    body = await stack.gql(LOGIN, {"username": username, "password": password})
    return body["data"]["staffLogin"]


async def _new_staff(
    stack: Stack, role: Role = Role.LOAN_OFFICER, *, password_hash: str | None = None
) -> str:
    """A staff member of its own, for tests that change login state."""
    alpha = stack.world.institutions["alpha"]
    username = f"alpha-{uuid.uuid4().hex[:8]}"
    session = stack.services.database.session()
    try:
        async with session.unit_of_work() as uow:
            await uow.tenancy.add_staff(
                Staff(
                    new_id(),
                    alpha.id,
                    None,
                    username,
                    "临时",
                    role,
                    stack.services.passwords.hash(PASSWORD),
                    True,
                    datetime.now(UTC),
                )
            )
            await uow.commit()
    finally:
        await session.close()
    return username


async def test_staff_login_returns_tokens_and_the_staff_member(stack: Stack) -> None:
    payload = await _login(stack, "alpha-officer")

    assert payload["userErrors"] == []
    assert payload["staff"] == {
        "username": "alpha-officer",
        "role": "LOAN_OFFICER",
        "institution": {"code": "alpha"},
        "branch": {"code": "alpha-01"},
    }
    expires_at = datetime.fromisoformat(payload["expiresAt"])
    assert timedelta(minutes=14) < expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    me = await stack.gql(ME, token=payload["accessToken"])
    assert me["data"]["me"] == {
        "kind": "STAFF",
        "role": "LOAN_OFFICER",
        "registered": True,
        "staff": {"username": "alpha-officer"},
        "institution": {"code": "alpha"},
    }


async def test_wrong_password_and_unknown_user_are_the_same_error(stack: Stack) -> None:
    wrong = await _login(stack, "alpha-manager", "not the password")
    unknown = await _login(stack, f"nobody-{uuid.uuid4().hex[:6]}", PASSWORD)

    for payload in (wrong, unknown):
        assert payload["accessToken"] is None
        assert payload["staff"] is None
        assert [error["code"] for error in payload["userErrors"]] == ["INVALID_CREDENTIALS"]
    assert wrong["userErrors"] == unknown["userErrors"]


async def test_repeated_failures_throttle_the_username(stack: Stack) -> None:
    username = await _new_staff(stack)
    for _ in range(stack.settings.login_max_failures):
        failed = await _login(stack, username, "guess")
        assert failed["userErrors"][0]["code"] == "INVALID_CREDENTIALS"

    throttled = await _login(stack, username, PASSWORD)

    assert throttled["accessToken"] is None
    assert throttled["userErrors"][0]["code"] == "LOGIN_THROTTLED"
    other = await _login(stack, "alpha-risk")
    assert other["userErrors"] == []


async def test_a_success_clears_earlier_failures(stack: Stack) -> None:
    username = await _new_staff(stack)
    for _ in range(stack.settings.login_max_failures - 1):
        await _login(stack, username, "guess")
    assert (await _login(stack, username))["userErrors"] == []

    for _ in range(stack.settings.login_max_failures - 1):
        await _login(stack, username, "guess")

    assert (await _login(stack, username))["userErrors"] == []


async def test_refresh_rotates_and_a_reused_token_revokes_the_login(stack: Stack) -> None:
    first = await _login(stack, await _new_staff(stack))

    second = (await stack.gql(REFRESH, {"token": first["refreshToken"]}))["data"]["refreshToken"]
    assert second["userErrors"] == []
    assert second["refreshToken"] != first["refreshToken"]
    assert (await stack.gql(ME, token=second["accessToken"]))["data"]["me"]["kind"] == "STAFF"

    reused = (await stack.gql(REFRESH, {"token": first["refreshToken"]}))["data"]["refreshToken"]
    assert reused["accessToken"] is None
    assert reused["userErrors"] == [{"code": "INVALID_REFRESH_TOKEN"}]
    after_theft = (await stack.gql(REFRESH, {"token": second["refreshToken"]}))["data"]
    assert after_theft["refreshToken"]["userErrors"] == [{"code": "INVALID_REFRESH_TOKEN"}]


async def test_logout_ends_the_login(stack: Stack) -> None:
    login = await _login(stack, await _new_staff(stack))

    logout = await stack.gql(LOGOUT, {"token": login["refreshToken"]})

    assert logout["data"]["logout"]["userErrors"] == []
    refreshed = (await stack.gql(REFRESH, {"token": login["refreshToken"]}))["data"]
    assert refreshed["refreshToken"]["userErrors"] == [{"code": "INVALID_REFRESH_TOKEN"}]


async def test_unknown_refresh_token_is_a_user_error(stack: Stack) -> None:
    body = await stack.gql(REFRESH, {"token": "not-a-token"})

    assert body["data"]["refreshToken"]["userErrors"] == [{"code": "INVALID_REFRESH_TOKEN"}]


async def test_refresh_tokens_are_stored_only_as_hashes(stack: Stack) -> None:
    login = await _login(stack, await _new_staff(stack))

    async with stack.services.database.primary.connect() as connection:
        hashes = (await connection.execute(select(refresh_tokens.c.token_hash))).scalars().all()

    assert hashes
    assert all(login["refreshToken"].encode() not in stored for stored in hashes)


async def test_no_token_and_a_bad_token_are_unauthenticated(stack: Stack) -> None:
    expired, _ = AccessTokenCodec(stack.services.keyring.token_signing_key).issue(
        subject=str(stack.world.staff["alpha-officer"].id),
        actor_kind="staff",
        role="LOAN_OFFICER",
        institution_id=str(stack.world.institutions["alpha"].id),
        customer_id=None,
        now=datetime.now(UTC) - timedelta(hours=1),
        lifetime=timedelta(minutes=15),
    )
    for token in (None, "garbage", expired):
        body = await stack.gql(ME, token=token)

        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_hash_with_old_parameters_is_replaced_at_login(stack: Stack) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost_kib=8192).hash(PASSWORD)
    username = await _new_staff(stack, password_hash=weak)

    assert (await _login(stack, username))["userErrors"] == []

    async with stack.services.database.primary.connect() as connection:
        stored = await connection.scalar(
            select(staff.c.password_hash).where(staff.c.username == username)
        )
    assert stored != weak
    assert not stack.services.passwords.needs_rehash(stored)
    assert (await _login(stack, username))["userErrors"] == []

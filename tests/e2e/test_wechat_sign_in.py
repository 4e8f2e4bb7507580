"""Mini-program sign-in through WeChat's code2Session, served by the stand-in over TCP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

import pytest
from sqlalchemy import select

from jikuai.persistence.tables.identity import wechat_accounts
from tests.conftest import WECHAT_APP_SECRET
from tests.support.stack import Stack

WECHAT_LOGIN = """
mutation($code: String!) {
  wechatLogin(input: {code: $code}) {
    accessToken refreshToken expiresAt registered
    viewer { kind role registered customer { nameMasked } institution { code } }
    userErrors { field code }
  }
}
"""
REGISTER_SELF = """
mutation($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) {
    customer { id nameMasked institution { code } }
    userErrors { field code }
  }
}
"""
ME = "{ me { kind role registered customer { id nameMasked } institution { code } } }"


def _openid() -> str:
    return f"o{uuid.uuid4().hex[:20]}"


async def _wechat_login(stack: Stack, code: str) -> dict:
    return (await stack.gql(WECHAT_LOGIN, {"code": code}))["data"]["wechatLogin"]


def _institution_id(stack: Stack, code: str) -> str:
    return base64.urlsafe_b64encode(
        f"Institution:{stack.world.institutions[code].id}".encode()
    ).decode()


async def test_a_new_wechat_user_signs_in_unregistered(stack: Stack) -> None:
    payload = await _wechat_login(stack, f"dev:{_openid()}")

    assert payload["userErrors"] == []
    assert payload["registered"] is False
    assert payload["viewer"] == {
        "kind": "CUSTOMER",
        "role": "CUSTOMER",
        "registered": False,
        "customer": None,
        "institution": None,
    }
    me = await stack.gql(ME, token=payload["accessToken"])
    assert me["data"]["me"]["registered"] is False


async def test_a_customer_registers_themself_and_is_known_at_the_next_login(stack: Stack) -> None:
    openid = _openid()
    first = await _wechat_login(stack, f"dev:{openid}")
    registration = stack.registration(name="赵铁柱", institutionId=_institution_id(stack, "beta"))

    registered = await stack.gql(REGISTER_SELF, {"input": registration}, token=first["accessToken"])

    payload = registered["data"]["registerCustomer"]
    assert payload["userErrors"] == []
    assert payload["customer"]["institution"] == {"code": "beta"}
    me = await stack.gql(ME, token=first["accessToken"])
    assert me["data"]["me"]["customer"]["id"] == payload["customer"]["id"]
    again = await _wechat_login(stack, f"dev:{openid}:second")
    assert again["registered"] is True
    assert again["viewer"]["customer"] == {"nameMasked": "*柱"}
    assert again["viewer"]["institution"] == {"code": "beta"}


async def test_a_registered_customer_cannot_register_again(stack: Stack) -> None:
    login = await _wechat_login(stack, f"dev:{_openid()}")
    institution_id = _institution_id(stack, "alpha")
    first = await stack.gql(
        REGISTER_SELF,
        {"input": stack.registration(institutionId=institution_id)},
        token=login["accessToken"],
    )
    assert first["data"]["registerCustomer"]["userErrors"] == []

    second = await stack.gql(
        REGISTER_SELF,
        {"input": stack.registration(institutionId=institution_id)},
        token=login["accessToken"],
    )

    assert second["data"]["registerCustomer"]["userErrors"] == [
        {"field": None, "code": "ALREADY_REGISTERED"}
    ]


async def test_self_registration_needs_a_member_institution(stack: Stack) -> None:
    login = await _wechat_login(stack, f"dev:{_openid()}")
    cases = {
        None: "REQUIRED",
        _institution_id(stack, "prov"): "INVALID_INSTITUTION",
        "not-an-id": "INVALID_INSTITUTION",
    }
    for institution_id, code in cases.items():
        body = await stack.gql(
            REGISTER_SELF,
            {"input": stack.registration(institutionId=institution_id)},
            token=login["accessToken"],
        )

        assert body["data"]["registerCustomer"]["userErrors"] == [
            {"field": ["institutionId"], "code": code}
        ]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("unknown-code", "INVALID_LOGIN_CODE"),
        ("blocked:x", "LOGIN_BLOCKED"),
        ("busy:x", "UPSTREAM_BUSY"),
        ("ratelimited:x", "UPSTREAM_BUSY"),
    ],
)
async def test_wechat_failures_are_user_errors(stack: Stack, code: str, error: str) -> None:
    payload = await _wechat_login(stack, code)

    assert payload["accessToken"] is None
    assert payload["userErrors"] == [{"field": ["code"], "code": error}]


async def test_a_code_works_once(stack: Stack) -> None:
    code = f"dev:{_openid()}"
    assert (await _wechat_login(stack, code))["userErrors"] == []

    assert (await _wechat_login(stack, code))["userErrors"] == [
        {"field": ["code"], "code": "INVALID_LOGIN_CODE"}
    ]


async def test_a_busy_upstream_is_retried_once(stack: Stack) -> None:
    payload = await _wechat_login(stack, f"flaky:{_openid()}")

    assert payload["userErrors"] == []
    assert payload["accessToken"]


async def test_the_session_key_stays_on_the_server_encrypted(stack: Stack) -> None:
    openid = _openid()
    response = await stack.post(WECHAT_LOGIN, {"code": f"dev:{openid}"})
    session_key = base64.b64encode(
        hmac.new(WECHAT_APP_SECRET.encode(), openid.encode(), hashlib.sha256).digest()[:16]
    ).decode()

    assert session_key not in response.text
    async with stack.services.database.primary.connect() as connection:
        stored = (
            await connection.execute(
                select(wechat_accounts.c.session_key_ct).where(wechat_accounts.c.openid == openid)
            )
        ).scalar_one()
    assert session_key.encode() not in stored
    assert base64.b64decode(session_key) not in stored


async def test_registration_attempts_are_limited_per_wechat_user(stack: Stack) -> None:
    login = await _wechat_login(stack, f"dev:{_openid()}")
    institution_id = _institution_id(stack, "alpha")
    limit = stack.settings.registration_attempts_per_hour

    codes = []
    for _ in range(limit + 1):
        body = await stack.gql(
            REGISTER_SELF,
            {"input": stack.registration(phone="123", institutionId=institution_id)},
            token=login["accessToken"],
        )
        codes.append([error["code"] for error in body["data"]["registerCustomer"]["userErrors"]])

    assert codes == [["INVALID_PHONE"]] * limit + [["TOO_MANY_ATTEMPTS"]]

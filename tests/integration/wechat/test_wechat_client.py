"""WeChatClient against the stand-in served by a real uvicorn server, over TCP.

Answers the stand-in cannot give (broken bodies, HTTP errors, timeouts) are served by
``httpx.MockTransport`` at the end of the file.
"""

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from jikuai.integrations.wechat import (
    WeChatClient,
    WeChatError,
    WeChatErrorKind,
    WeChatSession,
    create_standin_app,
)
from tests.support.servers import serve_in_thread

APP_ID = "wx5f3c0de1a2b3c4d5"
APP_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@dataclass(frozen=True)
class Standin:
    app: Starlette
    base_url: str

    @property
    def request_count(self) -> int:
        count: int = self.app.state.request_count
        return count


@pytest.fixture
def standin() -> Iterator[Standin]:
    app = create_standin_app(app_id=APP_ID, app_secret=APP_SECRET)
    with serve_in_thread(app) as base_url:
        yield Standin(app=app, base_url=base_url)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def make_client(
    base_url: str, http: httpx.AsyncClient, *, app_id: str = APP_ID, app_secret: str = APP_SECRET
) -> WeChatClient:
    return WeChatClient(
        base_url=base_url, app_id=app_id, app_secret=app_secret, http=http, retry_delay=0.01
    )


def expected_session_key(openid: str) -> str:
    digest = hmac.new(APP_SECRET.encode(), openid.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest[:16]).decode()


def assert_no_secrets(error: WeChatError, *secrets: str) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        for secret in (APP_SECRET, *secrets):
            assert secret not in text


async def test_dev_code_gives_a_session_with_a_predictable_key(
    standin: Standin, http: httpx.AsyncClient
) -> None:
    session = await make_client(standin.base_url, http).code_to_session("dev:alice_01")

    assert session == WeChatSession(
        openid="alice_01", session_key=expected_session_key("alice_01"), unionid=None
    )
    assert session.session_key not in repr(session)
    assert session.session_key not in str(session)
    assert APP_SECRET not in repr(session)


async def test_a_code_is_single_use_but_nonces_make_new_codes(
    standin: Standin, http: httpx.AsyncClient
) -> None:
    client = make_client(standin.base_url, http)
    first = await client.code_to_session("dev:bob:1")
    second = await client.code_to_session("dev:bob:2")

    with pytest.raises(WeChatError) as caught:
        await client.code_to_session("dev:bob:1")

    assert first == second
    assert caught.value.kind is WeChatErrorKind.INVALID_CODE
    assert caught.value.errcode == 40163
    assert_no_secrets(caught.value, first.session_key)


@pytest.mark.parametrize("code", ["garbage", "dev:", "dev:bad openid", "dev:" + "a" * 65])
async def test_unknown_code_is_invalid(
    standin: Standin, http: httpx.AsyncClient, code: str
) -> None:
    with pytest.raises(WeChatError) as caught:
        await make_client(standin.base_url, http).code_to_session(code)

    assert caught.value.kind is WeChatErrorKind.INVALID_CODE
    assert caught.value.errcode == 40029
    assert_no_secrets(caught.value)


@pytest.mark.parametrize("code", ["", "x" * 129])
async def test_malformed_code_is_invalid_without_calling_wechat(
    standin: Standin, http: httpx.AsyncClient, code: str
) -> None:
    with pytest.raises(WeChatError) as caught:
        await make_client(standin.base_url, http).code_to_session(code)

    assert caught.value.kind is WeChatErrorKind.INVALID_CODE
    assert caught.value.errcode is None
    assert standin.request_count == 0


async def test_blocked_user(standin: Standin, http: httpx.AsyncClient) -> None:
    with pytest.raises(WeChatError) as caught:
        await make_client(standin.base_url, http).code_to_session("blocked:carol")

    assert caught.value.kind is WeChatErrorKind.BLOCKED
    assert caught.value.errcode == 40226
    assert standin.request_count == 1
    assert_no_secrets(caught.value)


@pytest.mark.parametrize(("code", "errcode"), [("busy:x", -1), ("ratelimited:x", 45011)])
async def test_busy_is_retried_once_then_reported(
    standin: Standin, http: httpx.AsyncClient, code: str, errcode: int
) -> None:
    with pytest.raises(WeChatError) as caught:
        await make_client(standin.base_url, http).code_to_session(code)

    assert caught.value.kind is WeChatErrorKind.BUSY
    assert caught.value.errcode == errcode
    assert standin.request_count == 2
    assert_no_secrets(caught.value)


async def test_flaky_code_succeeds_on_the_single_retry(
    standin: Standin, http: httpx.AsyncClient
) -> None:
    client = make_client(standin.base_url, http)
    session = await client.code_to_session("flaky:dave")

    assert session.openid == "dave"
    assert session.session_key == expected_session_key("dave")
    assert standin.request_count == 2
    with pytest.raises(WeChatError) as caught:
        await client.code_to_session("flaky:dave")
    assert caught.value.errcode == 40163


async def test_standin_checks_grant_type(standin: Standin, http: httpx.AsyncClient) -> None:
    response = await http.get(
        f"{standin.base_url}/sns/jscode2session",
        params={"appid": APP_ID, "secret": APP_SECRET, "js_code": "dev:hana", "grant_type": "x"},
    )

    assert response.status_code == 200
    assert response.json()["errcode"] == 40002


async def test_standin_works_when_mounted_under_a_prefix() -> None:
    standin = create_standin_app(app_id=APP_ID, app_secret=APP_SECRET)
    outer = Starlette(routes=[Mount("/dev/wechat", app=standin)])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport) as http:
        client = make_client("http://dev.local/dev/wechat/", http)
        session = await client.code_to_session("dev:ivan")

    assert session.openid == "ivan"
    assert standin.state.request_count == 1


@pytest.mark.parametrize(
    ("app_id", "app_secret", "errcode"),
    [(APP_ID, "not-the-secret", 40125), ("wx0000000000000000", APP_SECRET, 40013)],
)
async def test_wrong_credentials_are_a_misconfiguration(
    standin: Standin, http: httpx.AsyncClient, app_id: str, app_secret: str, errcode: int
) -> None:
    client = make_client(standin.base_url, http, app_id=app_id, app_secret=app_secret)
    with pytest.raises(WeChatError) as caught:
        await client.code_to_session("dev:erin")

    assert caught.value.kind is WeChatErrorKind.MISCONFIGURED
    assert caught.value.errcode == errcode
    assert_no_secrets(caught.value, app_secret)


async def test_nothing_listening_is_unavailable(http: httpx.AsyncClient) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(WeChatError) as caught:
        await make_client(f"http://127.0.0.1:{port}", http).code_to_session("dev:frank")

    assert caught.value.kind is WeChatErrorKind.UNAVAILABLE
    assert caught.value.errcode is None
    assert caught.value.__cause__ is None
    assert_no_secrets(caught.value)


async def test_client_repr_hides_the_secret(http: httpx.AsyncClient) -> None:
    assert APP_SECRET not in repr(make_client("http://127.0.0.1:9", http))


Handler = Callable[[httpx.Request], httpx.Response]


async def call_with(handler: Handler, code: str = "dev:gina") -> WeChatSession:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        return await make_client("https://wechat.invalid", http).code_to_session(code)


def json_response(body: object, *, status: int = 200) -> Handler:
    content = json.dumps(body).encode()
    return lambda _: httpx.Response(status, content=content, headers={"content-type": "text/plain"})


async def test_json_labelled_text_plain_is_parsed_and_unionid_kept() -> None:
    body = {"openid": "o1", "session_key": "c2Vzc2lvbi1rZXktMTIzNA==", "unionid": "u1"}
    session = await call_with(json_response(body))

    assert session == WeChatSession(openid="o1", session_key=body["session_key"], unionid="u1")


async def test_request_carries_the_protocol_parameters() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"openid": "o1", "session_key": "k"})

    await call_with(handler, code="the-code")

    assert seen[0].method == "GET"
    assert seen[0].url.path == "/sns/jscode2session"
    assert dict(seen[0].url.params) == {
        "appid": APP_ID,
        "secret": APP_SECRET,
        "js_code": "the-code",
        "grant_type": "authorization_code",
    }


def raise_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout(f"timed out fetching {request.url}", request=request)


@pytest.mark.parametrize(
    "handler",
    [
        pytest.param(raise_timeout, id="timeout"),
        pytest.param(lambda _: httpx.Response(200, content=b"<html>busy</html>"), id="not-json"),
        pytest.param(json_response(["openid"]), id="json-array"),
        pytest.param(json_response({"errcode": 0}, status=502), id="http-502"),
        pytest.param(json_response({"errcode": "40029"}), id="string-errcode"),
        pytest.param(json_response({"session_key": "leaky-session-key"}), id="no-openid"),
        pytest.param(json_response({"openid": "o1"}), id="no-session-key"),
        pytest.param(
            json_response({"errcode": 48001, "errmsg": f"api unauthorized {APP_SECRET}"}),
            id="other-errcode",
        ),
    ],
)
async def test_unusable_answers_are_unavailable(handler: Handler) -> None:
    with pytest.raises(WeChatError) as caught:
        await call_with(handler)

    assert caught.value.kind is WeChatErrorKind.UNAVAILABLE
    assert_no_secrets(caught.value, "leaky-session-key")

"""RequestMiddleware around small ASGI apps: the last line of defence of every request."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from jikuai.middleware import RequestMiddleware


async def _failing(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("secret detail of a bug")


async def _echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


class _Session:
    closed = False

    async def close(self) -> None:
        self.closed = True


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jikuai.test")


async def test_an_unhandled_error_is_a_json_500_with_the_request_id() -> None:
    async with _client(RequestMiddleware(_failing, max_body_bytes=1024)) as client:
        response = await client.post("/graphql", content=b"{}", headers={"x-request-id": "req-1"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-1"
    assert response.json() == {
        "errors": [
            {
                "message": "Internal server error",
                "extensions": {"code": "INTERNAL", "requestId": "req-1"},
            }
        ]
    }
    assert "secret detail" not in response.text


async def test_a_body_over_the_limit_is_refused_even_without_a_length() -> None:
    async def chunks() -> Any:
        for _ in range(3):
            yield b"x" * 600

    async with _client(RequestMiddleware(_echo_length, max_body_bytes=1024)) as client:
        small = await client.post("/", content=b"x" * 1000)
        streamed = await client.post("/", content=chunks())

    assert small.text == "1000"
    assert streamed.status_code == 413
    assert streamed.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_the_request_database_session_is_closed() -> None:
    session = _Session()

    async def uses_session(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"]["db_session"] = session
        await _echo_length(scope, receive, send)

    async with _client(RequestMiddleware(uses_session, max_body_bytes=1024)) as client:
        await client.post("/", content=b"abc")

    assert session.closed

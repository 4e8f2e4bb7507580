"""The ASGI middleware every request passes: request id, body-size limit, access log, clean-up."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("jikuai.access")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class BodyTooLarge(Exception):
    pass


class RequestMiddleware:
    """Gives each request an id (`X-Request-Id`, echoed back), refuses bodies over the limit
    with 413, answers anything unhandled with a JSON 500 carrying the request id, writes one
    access-log line, and closes the request's database session."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(16)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        declared = headers.get(b"content-length", b"0")
        try:
            if not declared.isdigit():
                await _error(send_with_id, 400, "BAD_REQUEST", "Malformed Content-Length")
            elif int(declared) > self.max_body_bytes:
                raise BodyTooLarge
            else:
                await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            if not response_started:
                await _error(send_with_id, 413, "PAYLOAD_TOO_LARGE", "Request body too large")
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if not response_started:
                await _error(
                    send_with_id, 500, "INTERNAL", "Internal server error", request_id=request_id
                )
        finally:
            session = state.get("db_session")
            if session is not None:
                await session.close()
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "operation": state.get("operation_name"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )


async def _error(
    send: Send, status: int, code: str, message: str, *, request_id: str | None = None
) -> None:
    extensions = {"code": code} | ({"requestId": request_id} if request_id else {})
    body = json.dumps({"errors": [{"message": message, "extensions": extensions}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""Async client for WeChat's mini-program login exchange (code2Session)."""

import asyncio
import json
import random
from dataclasses import dataclass, field
from typing import TypeAlias

import httpx

from jikuai.integrations.wechat.errors import WeChatError, WeChatErrorKind

MAX_CODE_LENGTH = 128

_RETRYABLE_ERRCODES = frozenset({-1, 45011})
_ERRCODE_KINDS = {
    40029: WeChatErrorKind.INVALID_CODE,
    40163: WeChatErrorKind.INVALID_CODE,
    -1: WeChatErrorKind.BUSY,
    45011: WeChatErrorKind.BUSY,
    40226: WeChatErrorKind.BLOCKED,
    40013: WeChatErrorKind.MISCONFIGURED,
    40125: WeChatErrorKind.MISCONFIGURED,
}
_KIND_DESCRIPTIONS = {
    WeChatErrorKind.INVALID_CODE: "WeChat rejected the login code",
    WeChatErrorKind.BUSY: "WeChat stayed busy or rate limited after one retry",
    WeChatErrorKind.BLOCKED: "WeChat refused to log in a user it considers high risk",
    WeChatErrorKind.MISCONFIGURED: "WeChat rejected our app id or app secret",
    WeChatErrorKind.UNAVAILABLE: "WeChat answered with an unexpected error",
}
_ERRMSG_LIMIT = 120

_Body: TypeAlias = dict[str, object]


@dataclass(frozen=True)
class WeChatSession:
    """The result of a successful code2Session exchange.

    ``session_key`` must never leave the server; it is left out of the repr so that
    logging a session does not leak it.
    """

    openid: str
    session_key: str = field(repr=False)
    unionid: str | None


class WeChatClient:
    """Exchanges mini-program login codes for WeChat sessions.

    The protocol only accepts the app secret in the query string, and httpx logs full
    request URLs at INFO level: keep the ``httpx`` logger at WARNING or above wherever
    this client is used.
    """

    def __init__(
        self,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        http: httpx.AsyncClient,
        retry_delay: float = 0.2,
        timeout: float = 5.0,
    ) -> None:
        if not app_id or not app_secret:
            raise ValueError("app_id and app_secret must not be empty")
        self._url = base_url.rstrip("/") + "/sns/jscode2session"
        self._app_id = app_id
        self._app_secret = app_secret
        self._http = http
        self._retry_delay = retry_delay
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"WeChatClient(url={self._url!r}, app_id={self._app_id!r})"

    async def code_to_session(self, code: str) -> WeChatSession:
        """Exchange a login code (single use, valid 5 minutes) for the user's session.

        Busy and rate-limit answers are retried once; every failure raises `WeChatError`.
        """
        if not code or len(code) > MAX_CODE_LENGTH:
            raise WeChatError(
                WeChatErrorKind.INVALID_CODE,
                f"login code must be 1 to {MAX_CODE_LENGTH} characters long",
            )
        body = await self._fetch(code)
        errcode = _errcode(body)
        if errcode in _RETRYABLE_ERRCODES:
            # Jitter spreads the retries of many users hit by the same WeChat hiccup.
            await asyncio.sleep(self._retry_delay * random.uniform(1.0, 1.5))  # noqa: S311
            body = await self._fetch(code)
            errcode = _errcode(body)
        if errcode == 0:
            return _session_from(body)
        kind = _ERRCODE_KINDS.get(errcode, WeChatErrorKind.UNAVAILABLE)
        errmsg = self._redact(str(body.get("errmsg", "")))[:_ERRMSG_LIMIT]
        raise WeChatError(
            kind, f"{_KIND_DESCRIPTIONS[kind]} (errcode {errcode}: {errmsg})", errcode=errcode
        )

    async def _fetch(self, code: str) -> _Body:
        params = {
            "appid": self._app_id,
            "secret": self._app_secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        try:
            response = await self._http.get(self._url, params=params, timeout=self._timeout)
        except httpx.HTTPError as exc:
            # The cause is dropped on purpose: it carries the request URL, secret included.
            raise WeChatError(
                WeChatErrorKind.UNAVAILABLE,
                f"could not reach WeChat: {type(exc).__name__}: {self._redact(str(exc))}",
            ) from None
        if not response.is_success:
            raise WeChatError(
                WeChatErrorKind.UNAVAILABLE, f"WeChat answered HTTP {response.status_code}"
            )
        # WeChat sometimes labels its JSON as text/plain, so the content type is ignored.
        try:
            body = json.loads(response.content)
        except ValueError:
            raise WeChatError(
                WeChatErrorKind.UNAVAILABLE, "WeChat answered with a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise WeChatError(
                WeChatErrorKind.UNAVAILABLE, "WeChat answered with JSON that is not an object"
            )
        return body

    def _redact(self, text: str) -> str:
        return text.replace(self._app_secret, "***")


def _errcode(body: _Body) -> int:
    """Read ``errcode``, which WeChat leaves out on success."""
    errcode = body.get("errcode", 0)
    if isinstance(errcode, bool) or not isinstance(errcode, int):
        raise WeChatError(WeChatErrorKind.UNAVAILABLE, "WeChat answered with a non-integer errcode")
    return errcode


def _session_from(body: _Body) -> WeChatSession:
    openid = body.get("openid")
    session_key = body.get("session_key")
    unionid = body.get("unionid")
    if not (isinstance(openid, str) and openid and isinstance(session_key, str) and session_key):
        raise WeChatError(
            WeChatErrorKind.UNAVAILABLE, "WeChat reported success without openid and session_key"
        )
    return WeChatSession(
        openid=openid,
        session_key=session_key,
        unionid=unionid if isinstance(unionid, str) and unionid else None,
    )

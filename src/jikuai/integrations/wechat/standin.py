"""A local stand-in for WeChat's code2Session endpoint.

The tests run the client against it, and in development mode the app mounts it under
``/dev/wechat`` so that front-end developers can log in offline (the client's ``base_url``
then points at the mount).

``GET /sns/jscode2session`` checks ``grant_type`` (40002), ``appid`` (40013) and ``secret``
(40125), then answers according to the form of ``js_code``:

``dev:<openid>`` or ``dev:<openid>:<nonce>``
    Success for that openid (1 to 64 characters of ``A-Za-z0-9_-``), without unionid. The
    session key is ``base64(HMAC-SHA256(key=app secret, msg=openid)[:16])``. As with a real
    code, the same code string is single use for 5 minutes (40163): vary the nonce to log the
    same user in again.
``flaky:<openid>`` or ``flaky:<openid>:<nonce>``
    -1 (system busy) on the first use of that code string, success on the second, 40163 after.
``busy:<anything>``
    -1 every time.
``ratelimited:<anything>``
    45011 every time.
``blocked:<anything>``
    40226 (high-risk user) every time.
anything else
    40029 (invalid code).

Like WeChat, every answer is HTTP 200 with a JSON body. ``app.state.request_count`` counts the
requests to the endpoint, so that tests can check how often a client called it.
"""

import base64
import hashlib
import hmac
import re
import secrets
import time
from typing import TypeAlias

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CODE_LIFETIME_SECONDS = 300.0

_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")

_Body: TypeAlias = dict[str, object]


class _CodeLedger:
    """Counts the uses of each code string during the lifetime of a code."""

    def __init__(self) -> None:
        self._uses: dict[str, tuple[float, int]] = {}

    def record_use(self, code: str) -> int:
        """Record one use of ``code`` and return how many uses it had before."""
        now = time.monotonic()
        self._forget_expired(now)
        first_use, uses = self._uses.get(code, (now, 0))
        self._uses[code] = (first_use, uses + 1)
        return uses

    def _forget_expired(self, now: float) -> None:
        # Entries are inserted at their first use, so the dict is ordered by first use.
        while self._uses:
            code, (first_use, _) = next(iter(self._uses.items()))
            if now - first_use < CODE_LIFETIME_SECONDS:
                return
            del self._uses[code]


def create_standin_app(*, app_id: str, app_secret: str) -> Starlette:
    """Build the stand-in, accepting only the given app id and app secret."""
    ledger = _CodeLedger()

    def answer(params: QueryParams) -> _Body:
        if params.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        if params.get("appid") != app_id:
            return _error(40013, "invalid appid")
        if params.get("secret") != app_secret:
            return _error(40125, "invalid appsecret")
        code = params.get("js_code", "")
        scheme, _, rest = code.partition(":")
        if scheme == "busy":
            return _error(-1, "system error")
        if scheme == "ratelimited":
            return _error(45011, "api minute-quota reach limit  mustslower  retry next minute")
        if scheme == "blocked":
            return _error(40226, "high risk user")
        openid = rest.partition(":")[0]
        if scheme not in ("dev", "flaky") or not _OPENID.fullmatch(openid):
            return _error(40029, "invalid code")
        earlier_uses = ledger.record_use(code)
        if scheme == "flaky" and earlier_uses == 0:
            return _error(-1, "system error")
        if earlier_uses > (1 if scheme == "flaky" else 0):
            return _error(40163, "code been used")
        return {"openid": openid, "session_key": _session_key(openid, app_secret)}

    async def jscode2session(request: Request) -> JSONResponse:
        app.state.request_count += 1
        return JSONResponse(answer(request.query_params))

    app = Starlette(routes=[Route("/sns/jscode2session", jscode2session, methods=["GET"])])
    app.state.request_count = 0
    return app


def _session_key(openid: str, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode(), openid.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest[:16]).decode()


def _error(errcode: int, errmsg: str) -> _Body:
    # Real errmsg values end with a request id, which WeChat support asks for.
    rid = f"{int(time.time()):x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return {"errcode": errcode, "errmsg": f"{errmsg}, rid: {rid}"}

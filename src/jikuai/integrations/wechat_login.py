"""WeChat's code2Session behind the domain's `WeChatCodeExchange` port."""

from __future__ import annotations

import logging

from jikuai.domain.identity.ports import WeChatIdentity
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.integrations.wechat import WeChatClient, WeChatError, WeChatErrorKind

log = logging.getLogger("jikuai.wechat")

_CODES = {
    WeChatErrorKind.INVALID_CODE: ErrorCode.INVALID_LOGIN_CODE,
    WeChatErrorKind.BUSY: ErrorCode.UPSTREAM_BUSY,
    WeChatErrorKind.BLOCKED: ErrorCode.LOGIN_BLOCKED,
    WeChatErrorKind.MISCONFIGURED: ErrorCode.UPSTREAM_UNAVAILABLE,
    WeChatErrorKind.UNAVAILABLE: ErrorCode.UPSTREAM_UNAVAILABLE,
}


class WeChatLogin:
    def __init__(self, client: WeChatClient) -> None:
        self._client = client

    async def __call__(self, code: str) -> WeChatIdentity:
        try:
            session = await self._client.code_to_session(code)
        except WeChatError as error:
            if error.kind in (WeChatErrorKind.MISCONFIGURED, WeChatErrorKind.UNAVAILABLE):
                log.error("wechat code2Session failed: %s", error)
            raise DomainError(_CODES[error.kind], field=("code",)) from None
        return WeChatIdentity(
            openid=session.openid, session_key=session.session_key, unionid=session.unionid
        )

"""WeChat mini-program login: the code2Session client and a local stand-in for it."""

from jikuai.integrations.wechat.client import WeChatClient, WeChatSession
from jikuai.integrations.wechat.errors import WeChatError, WeChatErrorKind
from jikuai.integrations.wechat.standin import create_standin_app

__all__ = [
    "WeChatClient",
    "WeChatError",
    "WeChatErrorKind",
    "WeChatSession",
    "create_standin_app",
]

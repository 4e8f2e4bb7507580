"""The process-wide services, built once from settings and shared by every request."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from jikuai.config import Settings
from jikuai.domain.customers.protection import CustomerVault
from jikuai.domain.identity.ports import WeChatCodeExchange
from jikuai.domain.identity.services import Authenticator, SignInPolicy
from jikuai.domain.villages.protection import HouseholdVault
from jikuai.integrations.wechat import WeChatClient, create_standin_app
from jikuai.integrations.wechat_login import WeChatLogin
from jikuai.persistence.cache import Cache, create_cache
from jikuai.persistence.engine import Database
from jikuai.security import (
    AccessTokenCodec,
    BlindIndex,
    EnvelopeOpener,
    FieldCipher,
    KeyRing,
    PasswordHasher,
    load_or_create,
)

log = logging.getLogger("jikuai")

WECHAT_API_BASE = "https://api.weixin.qq.com"


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    keyring: KeyRing
    database: Database
    cache: Cache
    envelopes: EnvelopeOpener
    cipher: FieldCipher
    vault: CustomerVault
    households: HouseholdVault
    passwords: PasswordHasher
    authenticator: Authenticator
    wechat: WeChatCodeExchange
    wechat_standin: Starlette | None
    http: httpx.AsyncClient

    async def close(self) -> None:
        await self.http.aclose()
        await self.cache.close()
        await self.database.dispose()


def load_keyring(settings: Settings) -> KeyRing:
    """The key ring; in development it is created on first use, with a warning."""
    keyring, created = load_or_create(
        settings.key_directory, create=not settings.is_production, now=datetime.now(UTC)
    )
    if created:
        log.warning(
            "created development keys in %s: for development only, never use them in production",
            settings.key_directory,
        )
    return keyring


def build_services(settings: Settings, *, keyring: KeyRing | None = None) -> Services:
    keyring = keyring or load_keyring(settings)
    cache = create_cache(settings.redis_url)
    cipher = FieldCipher(keyring)
    blind_index = BlindIndex(keyring.blind_index_key)
    passwords = PasswordHasher()
    policy = SignInPolicy(
        access_lifetime=settings.access_token_lifetime,
        refresh_lifetime=settings.refresh_token_lifetime,
        max_failures=settings.login_max_failures,
        lockout=settings.login_lockout,
    )
    standin, http, wechat_base = _wechat_upstream(settings)
    app_id, app_secret = settings.wechat_app
    wechat = WeChatClient(base_url=wechat_base, app_id=app_id, app_secret=app_secret, http=http)
    return Services(
        settings=settings,
        keyring=keyring,
        database=Database.from_settings(settings),
        cache=cache,
        envelopes=EnvelopeOpener(keyring),
        cipher=cipher,
        vault=CustomerVault(cipher, blind_index),
        households=HouseholdVault(cipher, blind_index),
        passwords=passwords,
        authenticator=Authenticator(
            codec=AccessTokenCodec(keyring.token_signing_key),
            passwords=passwords,
            counters=cache,
            cipher=cipher,
            policy=policy,
            wechat_app_id=app_id,
        ),
        wechat=WeChatLogin(wechat),
        wechat_standin=standin,
        http=http,
    )


def _wechat_upstream(settings: Settings) -> tuple[Starlette | None, httpx.AsyncClient, str]:
    """WeChat's servers, or in development the stand-in, called in-process.

    The same stand-in is mounted by the app under /dev/wechat, so a front-end developer's codes
    (`dev:<openid>`) work offline and the demo needs no network.
    """
    if settings.uses_wechat_standin:
        app_id, app_secret = settings.wechat_app
        standin = create_standin_app(app_id=app_id, app_secret=app_secret)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=standin))
        return standin, http, "http://wechat-standin"
    return None, httpx.AsyncClient(), settings.wechat_api_base or WECHAT_API_BASE

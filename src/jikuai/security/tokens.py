"""Access and refresh tokens.

An access token is a short-lived JWT signed with HS256 under the key ring's token-signing
key: every server of the deployment shares the key, so any of them verifies a token without
a database round trip. Claims use short names (``sub`` actor id, ``knd`` actor kind, ``rol``
role, ``ins`` institution, ``cus`` customer, ``mer`` merchant, ``jti``, ``iat``, ``exp``,
``iss``) and all of them are required; anything unexpected is the same :class:`InvalidToken`.

A refresh token is an opaque random string. Only its SHA-256 is stored, so a database leak
yields no usable token; rotating it on use and revoking a family when a rotated token comes
back is the job of whoever stores the hashes.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from joserfc.jws import JWSRegistry

from jikuai.security.errors import InvalidToken

_ALGORITHM = "HS256"
_REGISTRY = JWSRegistry(algorithms=[_ALGORITHM])
_MAX_TOKEN_BYTES = 4096
_VERIFIED_TOKENS_CACHED = 4096
_MIN_KEY_BYTES = 32
_ACTOR_KINDS = frozenset({"staff", "customer", "merchant", "service"})
_CLAIM_NAMES = frozenset({"sub", "knd", "rol", "ins", "cus", "mer", "jti", "iat", "exp", "iss"})


@dataclass(frozen=True)
class AccessClaims:
    """Who a verified access token speaks for, and for how long."""

    subject: str
    actor_kind: str
    role: str
    institution_id: str | None
    customer_id: str | None
    merchant_id: str | None
    token_id: str
    issued_at: datetime
    expires_at: datetime


class AccessTokenCodec:
    """Issues and verifies access tokens under one signing key."""

    def __init__(self, signing_key: bytes, *, issuer: str = "jikuai") -> None:
        if len(signing_key) < _MIN_KEY_BYTES:
            raise ValueError(f"the signing key must have at least {_MIN_KEY_BYTES} bytes")
        self._key = OctKey.import_key(signing_key)
        self._issuer = issuer
        # A client sends the same token with every request for its lifetime: check its signature
        # and shape once. Expiry depends on the time, so it is checked on every call.
        self._genuine = lru_cache(maxsize=_VERIFIED_TOKENS_CACHED)(self._check)

    def issue(
        self,
        *,
        subject: str,
        actor_kind: str,
        role: str,
        institution_id: str | None,
        customer_id: str | None,
        now: datetime,
        lifetime: timedelta,
        merchant_id: str | None = None,
    ) -> tuple[str, AccessClaims]:
        """A signed token and its claims; times are whole seconds, as in the token."""
        if actor_kind not in _ACTOR_KINDS:
            raise ValueError(f"actor_kind must be one of {sorted(_ACTOR_KINDS)}")
        if lifetime < timedelta(seconds=1):
            raise ValueError("lifetime must be at least one second")
        issued_at = int(now.timestamp())
        expires_at = issued_at + int(lifetime.total_seconds())
        token_id = secrets.token_urlsafe(16)
        payload = {
            "sub": subject,
            "knd": actor_kind,
            "rol": role,
            "ins": institution_id,
            "cus": customer_id,
            "mer": merchant_id,
            "jti": token_id,
            "iat": issued_at,
            "exp": expires_at,
            "iss": self._issuer,
        }
        token = jwt.encode({"alg": _ALGORITHM}, payload, self._key, registry=_REGISTRY)
        return token, _claims(payload)

    def verify(self, token: str, *, now: datetime) -> AccessClaims:
        """The claims of a genuine, unexpired token of ours, or :class:`InvalidToken`."""
        if not isinstance(token, str) or len(token) > _MAX_TOKEN_BYTES or not token.isascii():
            raise InvalidToken from None
        claims = self._genuine(token)
        if not now < claims.expires_at:
            raise InvalidToken from None
        return claims

    def _check(self, token: str) -> AccessClaims:
        """Signature, issuer and claim shapes; everything but expiry."""
        try:
            payload = jwt.decode(token, self._key, registry=_REGISTRY).claims
        except (JoseError, ValueError, TypeError):
            raise InvalidToken from None
        if (
            payload.keys() != _CLAIM_NAMES
            or payload["iss"] != self._issuer
            or payload["knd"] not in _ACTOR_KINDS
            or not all(isinstance(payload[name], str) for name in ("sub", "rol", "jti"))
            or not all(isinstance(payload[name], str | None) for name in ("ins", "cus", "mer"))
            or not all(_is_int(payload[name]) for name in ("iat", "exp"))
            or not payload["iat"] < payload["exp"]
        ):
            raise InvalidToken from None
        return _claims(payload)


def new_secret() -> str:
    """A fresh opaque secret (256 random bits): a refresh token, a service account's secret."""
    return secrets.token_urlsafe(32)


def hash_secret(token: str) -> bytes:
    """What is stored for an opaque secret: its SHA-256, enough for 256 random bits."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _claims(payload: dict[str, Any]) -> AccessClaims:
    return AccessClaims(
        subject=payload["sub"],
        actor_kind=payload["knd"],
        role=payload["rol"],
        institution_id=payload["ins"],
        customer_id=payload["cus"],
        merchant_id=payload["mer"],
        token_id=payload["jti"],
        issued_at=datetime.fromtimestamp(payload["iat"], UTC),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
    )

"""The wire envelope: how a sensitive field travels so that only its recipient can read it.

A client seals a value (an ID number, a bank card) to our published transport key as a JWE
in compact serialization (RFC 7516): ``RSA-OAEP-256`` wraps a fresh AES-256-GCM content key,
``A256GCM`` encrypts the plaintext, and the protected header (the GCM associated data) names
the transport key by ``kid``. The plaintext is the JSON object
``{"f": <field>, "v": <value>, "iat": <unix seconds>}``: binding the field name stops an
envelope sealed for one field from being replayed into another, and ``iat`` bounds replay to
:data:`FRESHNESS_SECONDS` either side of the server's clock.

Opening accepts exactly that shape and nothing else: no other algorithm, no compression, no
key material or URLs in the header, nothing above :data:`MAX_ENVELOPE_BYTES`. Every refusal
is the same :class:`EnvelopeInvalid`, so a caller learns nothing about why (no padding or
format oracle). The same format carries revealed values the other way, sealed by the server
to a staff member's own public key.
"""

import base64
import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from joserfc.errors import JoseError
from joserfc.jwe import JWERegistry, decrypt_compact, encrypt_compact
from joserfc.jwk import RSAKey

from jikuai.security.errors import EnvelopeInvalid
from jikuai.security.keys import KeyRing

KEY_ALGORITHM = "RSA-OAEP-256"
CONTENT_ENCRYPTION = "A256GCM"
MAX_ENVELOPE_BYTES = 8192
FRESHNESS_SECONDS = 600

_HEADER_NAMES = frozenset({"alg", "enc", "kid", "typ", "cty"})
_PLAINTEXT_NAMES = frozenset({"f", "v", "iat"})
_SEGMENT = re.compile(rb"[A-Za-z0-9_-]+")
_MIN_CLIENT_BITS = 2048
_MAX_CLIENT_BITS = 8192


class EnvelopeOpener:
    """Opens envelopes sealed to any usable transport key of a key ring."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring
        self._keys: dict[str, RSAKey] = {}

    def open(
        self, token: str, *, field: str, now: datetime, max_bytes: int = MAX_ENVELOPE_BYTES
    ) -> str:
        """The value sealed in ``token`` for ``field``, or :class:`EnvelopeInvalid`. A field
        that carries a whole batch (a village roster from the field app) may allow more than
        :data:`MAX_ENVELOPE_BYTES`."""
        if not isinstance(token, str) or len(token) > max_bytes or not token.isascii():
            raise EnvelopeInvalid from None
        raw = token.encode("ascii")
        parts = raw.split(b".")
        if len(parts) != 5 or not all(_SEGMENT.fullmatch(part) for part in parts):
            raise EnvelopeInvalid from None
        key = self._key_for(_header(parts[0]), now=now)
        try:
            plaintext = decrypt_compact(raw, key, registry=_registry(max_bytes)).plaintext
        except (JoseError, ValueError, TypeError):
            raise EnvelopeInvalid from None
        return _value(plaintext, field=field, now=now)

    def _key_for(self, header: dict[str, Any], *, now: datetime) -> RSAKey:
        kid = header.get("kid")
        if (
            not header.keys() <= _HEADER_NAMES
            or header.get("alg") != KEY_ALGORITHM
            or header.get("enc") != CONTENT_ENCRYPTION
            or not isinstance(kid, str)
        ):
            raise EnvelopeInvalid from None
        transport_key = self._keyring.transport_key(kid, now=now)
        if transport_key is None:
            raise EnvelopeInvalid from None
        key = self._keys.get(kid)
        if key is None:
            key = self._keys[kid] = RSAKey.import_key(transport_key.private_key)
        return key


def seal(
    value: str, *, field: str, public_key: RSAPublicKey, kid: str | None, now: datetime
) -> str:
    """Seal ``value`` for ``field`` to ``public_key`` in the envelope format, dated ``now``."""
    header = {"alg": KEY_ALGORITHM, "enc": CONTENT_ENCRYPTION}
    if kid is not None:
        header["kid"] = kid
    plaintext = json.dumps(
        {"f": field, "v": value, "iat": int(now.timestamp())},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    encoded = plaintext.encode("utf-8")
    registry = _registry(max(MAX_ENVELOPE_BYTES, 2 * len(encoded)))
    return encrypt_compact(header, encoded, RSAKey.import_key(public_key), registry=registry)


def load_client_public_key(pem: str) -> RSAPublicKey:
    """Parse a client's SubjectPublicKeyInfo PEM; it must be RSA of 2048 to 8192 bits."""
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("the public key must be a SubjectPublicKeyInfo PEM") from None
    if not isinstance(key, RSAPublicKey) or not (
        _MIN_CLIENT_BITS <= key.key_size <= _MAX_CLIENT_BITS
    ):
        raise ValueError(
            f"the public key must be RSA of {_MIN_CLIENT_BITS} to {_MAX_CLIENT_BITS} bits"
        )
    return key


@lru_cache(maxsize=8)
def _registry(max_bytes: int) -> JWERegistry:
    """Our two algorithms, and ciphertexts up to `max_bytes` (the library's own cap is 64 KiB,
    below what a field app's batch may need)."""
    registry = JWERegistry(algorithms=[KEY_ALGORITHM, CONTENT_ENCRYPTION])
    registry.max_ciphertext_length = max(registry.max_ciphertext_length, max_bytes)
    return registry


def _header(segment: bytes) -> dict[str, Any]:
    try:
        return _json_object(_b64url_decode(segment))
    except ValueError:
        raise EnvelopeInvalid from None


def _value(plaintext: bytes | None, *, field: str, now: datetime) -> str:
    try:
        content = _json_object(plaintext or b"")
    except ValueError:
        raise EnvelopeInvalid from None
    value, issued_at = content.get("v"), content.get("iat")
    if (
        content.keys() != _PLAINTEXT_NAMES
        or content["f"] != field
        or not isinstance(value, str)
        or not isinstance(issued_at, int)
        or isinstance(issued_at, bool)
        or abs(int(now.timestamp()) - issued_at) > FRESHNESS_SECONDS
    ):
        raise EnvelopeInvalid from None
    return value


def _b64url_decode(segment: bytes) -> bytes:
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


def _json_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, an object at the top, no duplicate names; else ValueError."""
    try:
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_names)
    except RecursionError:  # nesting deeper than the interpreter's stack
        raise ValueError("nested too deeply") from None
    if not isinstance(document, dict):
        raise ValueError("not an object")
    return document


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("duplicate names")
    return document

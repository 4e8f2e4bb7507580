import base64
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from jikuai.security import (
    AccessClaims,
    AccessTokenCodec,
    InvalidToken,
    KeyRing,
    hash_secret,
    new_secret,
)

LIFETIME = timedelta(minutes=15)
STAFF = "4f1c1d0e-7b7a-4a43-9d35-0c8b6d3f7a10"
INSTITUTION = "9b2e4c41-0a57-4f0e-8f43-3f2d7f7b1e22"


@pytest.fixture(scope="module")
def codec(ring: KeyRing) -> AccessTokenCodec:
    return AccessTokenCodec(ring.token_signing_key)


def issue(codec: AccessTokenCodec, now: datetime) -> tuple[str, AccessClaims]:
    return codec.issue(
        subject=STAFF,
        actor_kind="staff",
        role="LOAN_OFFICER",
        institution_id=INSTITUTION,
        customer_id=None,
        now=now,
        lifetime=LIFETIME,
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def payload_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * 4))
    return decoded


def signed(ring: KeyRing, payload: dict[str, Any], algorithm: str = "HS256") -> str:
    key = OctKey.import_key(ring.token_signing_key)
    return jwt.encode({"alg": algorithm}, payload, key, algorithms=[algorithm])


def assert_invalid(codec: AccessTokenCodec, token: Any, now: datetime) -> None:
    with pytest.raises(InvalidToken) as caught:
        codec.verify(token, now=now)
    assert str(caught.value) == "invalid token"
    assert caught.value.__cause__ is None


def test_round_trip(codec: AccessTokenCodec, now: datetime) -> None:
    token, claims = issue(codec, now)
    assert codec.verify(token, now=now) == claims
    assert claims.subject == STAFF
    assert claims.actor_kind == "staff"
    assert claims.role == "LOAN_OFFICER"
    assert claims.institution_id == INSTITUTION
    assert claims.customer_id is None
    assert claims.issued_at == now
    assert claims.expires_at == now + LIFETIME
    assert len(token) < 1024


def test_claims_use_short_names(codec: AccessTokenCodec, now: datetime) -> None:
    token, claims = issue(codec, now)
    assert payload_of(token) == {
        "sub": STAFF,
        "knd": "staff",
        "rol": "LOAN_OFFICER",
        "ins": INSTITUTION,
        "cus": None,
        "mer": None,
        "jti": claims.token_id,
        "iat": int(now.timestamp()),
        "exp": int((now + LIFETIME).timestamp()),
        "iss": "jikuai",
    }


def test_token_ids_are_unique(codec: AccessTokenCodec, now: datetime) -> None:
    assert issue(codec, now)[1].token_id != issue(codec, now)[1].token_id


def test_expiry(codec: AccessTokenCodec, now: datetime) -> None:
    token, _ = issue(codec, now)
    assert codec.verify(token, now=now + LIFETIME - timedelta(seconds=1))
    assert_invalid(codec, token, now + LIFETIME)
    assert_invalid(codec, token, now + timedelta(days=1))


@pytest.mark.parametrize("part", [0, 1, 2])
def test_tampered_token_is_refused(codec: AccessTokenCodec, now: datetime, part: int) -> None:
    token, _ = issue(codec, now)
    parts = token.split(".")
    if part == 1:
        forged = payload_of(token) | {"rol": "PROVINCE_ADMIN"}
        parts[1] = b64url(json.dumps(forged).encode())
    else:
        raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=" * 4))
        raw[-1] ^= 0x01
        parts[part] = b64url(bytes(raw))
    assert_invalid(codec, ".".join(parts), now)


def test_alg_none_is_refused(codec: AccessTokenCodec, now: datetime) -> None:
    token, _ = issue(codec, now)
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    assert_invalid(codec, f"{header}.{token.split('.')[1]}.", now)


def test_other_algorithm_with_the_same_key_is_refused(
    codec: AccessTokenCodec, ring: KeyRing, now: datetime
) -> None:
    token, _ = issue(codec, now)
    assert_invalid(codec, signed(ring, payload_of(token), "HS512"), now)


def test_token_signed_with_another_key_is_refused(now: datetime) -> None:
    token, _ = issue(AccessTokenCodec(secrets.token_bytes(32)), now)
    assert_invalid(AccessTokenCodec(secrets.token_bytes(32)), token, now)


def test_token_of_another_issuer_is_refused(ring: KeyRing, now: datetime) -> None:
    token, _ = issue(AccessTokenCodec(ring.token_signing_key, issuer="elsewhere"), now)
    assert_invalid(AccessTokenCodec(ring.token_signing_key), token, now)


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": ...},
        {"exp": ...},
        {"iss": ...},
        {"ins": ...},
        {"extra": 1},
        {"knd": "robot"},
        {"mer": ...},
        {"mer": 7},
        {"sub": 7},
        {"rol": None},
        {"cus": 7},
        {"exp": "2000000000"},
        {"exp": 2000000000.5},
        {"iat": True},
        {"iat": 2000000000, "exp": 2000000000},
    ],
    ids=repr,
)
def test_token_with_wrong_claims_is_refused(
    codec: AccessTokenCodec, ring: KeyRing, now: datetime, changes: dict[str, Any]
) -> None:
    token, _ = issue(codec, now)
    payload = payload_of(token) | changes
    forged = signed(ring, {name: value for name, value in payload.items() if value is not ...})
    assert_invalid(codec, forged, now)


def test_oversized_token_is_refused(codec: AccessTokenCodec, ring: KeyRing, now: datetime) -> None:
    token, _ = issue(codec, now)
    big = signed(ring, payload_of(token) | {"rol": "R" * 4096})
    assert_invalid(codec, big, now)


DEEP_HEADER = b64url(b"[" * 2500 + b"]" * 2500)[:3000]


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "a.b", "é.é.é", None, b"a.b.c", f"{DEEP_HEADER}.e30.c2ln"],
)
def test_garbage_is_refused(codec: AccessTokenCodec, now: datetime, token: Any) -> None:
    assert_invalid(codec, token, now)


def test_issue_refuses_bad_arguments(codec: AccessTokenCodec, now: datetime) -> None:
    arguments: dict[str, Any] = {
        "subject": STAFF,
        "actor_kind": "staff",
        "role": "LOAN_OFFICER",
        "institution_id": INSTITUTION,
        "customer_id": None,
        "now": now,
        "lifetime": LIFETIME,
    }
    with pytest.raises(ValueError, match="actor_kind"):
        codec.issue(**arguments | {"actor_kind": "robot"})
    with pytest.raises(ValueError, match="lifetime"):
        codec.issue(**arguments | {"lifetime": timedelta(0)})
    with pytest.raises(ValueError, match="32 bytes"):
        AccessTokenCodec(bytes(16))


def test_refresh_tokens() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert len(first) >= 43
    assert hash_secret(first) == hash_secret(first)
    assert hash_secret(first) != hash_secret(second)
    assert len(hash_secret(first)) == 32

import base64
import json
import secrets
import zlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc.jwe import decrypt_compact, encrypt_compact
from joserfc.jwk import RSAKey

from jikuai.security import EnvelopeInvalid, EnvelopeOpener, KeyRing, load_client_public_key, seal
from jikuai.security.envelope import (
    CONTENT_ENCRYPTION,
    FRESHNESS_SECONDS,
    KEY_ALGORITHM,
    MAX_ENVELOPE_BYTES,
)

FIELD = "idNumber"
VALUE = "11010519491231002X"
OAEP_SHA256 = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
OAEP_SHA1 = padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)  # noqa: S303


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def plaintext(now: datetime, **changes: Any) -> bytes:
    """A valid envelope plaintext with ``changes``; a change to ``...`` leaves the name out."""
    content: dict[str, Any] = {"f": FIELD, "v": VALUE, "iat": int(now.timestamp())}
    content.update(changes)
    return json.dumps({k: v for k, v in content.items() if v is not ...}).encode()


def build(
    ring: KeyRing,
    *,
    header: dict[str, Any] | None = None,
    content: bytes,
    key_padding: padding.AsymmetricPadding = OAEP_SHA256,
    cek_bytes: int = 32,
) -> str:
    """A compact JWE built by hand, so that every part can be made wrong on purpose."""
    transport = ring.primary_transport_key
    protected = b64url(
        json.dumps(
            header or {"alg": KEY_ALGORITHM, "enc": CONTENT_ENCRYPTION, "kid": transport.kid}
        ).encode()
    )
    cek, iv = secrets.token_bytes(cek_bytes), secrets.token_bytes(12)
    encrypted_key = transport.private_key.public_key().encrypt(cek, key_padding)
    sealed = AESGCM(cek).encrypt(iv, content, protected.encode("ascii"))
    parts = [encrypted_key, iv, sealed[:-16], sealed[-16:]]
    return ".".join([protected, *(b64url(part) for part in parts)])


def sealed_by_ring(ring: KeyRing, now: datetime, value: str = VALUE, field: str = FIELD) -> str:
    transport = ring.primary_transport_key
    return seal(
        value,
        field=field,
        public_key=transport.private_key.public_key(),
        kid=transport.kid,
        now=now,
    )


def assert_invalid(opener: EnvelopeOpener, token: Any, now: datetime, field: str = FIELD) -> None:
    with pytest.raises(EnvelopeInvalid) as caught:
        opener.open(token, field=field, now=now)
    assert str(caught.value) == "envelope invalid"
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.fixture(scope="module")
def opener(ring: KeyRing) -> EnvelopeOpener:
    return EnvelopeOpener(ring)


def test_sealed_value_opens(opener: EnvelopeOpener, ring: KeyRing, now: datetime) -> None:
    assert opener.open(sealed_by_ring(ring, now), field=FIELD, now=now) == VALUE


def test_unicode_value_opens(opener: EnvelopeOpener, ring: KeyRing, now: datetime) -> None:
    token = sealed_by_ring(ring, now, value="王明 · 吉林省长春市", field="name")
    assert opener.open(token, field="name", now=now) == "王明 · 吉林省长春市"


def test_hand_built_envelope_opens(opener: EnvelopeOpener, ring: KeyRing, now: datetime) -> None:
    assert opener.open(build(ring, content=plaintext(now)), field=FIELD, now=now) == VALUE


def test_typ_and_cty_headers_are_allowed(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    header = {
        "alg": KEY_ALGORITHM,
        "enc": CONTENT_ENCRYPTION,
        "kid": ring.primary_transport_key.kid,
        "typ": "JWE",
        "cty": "application/json",
    }
    assert opener.open(build(ring, header=header, content=plaintext(now)), field=FIELD, now=now)


@pytest.mark.parametrize("skew", [-FRESHNESS_SECONDS, FRESHNESS_SECONDS])
def test_freshness_window_is_inclusive(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime, skew: int
) -> None:
    token = sealed_by_ring(ring, now + timedelta(seconds=skew))
    assert opener.open(token, field=FIELD, now=now) == VALUE


@pytest.mark.parametrize("skew", [-FRESHNESS_SECONDS - 1, FRESHNESS_SECONDS + 1])
def test_stale_or_future_iat_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime, skew: int
) -> None:
    assert_invalid(opener, sealed_by_ring(ring, now + timedelta(seconds=skew)), now)


def test_envelope_for_another_field_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    assert_invalid(opener, sealed_by_ring(ring, now, field="phone"), now)


@pytest.mark.parametrize(
    ("key_alg", "key_padding"),
    [
        ("RSA1_5", padding.PKCS1v15()),
        ("RSA-OAEP", OAEP_SHA1),
        (KEY_ALGORITHM, OAEP_SHA1),
        (KEY_ALGORITHM, padding.PKCS1v15()),
    ],
)
def test_other_key_algorithms_are_refused(
    opener: EnvelopeOpener,
    ring: KeyRing,
    now: datetime,
    key_alg: str,
    key_padding: padding.AsymmetricPadding,
) -> None:
    header = {"alg": key_alg, "enc": CONTENT_ENCRYPTION, "kid": ring.primary_transport_key.kid}
    token = build(ring, header=header, content=plaintext(now), key_padding=key_padding)
    assert_invalid(opener, token, now)


def test_a128gcm_is_refused(opener: EnvelopeOpener, ring: KeyRing, now: datetime) -> None:
    header = {"alg": KEY_ALGORITHM, "enc": "A128GCM", "kid": ring.primary_transport_key.kid}
    assert_invalid(opener, build(ring, header=header, content=plaintext(now), cek_bytes=16), now)


def test_cbc_content_encryption_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    transport = ring.primary_transport_key
    token = encrypt_compact(
        {"alg": KEY_ALGORITHM, "enc": "A256CBC-HS512", "kid": transport.kid},
        plaintext(now),
        RSAKey.import_key(transport.private_key.public_key()),
        algorithms=[KEY_ALGORITHM, "A256CBC-HS512"],
    )
    assert_invalid(opener, token, now)


def test_compressed_envelope_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    header = {
        "alg": KEY_ALGORITHM,
        "enc": CONTENT_ENCRYPTION,
        "kid": ring.primary_transport_key.kid,
        "zip": "DEF",
    }
    deflate = zlib.compressobj(wbits=-15)
    content = deflate.compress(plaintext(now)) + deflate.flush()
    assert_invalid(opener, build(ring, header=header, content=content), now)


@pytest.mark.parametrize(
    "extra",
    [
        {"jku": "https://attacker.example/keys"},
        {"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
        {"x5u": "https://attacker.example/cert"},
        {"x5c": ["MIIB"]},
        {"crit": ["exp"], "exp": 1},
        {"epk": {}},
        {"p2s": "c2FsdA", "p2c": 1000},
        {"nonce": "abc"},
    ],
)
def test_other_header_parameters_are_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime, extra: dict[str, Any]
) -> None:
    header = {
        "alg": KEY_ALGORITHM,
        "enc": CONTENT_ENCRYPTION,
        "kid": ring.primary_transport_key.kid,
        **extra,
    }
    assert_invalid(opener, build(ring, header=header, content=plaintext(now)), now)


@pytest.mark.parametrize("kid", [None, "t-20261129-000000", 7, ""])
def test_missing_or_unknown_kid_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime, kid: Any
) -> None:
    header = {"alg": KEY_ALGORITHM, "enc": CONTENT_ENCRYPTION, "kid": kid}
    if kid is None:
        del header["kid"]
    assert_invalid(opener, build(ring, header=header, content=plaintext(now)), now)


def test_duplicate_header_names_are_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    token = build(ring, content=plaintext(now))
    kid = ring.primary_transport_key.kid
    duplicated = (
        f'{{"alg":"{KEY_ALGORITHM}","enc":"{CONTENT_ENCRYPTION}","kid":"nobody","kid":"{kid}"}}'
    )
    assert_invalid(opener, ".".join([b64url(duplicated.encode()), *token.split(".")[1:]]), now)


def test_previous_transport_key_opens_until_retired(ring: KeyRing, now: datetime) -> None:
    rotated = ring.rotated(now=now, retirement=timedelta(hours=1))
    opener = EnvelopeOpener(rotated)
    within = now + timedelta(minutes=59)
    at, after = now + timedelta(hours=1), now + timedelta(hours=2)

    assert opener.open(sealed_by_ring(ring, within), field=FIELD, now=within) == VALUE
    assert opener.open(sealed_by_ring(rotated, within), field=FIELD, now=within) == VALUE
    assert_invalid(opener, sealed_by_ring(ring, at), at)
    assert_invalid(opener, sealed_by_ring(ring, after), after)
    assert opener.open(sealed_by_ring(rotated, after), field=FIELD, now=after) == VALUE


@pytest.mark.parametrize(
    "content",
    [
        {"v": "extra", "x": 1},
        {"v": 110105},
        {"v": None},
        {"v": ["11010519491231002X"]},
        {"v": ...},
        {"f": ...},
        {"iat": ...},
        {"iat": "1795939200"},
        {"iat": 1795939200.0},
        {"iat": True},
        {"f": None},
    ],
    ids=repr,
)
def test_malformed_plaintext_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime, content: dict[str, Any]
) -> None:
    assert_invalid(opener, build(ring, content=plaintext(now, **content)), now)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b'["idNumber", "11010519491231002X", 0]',
        b'"11010519491231002X"',
        '{"f": "idNumber", "v": "\u00e9", "iat": 0}'.encode("latin-1"),
        '{"f":"idNumber","v":"x","iat":0}'.encode("utf-16"),
    ],
)
def test_plaintext_that_is_not_a_utf8_json_object_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime, content: bytes
) -> None:
    assert_invalid(opener, build(ring, content=content), now)


def test_deeply_nested_json_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    nested = b"[" * 5000 + b"]" * 5000
    token = build(ring, content=plaintext(now))
    assert_invalid(opener, ".".join([b64url(nested), *token.split(".")[1:]]), now)
    assert_invalid(opener, build(ring, content=b'{"f":' + nested + b"}"), now)


def test_duplicate_plaintext_names_are_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    iat = int(now.timestamp())
    content = f'{{"f":"phone","f":"{FIELD}","v":"{VALUE}","iat":{iat}}}'.encode()
    assert_invalid(opener, build(ring, content=content), now)


def test_oversized_envelope_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    fits, too_big = sealed_by_ring(ring, now, "x" * 5000), sealed_by_ring(ring, now, "x" * 6000)
    assert len(fits) <= MAX_ENVELOPE_BYTES < len(too_big)
    assert opener.open(fits, field=FIELD, now=now) == "x" * 5000
    assert_invalid(opener, too_big, now)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c.d.e",
        "....",
        "a.b.c.d.e.f",
        "eyJhbGciOiJub25lIn0.e30.",
        None,
        b"a.b.c.d.e",
        "é.é.é.é.é",
    ],
)
def test_garbage_is_refused(opener: EnvelopeOpener, now: datetime, token: Any) -> None:
    assert_invalid(opener, token, now)


def test_envelope_with_wrong_part_count_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    parts = sealed_by_ring(ring, now).split(".")
    assert_invalid(opener, ".".join(parts[:4]), now)
    assert_invalid(opener, ".".join([*parts, parts[-1]]), now)
    assert_invalid(opener, ".".join(parts) + "=", now)


@pytest.mark.parametrize("part", [0, 1, 2, 3, 4])
def test_tampered_envelope_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime, part: int
) -> None:
    parts = sealed_by_ring(ring, now).split(".")
    raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=" * (-len(parts[part]) % 4)))
    if part == 0:
        raw = bytearray(json.dumps(json.loads(raw), indent=1).encode())
    else:
        raw[len(raw) // 2] ^= 0x01
    parts[part] = b64url(bytes(raw))
    assert_invalid(opener, ".".join(parts), now)


def test_truncated_tag_is_refused(opener: EnvelopeOpener, ring: KeyRing, now: datetime) -> None:
    parts = sealed_by_ring(ring, now).split(".")
    tag = base64.urlsafe_b64decode(parts[4] + "==")
    parts[4] = b64url(tag[:12])
    assert_invalid(opener, ".".join(parts), now)


def test_envelope_sealed_to_another_ring_is_refused(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    token = seal(
        VALUE, field=FIELD, public_key=stranger, kid=ring.primary_transport_key.kid, now=now
    )
    assert_invalid(opener, token, now)


def test_seal_to_a_client_key_opens_with_its_private_key(now: datetime) -> None:
    client = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        client.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    token = seal(VALUE, field=FIELD, public_key=load_client_public_key(pem), kid=None, now=now)
    opened = decrypt_compact(
        token, RSAKey.import_key(client), algorithms=[KEY_ALGORITHM, CONTENT_ENCRYPTION]
    )
    assert opened.headers() == {"alg": KEY_ALGORITHM, "enc": CONTENT_ENCRYPTION}
    assert json.loads(opened.plaintext or b"") == {
        "f": FIELD,
        "v": VALUE,
        "iat": int(now.timestamp()),
    }


def test_client_public_key_must_be_rsa_of_2048_bits_or_more() -> None:
    def spki(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
        return (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    curve = ec.generate_private_key(ec.SECP256R1())
    private_pem = weak.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    for pem in [spki(weak), spki(curve), private_pem, "not a key", ""]:
        with pytest.raises(ValueError, match="public key must be"):
            load_client_public_key(pem)


@pytest.mark.parametrize("iat", [10**400, -(10**400), 2**63])
def test_an_absurd_iat_is_refused_not_crashed_on(
    opener: EnvelopeOpener, ring: KeyRing, now: datetime, iat: int
) -> None:
    assert_invalid(opener, build(ring, content=plaintext(now, iat=iat)), now)

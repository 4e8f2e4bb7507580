from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jikuai.security import DecryptionError, FieldCipher, FieldContext, KeyRing

CONTEXT = FieldContext(table="customers", column="id_number", row_id="0f8a7c2e")
SECRET = "11010519491231002X"


@pytest.fixture(scope="module")
def cipher(ring: KeyRing) -> FieldCipher:
    return FieldCipher(ring)


def assert_fails(cipher: FieldCipher, blob: bytes, context: FieldContext = CONTEXT) -> None:
    with pytest.raises(DecryptionError) as caught:
        cipher.decrypt(blob, context=context)
    assert str(caught.value) == "decryption failed"
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("plaintext", [SECRET, "", "王明", "a" * 10_000])
def test_round_trip(cipher: FieldCipher, plaintext: str) -> None:
    assert cipher.decrypt(cipher.encrypt(plaintext, context=CONTEXT), context=CONTEXT) == plaintext


def test_blob_layout(cipher: FieldCipher, ring: KeyRing) -> None:
    blob = cipher.encrypt(SECRET, context=CONTEXT)
    assert blob[0] == 0x01
    assert int.from_bytes(blob[1:5], "big") == ring.primary_data_key.key_id
    assert len(blob) == 1 + 4 + 12 + len(SECRET) + 16
    assert FieldCipher.key_id_of(blob) == cipher.primary_key_id == ring.primary_data_key.key_id


def test_nonces_are_fresh(cipher: FieldCipher) -> None:
    first, second = (cipher.encrypt(SECRET, context=CONTEXT) for _ in range(2))
    assert first[5:17] != second[5:17]
    assert first != second


@pytest.mark.parametrize(
    "context",
    [
        FieldContext(table="customers", column="id_number", row_id="0f8a7c2f"),
        FieldContext(table="customers", column="phone", row_id="0f8a7c2e"),
        FieldContext(table="merchants", column="id_number", row_id="0f8a7c2e"),
        FieldContext(table="customersid_number", column="", row_id="0f8a7c2e"),
        FieldContext(table="customers|id_number", column="", row_id="0f8a7c2e"),
    ],
)
def test_blob_is_bound_to_its_table_column_and_row(
    cipher: FieldCipher, context: FieldContext
) -> None:
    assert_fails(cipher, cipher.encrypt(SECRET, context=CONTEXT), context)


@pytest.mark.parametrize("position", [0, 1, 4, 5, 16, 17, 20, -16, -1])
def test_tampered_blob_fails(cipher: FieldCipher, position: int) -> None:
    blob = bytearray(cipher.encrypt(SECRET, context=CONTEXT))
    blob[position] ^= 0x01
    assert_fails(cipher, bytes(blob))


@pytest.mark.parametrize("length", [0, 1, 5, 17, 32])
def test_truncated_blob_fails(cipher: FieldCipher, length: int) -> None:
    assert_fails(cipher, cipher.encrypt(SECRET, context=CONTEXT)[:length])


def test_blob_under_an_unknown_key_fails(cipher: FieldCipher, now: datetime) -> None:
    stranger = FieldCipher(KeyRing.generate(now=now, rsa_bits=2048))
    assert_fails(cipher, stranger.encrypt(SECRET, context=CONTEXT))


def documented_aad(header: bytes, context: FieldContext) -> bytes:
    parts = (context.table, context.column, context.row_id)
    return (
        b"jikuai field" + header + b"".join(len(p).to_bytes(4, "big") + p.encode() for p in parts)
    )


def test_blob_built_from_the_documented_format_decrypts(cipher: FieldCipher, ring: KeyRing) -> None:
    header, nonce = b"\x01" + ring.primary_data_key.key_id.to_bytes(4, "big"), bytes(12)
    aesgcm = AESGCM(ring.primary_data_key.key)
    blob = header + nonce + aesgcm.encrypt(nonce, SECRET.encode(), documented_aad(header, CONTEXT))
    assert cipher.decrypt(blob, context=CONTEXT) == SECRET
    not_utf8 = aesgcm.encrypt(nonce, b"\xff\xfe", documented_aad(header, CONTEXT))
    assert_fails(cipher, header + nonce + not_utf8)


def test_key_id_of_garbage_fails() -> None:
    for blob in (b"", b"\x01\x00", b"\x02\x00\x00\x00\x01" + bytes(28)):
        with pytest.raises(DecryptionError):
            FieldCipher.key_id_of(blob)


def test_rotation_keeps_old_blobs_readable(ring: KeyRing, now: datetime) -> None:
    old_blob = FieldCipher(ring).encrypt(SECRET, context=CONTEXT)
    rotated = FieldCipher(ring.rotated(now=now, retirement=timedelta(days=1)))
    new_blob = rotated.encrypt(SECRET, context=CONTEXT)

    assert rotated.primary_key_id != ring.primary_data_key.key_id
    assert FieldCipher.key_id_of(old_blob) == ring.primary_data_key.key_id
    assert FieldCipher.key_id_of(new_blob) == rotated.primary_key_id
    assert rotated.decrypt(old_blob, context=CONTEXT) == SECRET
    assert rotated.decrypt(new_blob, context=CONTEXT) == SECRET
    assert_fails(FieldCipher(ring), new_blob)

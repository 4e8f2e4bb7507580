"""Encryption at rest: sensitive columns hold AES-256-GCM ciphertext under a data key.

A blob is ``version (1 byte, 0x01) | key id (4 bytes, big-endian) | nonce (12 random bytes) |
ciphertext and 16-byte tag``. The key id names the data key of the key ring, so rotation needs
no schema change: new blobs use the primary key, old ones decrypt under theirs until a
re-encryption moves them. The associated data binds a blob to its header and to the table,
column and row it was written for, so a ciphertext copied to another row or column does not
decrypt. Each part is length-prefixed, so no choice of names can make two contexts collide.

Nonces are random; NIST's bound for random 96-bit nonces is 2**32 encryptions per key, far
beyond a rotation period here, but the reason to keep rotating data keys.
"""

import secrets
import struct
from functools import lru_cache
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jikuai.security.errors import DecryptionError
from jikuai.security.keys import KeyRing

_VERSION = 1
_HEADER = struct.Struct(">BI")
_LENGTH = struct.Struct(">I")
_NONCE_BYTES = 12
_TAG_BYTES = 16
_AAD_LABEL = b"jikuai field"


class FieldContext(NamedTuple):
    """Where an encrypted value lives; it must be the same to decrypt as to encrypt."""

    table: str
    column: str
    row_id: str


class FieldCipher:
    """Encrypts under the key ring's primary data key, decrypts under any of its data keys."""

    def __init__(self, keyring: KeyRing) -> None:
        primary = keyring.primary_data_key
        self._keyring = keyring
        self._primary = AESGCM(primary.key)
        self._primary_header = _HEADER.pack(_VERSION, primary.key_id)
        self._ciphers = {primary.key_id: self._primary}

    @property
    def primary_key_id(self) -> int:
        return self._keyring.primary_data_key.key_id

    def encrypt(self, plaintext: str, *, context: FieldContext) -> bytes:
        header = self._primary_header
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._primary.encrypt(
            nonce, plaintext.encode("utf-8"), _associated_data(header, context)
        )
        return header + nonce + sealed

    def decrypt(self, blob: bytes, *, context: FieldContext) -> str:
        """The plaintext of ``blob``; any failure is the same :class:`DecryptionError`."""
        key_id = self.key_id_of(blob)
        cipher = self._cipher(key_id)
        if cipher is None or len(blob) < _HEADER.size + _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError from None
        header, nonce = blob[: _HEADER.size], blob[_HEADER.size : _HEADER.size + _NONCE_BYTES]
        try:
            plaintext = cipher.decrypt(
                nonce, blob[_HEADER.size + _NONCE_BYTES :], _associated_data(header, context)
            )
            return plaintext.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise DecryptionError from None

    @staticmethod
    def key_id_of(blob: bytes) -> int:
        """The id of the data key ``blob`` was encrypted under (to find blobs to re-encrypt)."""
        if len(blob) < _HEADER.size:
            raise DecryptionError from None
        version, key_id = _HEADER.unpack_from(blob)
        if version != _VERSION:
            raise DecryptionError from None
        return int(key_id)

    def _cipher(self, key_id: int) -> AESGCM | None:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            key = self._keyring.data_key(key_id)
            if key is None:
                return None
            cipher = self._ciphers[key_id] = AESGCM(key.key)
        return cipher


def _associated_data(header: bytes, context: FieldContext) -> bytes:
    return _place(header, context.table, context.column) + _part(context.row_id)


@lru_cache(maxsize=256)
def _place(header: bytes, table: str, column: str) -> bytes:
    """The associated data up to the row: the same for every row of a column and key."""
    return b"".join([_AAD_LABEL, header, _part(table), _part(column)])


def _part(name: str) -> bytes:
    encoded = name.encode("utf-8")
    return _LENGTH.pack(len(encoded)) + encoded

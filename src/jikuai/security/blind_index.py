"""Blind indexes: equality lookup on encrypted columns without decrypting them.

An encrypted column cannot be searched, so next to it sits a blind index: HMAC-SHA256 of the
value under a key derived for its kind (the indexed column, ``"customers.phone"``) with
HKDF-SHA256 from the key ring's blind-index key. Separate keys per kind mean equal values of
different kinds do not share an index, and one kind's index says nothing about another's.

The index leaks equality and nothing else, but the values indexed here (ID numbers, mobile
numbers) have little entropy: whoever holds the index key can enumerate them. That key is
therefore a secret of the key ring like any other. The value is hashed exactly as given:
normalising it (upper-casing an ID number's check character, reducing a phone to its 11
digits) is the caller's job, and must be done the same way when writing and when searching.
"""

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_KEY_BYTES = 32
_INFO_PREFIX = b"jikuai blind index "


class BlindIndex:
    """Computes blind indexes under one root key, deriving each kind's key once."""

    def __init__(self, key: bytes) -> None:
        if len(key) < _KEY_BYTES:
            raise ValueError(f"the blind-index key must have at least {_KEY_BYTES} bytes")
        self._root = key
        self._keys: dict[str, bytes] = {}

    def compute(self, kind: str, value: str) -> bytes:
        """The 32-byte index of ``value`` (already normalised) as a ``kind``."""
        key = self._keys.get(kind)
        if key is None:
            hkdf = HKDF(
                algorithm=hashes.SHA256(),
                length=_KEY_BYTES,
                salt=None,
                info=_INFO_PREFIX + kind.encode("utf-8"),
            )
            key = self._keys[kind] = hkdf.derive(self._root)
        return hmac.digest(key, value.encode("utf-8"), hashlib.sha256)

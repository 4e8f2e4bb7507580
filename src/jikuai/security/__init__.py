"""Cryptography and data protection for Jikuai, free of web and database code.

* Wire envelope (:mod:`.envelope`): clients seal sensitive input as a JWE (RSA-OAEP-256 +
  A256GCM) to a published transport key; the plaintext names its field and its time, and
  every malformed, stale, misdirected or tampered envelope is one :class:`EnvelopeInvalid`.
  Revealed values go back the same way, sealed to the reader's own public key.
* At rest (:mod:`.fields`): sensitive columns hold AES-256-GCM blobs under a data key named in
  the blob and bound to their table, column and row; the data keys are wrapped by the RSA
  key-encryption key of the key ring (:mod:`.keys`), which also rotates them.
* Blind index (:mod:`.blind_index`): HMAC-SHA256 under per-kind derived keys, for equality
  lookup of encrypted values.
* Masking (:mod:`.masking`): how a sensitive value is displayed, applied on the server.
* Tokens (:mod:`.tokens`): short-lived HS256 access tokens and opaque refresh tokens stored
  as hashes. Passwords (:mod:`.passwords`): argon2id.

Each family of failures has one exception (:mod:`.errors`) that does not say what failed.
"""

from jikuai.security.blind_index import BlindIndex
from jikuai.security.envelope import EnvelopeOpener, load_client_public_key, seal
from jikuai.security.errors import DecryptionError, EnvelopeInvalid, InvalidToken, KeyRingError
from jikuai.security.fields import FieldCipher, FieldContext
from jikuai.security.keys import DataKey, KeyInfo, KeyRing, TransportKey, load_or_create, rotate
from jikuai.security.masking import mask_bank_card, mask_id_number, mask_name, mask_phone
from jikuai.security.passwords import PasswordHasher
from jikuai.security.tokens import (
    AccessClaims,
    AccessTokenCodec,
    hash_secret,
    new_secret,
)

__all__ = [
    "AccessClaims",
    "AccessTokenCodec",
    "BlindIndex",
    "DataKey",
    "DecryptionError",
    "EnvelopeInvalid",
    "EnvelopeOpener",
    "FieldCipher",
    "FieldContext",
    "InvalidToken",
    "KeyInfo",
    "KeyRing",
    "KeyRingError",
    "PasswordHasher",
    "TransportKey",
    "hash_secret",
    "load_client_public_key",
    "load_or_create",
    "mask_bank_card",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "new_secret",
    "rotate",
    "seal",
]

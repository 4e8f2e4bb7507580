"""The key ring: every long-lived secret of the service, and how it is kept on disk.

A key ring directory holds two files, both mode 0600 and written atomically:

``kek.pem``
    The RSA key-encryption key (KEK), PKCS#8 PEM. It is the root secret: whoever holds it
    can read everything else, so it is the one file to keep in a vault or an HSM later.
``keyring.json``
    Every other secret, each wrapped under the KEK as a small digital envelope: a fresh
    32-byte key encrypted with RSA-OAEP (SHA-256, MGF1-SHA-256) under the KEK public key,
    and the secret encrypted with AES-256-GCM under that key. The GCM associated data names
    the slot the secret belongs to, so wrapped secrets cannot be swapped between slots.

The secrets:

* transport keys (RSA) open the wire envelopes clients seal to us. The primary one is
  published; after a rotation the previous primary still opens envelopes until its
  ``retires_at`` and is dropped at the first rotation after that;
* data keys (AES-256) encrypt sensitive columns at rest. The primary one encrypts, every
  other one only decrypts, until a re-encryption has moved all rows to the primary;
* the blind-index key and the token-signing key, 32 random bytes each.

A :class:`KeyRing` is immutable: rotation returns a new ring, which the caller saves. Times
are timezone-aware datetimes supplied by the caller, so expiry is testable without clocks.
"""

import base64
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jikuai.security.errors import KeyRingError

log = logging.getLogger("jikuai.security")

KEK_FILE = "kek.pem"
LOCK_FILE = ".lock"
KEYRING_FILE = "keyring.json"

_T = TypeVar("_T")
_FORMAT = "jikuai-keyring/1"
_MIN_RSA_BITS = 2048
_SECRET_BYTES = 32
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes given to the key ring must be timezone-aware")


@dataclass(frozen=True)
class TransportKey:
    """An RSA key that opens wire envelopes sealed to its ``kid``."""

    kid: str
    private_key: RSAPrivateKey = field(repr=False)
    created_at: datetime
    retires_at: datetime | None

    @property
    def public_key_pem(self) -> str:
        """The public key as a SubjectPublicKeyInfo PEM, for ``importSPKI`` and the like."""
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    @property
    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK, announcing the envelope's key algorithm."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
            "kid": self.kid,
            "alg": "RSA-OAEP-256",
            "use": "enc",
        }

    def is_usable(self, now: datetime) -> bool:
        """Whether envelopes sealed to this key are still accepted at ``now``."""
        return self.retires_at is None or now < self.retires_at


@dataclass(frozen=True)
class DataKey:
    """An AES-256 key for values encrypted at rest, named by a random 32-bit id."""

    key_id: int
    key: bytes = field(repr=False)
    created_at: datetime


@dataclass(frozen=True)
class KeyInfo:
    """One line of ``jikuai keys list``: what a key is for and whether it is still used."""

    kind: Literal["transport", "data"]
    key_id: str
    status: Literal["primary", "decrypt-only", "retired"]
    created_at: datetime
    retires_at: datetime | None


class KeyRing:
    """The service's secrets. Build one with :meth:`generate` or :meth:`load`."""

    __slots__ = (
        "_blind_index_key",
        "_data",
        "_kek",
        "_primary_data_key_id",
        "_primary_kid",
        "_token_signing_key",
        "_transport",
    )

    def __init__(
        self,
        *,
        kek: RSAPrivateKey,
        transport_keys: Iterable[TransportKey],
        data_keys: Iterable[DataKey],
        primary_kid: str,
        primary_data_key_id: int,
        blind_index_key: bytes,
        token_signing_key: bytes,
    ) -> None:
        transport, data = tuple(transport_keys), tuple(data_keys)
        self._kek = kek
        self._transport = {key.kid: key for key in transport}
        self._data = {key.key_id: key for key in data}
        self._primary_kid = primary_kid
        self._primary_data_key_id = primary_data_key_id
        self._blind_index_key = blind_index_key
        self._token_signing_key = token_signing_key
        if kek.key_size < _MIN_RSA_BITS or any(
            key.private_key.key_size < _MIN_RSA_BITS for key in transport
        ):
            raise ValueError(f"RSA keys must have at least {_MIN_RSA_BITS} bits")
        if len(self._transport) != len(transport) or len(self._data) != len(data):
            raise ValueError("key ids must be unique")
        primary = self._transport.get(primary_kid)
        if primary is None or primary.retires_at is not None:
            raise ValueError("the primary transport key must be in the ring and not retiring")
        if primary_data_key_id not in self._data:
            raise ValueError("the primary data key must be in the ring")
        if any(not 0 < key.key_id < 2**32 or len(key.key) != _SECRET_BYTES for key in data):
            raise ValueError("data keys must be 32 bytes with a nonzero 32-bit id")
        if len(blind_index_key) != _SECRET_BYTES or len(token_signing_key) != _SECRET_BYTES:
            raise ValueError("the blind-index and token-signing keys must be 32 bytes")

    def __repr__(self) -> str:
        return f"KeyRing(transport={list(self._transport)}, data={list(self._data)})"

    @property
    def primary_transport_key(self) -> TransportKey:
        """The key clients seal new envelopes to."""
        return self._transport[self._primary_kid]

    @property
    def primary_data_key(self) -> DataKey:
        """The key new values are encrypted under."""
        return self._data[self._primary_data_key_id]

    @property
    def blind_index_key(self) -> bytes:
        return self._blind_index_key

    @property
    def token_signing_key(self) -> bytes:
        return self._token_signing_key

    def transport_key(self, kid: str, *, now: datetime) -> TransportKey | None:
        """The transport key named ``kid``, or None when it is unknown or retired at ``now``."""
        key = self._transport.get(kid)
        if key is None or not key.is_usable(now):
            return None
        return key

    def data_key(self, key_id: int) -> DataKey | None:
        return self._data.get(key_id)

    def describe(self, *, now: datetime) -> list[KeyInfo]:
        """Every key with its status at ``now``: transport keys first, oldest first."""
        infos = []
        for transport in sorted(self._transport.values(), key=lambda key: key.created_at):
            if transport.kid == self._primary_kid:
                status: Literal["primary", "decrypt-only", "retired"] = "primary"
            else:
                status = "decrypt-only" if transport.is_usable(now) else "retired"
            infos.append(
                KeyInfo(
                    kind="transport",
                    key_id=transport.kid,
                    status=status,
                    created_at=transport.created_at,
                    retires_at=transport.retires_at,
                )
            )
        for data in sorted(self._data.values(), key=lambda key: key.created_at):
            status = "primary" if data.key_id == self._primary_data_key_id else "decrypt-only"
            infos.append(
                KeyInfo(
                    kind="data",
                    key_id=str(data.key_id),
                    status=status,
                    created_at=data.created_at,
                    retires_at=None,
                )
            )
        return infos

    @classmethod
    def generate(cls, *, now: datetime, rsa_bits: int = 3072) -> Self:
        """A new ring; ``rsa_bits`` sizes both the KEK and the first transport key."""
        _require_aware(now)
        if rsa_bits < _MIN_RSA_BITS:
            raise ValueError(f"RSA keys must have at least {_MIN_RSA_BITS} bits")
        transport = _new_transport_key(now=now, rsa_bits=rsa_bits, taken=set())
        data = _new_data_key(now=now, taken=set())
        return cls(
            kek=rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits),
            transport_keys=[transport],
            data_keys=[data],
            primary_kid=transport.kid,
            primary_data_key_id=data.key_id,
            blind_index_key=secrets.token_bytes(_SECRET_BYTES),
            token_signing_key=secrets.token_bytes(_SECRET_BYTES),
        )

    def rotated(self, *, now: datetime, retirement: timedelta) -> Self:
        """A ring with new primary transport and data keys.

        The previous primary transport key keeps opening envelopes for ``retirement``;
        transport keys already retired at ``now`` are dropped. Old data keys stay for
        decryption. Blind-index and token-signing keys are not rotated here: changing them
        invalidates every index and every session at once.
        """
        _require_aware(now)
        if retirement < timedelta(0):
            raise ValueError("retirement must not be negative")
        transport_keys = [
            replace(key, retires_at=now + retirement) if key.kid == self._primary_kid else key
            for key in self._transport.values()
            if key.kid == self._primary_kid or key.is_usable(now)
        ]
        transport = _new_transport_key(
            now=now,
            rsa_bits=self.primary_transport_key.private_key.key_size,
            taken=set(self._transport),
        )
        data = _new_data_key(now=now, taken=set(self._data))
        return type(self)(
            kek=self._kek,
            transport_keys=[*transport_keys, transport],
            data_keys=[*self._data.values(), data],
            primary_kid=transport.kid,
            primary_data_key_id=data.key_id,
            blind_index_key=self._blind_index_key,
            token_signing_key=self._token_signing_key,
        )

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read and unwrap the ring in ``directory``; any problem raises :class:`KeyRingError`."""
        kek_path, ring_path = directory / KEK_FILE, directory / KEYRING_FILE
        if not kek_path.exists() and not ring_path.exists():
            raise KeyRingError(f"no key ring at {directory}: run `jikuai keys generate`")
        try:
            kek_pem, ring_json = kek_path.read_bytes(), ring_path.read_bytes()
        except FileNotFoundError as error:
            raise KeyRingError(
                f"incomplete key ring at {directory}: {error.filename} is missing"
            ) from None
        except OSError as error:
            raise KeyRingError(f"cannot read key ring at {directory}: {error.strerror}") from None
        for path in (kek_path, ring_path):
            if path.stat().st_mode & 0o077:
                log.warning("%s can be read by others than its owner: chmod 600 it", path)
        kek = _parse_kek(kek_pem, path=kek_path)
        try:
            return cls._decode(json.loads(ring_json), kek=kek)
        except (ValueError, KeyError, TypeError, InvalidTag, UnsupportedAlgorithm):
            raise KeyRingError(
                f"key ring at {directory} is corrupt or does not match its {KEK_FILE}"
            ) from None

    def save(self, directory: Path) -> None:
        """Write the ring to ``directory`` (created mode 0700).

        An existing ``kek.pem`` is never replaced by a different KEK: that would make every
        secret wrapped under the old one unreadable.
        """
        kek_path = directory / KEK_FILE
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if kek_path.exists():
                existing = _parse_kek(kek_path.read_bytes(), path=kek_path).public_key()
                if existing.public_numbers() != self._kek.public_key().public_numbers():
                    raise KeyRingError(f"{kek_path} holds another KEK; refusing to overwrite it")
            else:
                pem = self._kek.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                _write_private_file(kek_path, pem)
            _write_private_file(
                directory / KEYRING_FILE, json.dumps(self._encode(), indent=2).encode()
            )
        except OSError as error:
            raise KeyRingError(f"cannot write key ring at {directory}: {error.strerror}") from None

    def _encode(self) -> dict[str, Any]:
        public_key = self._kek.public_key()
        return {
            "format": _FORMAT,
            "primary_transport_kid": self._primary_kid,
            "primary_data_key_id": self._primary_data_key_id,
            "transport_keys": [
                {
                    "kid": key.kid,
                    "created_at": key.created_at.isoformat(),
                    "retires_at": None if key.retires_at is None else key.retires_at.isoformat(),
                    "private_key": _wrap(
                        key.private_key.private_bytes(
                            serialization.Encoding.DER,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption(),
                        ),
                        slot=f"transport-key:{key.kid}",
                        kek=public_key,
                    ),
                }
                for key in self._transport.values()
            ],
            "data_keys": [
                {
                    "key_id": key.key_id,
                    "created_at": key.created_at.isoformat(),
                    "key": _wrap(key.key, slot=f"data-key:{key.key_id}", kek=public_key),
                }
                for key in self._data.values()
            ],
            "blind_index_key": _wrap(self._blind_index_key, slot="blind-index-key", kek=public_key),
            "token_signing_key": _wrap(
                self._token_signing_key, slot="token-signing-key", kek=public_key
            ),
        }

    @classmethod
    def _decode(cls, document: Any, *, kek: RSAPrivateKey) -> Self:
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            raise ValueError("not a key ring")
        transport_keys = []
        for item in document["transport_keys"]:
            kid = _typed(item["kid"], str)
            private_key = serialization.load_der_private_key(
                _unwrap(item["private_key"], slot=f"transport-key:{kid}", kek=kek), password=None
            )
            if not isinstance(private_key, RSAPrivateKey):
                raise ValueError("transport keys must be RSA")
            retires_at = item["retires_at"]
            transport_keys.append(
                TransportKey(
                    kid=kid,
                    private_key=private_key,
                    created_at=_parse_time(item["created_at"]),
                    retires_at=None if retires_at is None else _parse_time(retires_at),
                )
            )
        data_keys = [
            DataKey(
                key_id=(key_id := _typed(item["key_id"], int)),
                key=_unwrap(item["key"], slot=f"data-key:{key_id}", kek=kek),
                created_at=_parse_time(item["created_at"]),
            )
            for item in document["data_keys"]
        ]
        return cls(
            kek=kek,
            transport_keys=transport_keys,
            data_keys=data_keys,
            primary_kid=_typed(document["primary_transport_kid"], str),
            primary_data_key_id=_typed(document["primary_data_key_id"], int),
            blind_index_key=_unwrap(document["blind_index_key"], slot="blind-index-key", kek=kek),
            token_signing_key=_unwrap(
                document["token_signing_key"], slot="token-signing-key", kek=kek
            ),
        )


def load_or_create(
    directory: Path, *, create: bool, now: datetime, rsa_bits: int = 3072
) -> tuple[KeyRing, bool]:
    """The ring in ``directory`` and whether it was just created.

    A missing ring is generated and saved when ``create`` is true (development and tests);
    otherwise it is a :class:`KeyRingError`, because a production server that silently made
    new keys would lose access to everything encrypted under the old ones.
    """
    if (directory / KEK_FILE).exists() or (directory / KEYRING_FILE).exists():
        return KeyRing.load(directory), False
    if not create:
        raise KeyRingError(f"no key ring at {directory}: run `jikuai keys generate`")
    ring = KeyRing.generate(now=now, rsa_bits=rsa_bits)
    ring.save(directory)
    return ring, True


def rotate(directory: Path, *, now: datetime, retirement: timedelta) -> KeyRing:
    """Rotate the ring in ``directory`` in place, under an exclusive lock on the directory, so
    that two operators rotating at once both take effect instead of one overwriting the other."""
    with _exclusive(directory):
        rotated = KeyRing.load(directory).rotated(now=now, retirement=retirement)
        rotated.save(directory)
    return rotated


@contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    try:
        handle = os.open(directory / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as error:
        raise KeyRingError(f"cannot lock key ring at {directory}: {error.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _new_transport_key(*, now: datetime, rsa_bits: int, taken: set[str]) -> TransportKey:
    day = now.astimezone(UTC).strftime("%Y%m%d")
    kid = f"t-{day}-{secrets.token_hex(3)}"
    while kid in taken:
        kid = f"t-{day}-{secrets.token_hex(3)}"
    return TransportKey(
        kid=kid,
        private_key=rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits),
        created_at=now,
        retires_at=None,
    )


def _new_data_key(*, now: datetime, taken: set[int]) -> DataKey:
    key_id = 0
    while key_id == 0 or key_id in taken:
        key_id = secrets.randbits(32)
    return DataKey(key_id=key_id, key=AESGCM.generate_key(bit_length=256), created_at=now)


def _wrap(secret: bytes, *, slot: str, kek: rsa.RSAPublicKey) -> dict[str, str]:
    wrapping_key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(12)
    ciphertext = AESGCM(wrapping_key).encrypt(nonce, secret, _slot_aad(slot))
    return {
        "ek": base64.b64encode(kek.encrypt(wrapping_key, _OAEP)).decode("ascii"),
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "ct": base64.b64encode(ciphertext).decode("ascii"),
    }


def _unwrap(wrapped: Any, *, slot: str, kek: RSAPrivateKey) -> bytes:
    wrapping_key = kek.decrypt(base64.b64decode(_typed(wrapped["ek"], str), validate=True), _OAEP)
    return AESGCM(wrapping_key).decrypt(
        base64.b64decode(_typed(wrapped["nonce"], str), validate=True),
        base64.b64decode(_typed(wrapped["ct"], str), validate=True),
        _slot_aad(slot),
    )


def _slot_aad(slot: str) -> bytes:
    return b"jikuai keyring v1|" + slot.encode()


def _typed(value: Any, kind: type[_T]) -> _T:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"expected {kind.__name__}")
    return value


def _parse_time(value: Any) -> datetime:
    moment = datetime.fromisoformat(_typed(value, str))
    _require_aware(moment)
    return moment


def _parse_kek(pem: bytes, *, path: Path) -> RSAPrivateKey:
    try:
        kek = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyRingError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(kek, RSAPrivateKey) or kek.key_size < _MIN_RSA_BITS:
        raise KeyRingError(f"{path} must hold an RSA key of at least {_MIN_RSA_BITS} bits")
    return kek


def _write_private_file(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` atomically, readable by the owner only."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

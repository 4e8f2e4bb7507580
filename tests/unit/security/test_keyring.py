import base64
import json
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from joserfc.jwk import RSAKey

from jikuai.security import KeyRing, KeyRingError, load_or_create, rotate
from jikuai.security.envelope import KEY_ALGORITHM
from jikuai.security.keys import KEK_FILE, KEYRING_FILE


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def saved(ring: KeyRing, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ring") / "keys"
    ring.save(directory)
    return directory


def test_new_ring_has_one_primary_of_each_kind(ring: KeyRing, now: datetime) -> None:
    infos = ring.describe(now=now)
    assert [(info.kind, info.status) for info in infos] == [
        ("transport", "primary"),
        ("data", "primary"),
    ]
    assert infos[0].key_id == ring.primary_transport_key.kid
    assert infos[1].key_id == str(ring.primary_data_key.key_id)
    assert ring.primary_transport_key.kid.startswith("t-20261129-")
    assert 0 < ring.primary_data_key.key_id < 2**32
    assert len(ring.blind_index_key) == len(ring.token_signing_key) == 32
    assert ring.blind_index_key != ring.token_signing_key


def test_lookups(ring: KeyRing, now: datetime) -> None:
    primary = ring.primary_transport_key
    assert ring.transport_key(primary.kid, now=now) is primary
    assert ring.transport_key("t-19700101-000000", now=now) is None
    assert ring.data_key(ring.primary_data_key.key_id) is ring.primary_data_key
    assert ring.data_key(0) is None


def test_secrets_stay_out_of_reprs(ring: KeyRing) -> None:
    shown = repr(ring) + repr(ring.primary_data_key) + repr(ring.primary_transport_key)
    assert ring.primary_data_key.key.hex() not in shown
    assert "key=" not in shown
    assert "private_key" not in shown


def test_public_forms_of_the_transport_key_agree(ring: KeyRing) -> None:
    transport = ring.primary_transport_key
    expected = transport.private_key.public_key().public_numbers()
    from_pem = serialization.load_pem_public_key(transport.public_key_pem.encode())
    assert isinstance(from_pem, RSAPublicKey)
    assert from_pem.public_numbers() == expected
    jwk: dict[str, str | list[str]] = dict(transport.public_jwk)
    assert {k: jwk[k] for k in ("kty", "kid", "alg", "use")} == {
        "kty": "RSA",
        "kid": transport.kid,
        "alg": KEY_ALGORITHM,
        "use": "enc",
    }
    assert jwk["e"] == "AQAB"
    imported = RSAKey.import_key(jwk).public_key
    assert isinstance(imported, RSAPublicKey)
    assert imported.public_numbers() == expected


def test_rsa_keys_below_2048_bits_are_refused(now: datetime) -> None:
    with pytest.raises(ValueError, match="2048"):
        KeyRing.generate(now=now, rsa_bits=1024)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        KeyRing.generate(now=datetime(2026, 11, 29), rsa_bits=2048)


def test_rotation(ring: KeyRing, now: datetime) -> None:
    later = now + timedelta(days=90)
    rotated = ring.rotated(now=later, retirement=timedelta(days=1))
    old, new = ring.primary_transport_key, rotated.primary_transport_key

    assert new.kid != old.kid
    assert new.private_key.key_size == old.private_key.key_size
    assert rotated.primary_data_key.key_id != ring.primary_data_key.key_id
    assert rotated.data_key(ring.primary_data_key.key_id) == ring.primary_data_key
    assert rotated.blind_index_key == ring.blind_index_key
    assert rotated.token_signing_key == ring.token_signing_key
    previous = rotated.transport_key(old.kid, now=later)
    assert previous is not None
    assert previous.retires_at == later + timedelta(days=1)
    assert ring.primary_transport_key.retires_at is None  # the original ring is unchanged

    statuses = {
        info.key_id: info.status for info in rotated.describe(now=later + timedelta(days=2))
    }
    assert statuses == {
        old.kid: "retired",
        new.kid: "primary",
        str(ring.primary_data_key.key_id): "decrypt-only",
        str(rotated.primary_data_key.key_id): "primary",
    }
    assert rotated.describe(now=later)[0].status == "decrypt-only"
    assert rotated.transport_key(old.kid, now=later + timedelta(days=1)) is None


def test_rotation_drops_transport_keys_past_retirement(ring: KeyRing, now: datetime) -> None:
    first = ring.rotated(now=now, retirement=timedelta(hours=1))
    second = first.rotated(now=now + timedelta(hours=2), retirement=timedelta(hours=1))
    kids = [info.key_id for info in second.describe(now=now) if info.kind == "transport"]
    assert kids == [first.primary_transport_key.kid, second.primary_transport_key.kid]
    assert len([info for info in second.describe(now=now) if info.kind == "data"]) == 3


def test_negative_retirement_is_refused(ring: KeyRing, now: datetime) -> None:
    with pytest.raises(ValueError, match="retirement"):
        ring.rotated(now=now, retirement=timedelta(seconds=-1))


def test_save_and_load_round_trip(ring: KeyRing, saved: Path, now: datetime) -> None:
    loaded = KeyRing.load(saved)

    assert loaded.describe(now=now) == ring.describe(now=now)
    assert loaded.primary_data_key == ring.primary_data_key
    assert loaded.blind_index_key == ring.blind_index_key
    assert loaded.token_signing_key == ring.token_signing_key
    original, restored = ring.primary_transport_key, loaded.primary_transport_key
    assert restored.private_key.private_numbers() == original.private_key.private_numbers()


def test_saved_files_are_private(saved: Path) -> None:
    assert mode(saved) == 0o700
    assert mode(saved / KEK_FILE) == 0o600
    assert mode(saved / KEYRING_FILE) == 0o600
    assert sorted(path.name for path in saved.iterdir()) == [KEK_FILE, KEYRING_FILE]


def test_loading_warns_about_key_files_others_can_read(
    saved: Path, caplog: pytest.LogCaptureFixture
) -> None:
    KeyRing.load(saved)
    assert caplog.records == []

    (saved / KEYRING_FILE).chmod(0o644)
    try:
        KeyRing.load(saved)
    finally:
        (saved / KEYRING_FILE).chmod(0o600)

    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert KEYRING_FILE in caplog.records[0].getMessage()


def test_saved_ring_holds_no_plaintext_secret(ring: KeyRing, saved: Path) -> None:
    document = (saved / KEYRING_FILE).read_text()
    for secret in (ring.blind_index_key, ring.token_signing_key, ring.primary_data_key.key):
        assert base64.b64encode(secret).decode() not in document
        assert secret.hex() not in document


def test_rotated_ring_saves_over_its_predecessor(
    ring: KeyRing, tmp_path: Path, now: datetime
) -> None:
    ring.save(tmp_path)
    rotated = ring.rotated(now=now, retirement=timedelta(hours=1))
    rotated.save(tmp_path)
    assert KeyRing.load(tmp_path).describe(now=now) == rotated.describe(now=now)


def test_save_refuses_to_replace_another_kek(ring: KeyRing, tmp_path: Path, now: datetime) -> None:
    KeyRing.generate(now=now, rsa_bits=2048).save(tmp_path)
    with pytest.raises(KeyRingError, match="another KEK"):
        ring.save(tmp_path)


def test_missing_ring_is_a_key_ring_error(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match="jikuai keys generate"):
        KeyRing.load(tmp_path / "keys")


@pytest.mark.parametrize("missing", [KEK_FILE, KEYRING_FILE])
def test_incomplete_ring_is_a_key_ring_error(saved: Path, tmp_path: Path, missing: str) -> None:
    for name in (KEK_FILE, KEYRING_FILE):
        if name != missing:
            (tmp_path / name).write_bytes((saved / name).read_bytes())
    with pytest.raises(KeyRingError, match=f"{missing} is missing"):
        KeyRing.load(tmp_path)


def corrupt_json(document: str) -> str:
    return document[: len(document) // 2]


def corrupt_ciphertext(document: str) -> str:
    ring = json.loads(document)
    wrapped = base64.b64decode(ring["blind_index_key"]["ct"])
    ring["blind_index_key"]["ct"] = base64.b64encode(bytes([wrapped[0] ^ 1]) + wrapped[1:]).decode()
    return json.dumps(ring)


def swap_slots(document: str) -> str:
    ring = json.loads(document)
    ring["blind_index_key"], ring["token_signing_key"] = (
        ring["token_signing_key"],
        ring["blind_index_key"],
    )
    return json.dumps(ring)


def drop_primary(document: str) -> str:
    ring = json.loads(document)
    ring["primary_data_key_id"] += 1
    return json.dumps(ring)


def wrong_type(document: str) -> str:
    ring = json.loads(document)
    ring["data_keys"][0]["key_id"] = str(ring["data_keys"][0]["key_id"])
    return json.dumps(ring)


@pytest.mark.parametrize(
    "damage",
    [
        corrupt_json,
        corrupt_ciphertext,
        swap_slots,
        drop_primary,
        wrong_type,
        lambda _: "[]",
        lambda _: "\udcff",
    ],
)
def test_corrupt_ring_is_a_key_ring_error(
    saved: Path, tmp_path: Path, damage: Callable[[str], str]
) -> None:
    (tmp_path / KEK_FILE).write_bytes((saved / KEK_FILE).read_bytes())
    (tmp_path / KEYRING_FILE).write_bytes(
        damage((saved / KEYRING_FILE).read_text()).encode("utf-8", "surrogateescape")
    )
    with pytest.raises(KeyRingError, match="corrupt"):
        KeyRing.load(tmp_path)


def test_ring_under_another_kek_is_a_key_ring_error(
    saved: Path, tmp_path: Path, now: datetime
) -> None:
    KeyRing.generate(now=now, rsa_bits=2048).save(tmp_path)
    (tmp_path / KEYRING_FILE).write_bytes((saved / KEYRING_FILE).read_bytes())
    with pytest.raises(KeyRingError, match="does not match"):
        KeyRing.load(tmp_path)


def test_unparsable_kek_is_a_key_ring_error(saved: Path, tmp_path: Path) -> None:
    (tmp_path / KEK_FILE).write_text("-----BEGIN PRIVATE KEY-----\nnope\n")
    (tmp_path / KEYRING_FILE).write_bytes((saved / KEYRING_FILE).read_bytes())
    with pytest.raises(KeyRingError, match=KEK_FILE):
        KeyRing.load(tmp_path)


def test_load_or_create(tmp_path: Path, now: datetime) -> None:
    directory = tmp_path / "data" / "keys"
    with pytest.raises(KeyRingError, match="jikuai keys generate"):
        load_or_create(directory, create=False, now=now, rsa_bits=2048)
    assert not directory.exists()

    created, was_created = load_or_create(directory, create=True, now=now, rsa_bits=2048)
    loaded, was_loaded = load_or_create(
        directory, create=False, now=now + timedelta(days=1), rsa_bits=2048
    )

    assert (was_created, was_loaded) == (True, False)
    assert loaded.describe(now=now) == created.describe(now=now)
    assert loaded.primary_transport_key.created_at == now


def test_concurrent_rotations_both_take_effect(tmp_path: Path, now: datetime) -> None:
    directory = tmp_path / "keys"
    original = KeyRing.generate(now=now, rsa_bits=2048)
    original.save(directory)

    with ThreadPoolExecutor(max_workers=2) as pool:
        rotations = list(
            pool.map(lambda _: rotate(directory, now=now, retirement=timedelta(hours=1)), range(2))
        )

    final = KeyRing.load(directory)
    transport = [info for info in final.describe(now=now) if info.kind == "transport"]
    assert len(transport) == 3
    assert final.primary_transport_key.kid in {ring.primary_transport_key.kid for ring in rotations}
    assert final.data_key(original.primary_data_key.key_id) is not None

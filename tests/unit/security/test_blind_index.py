import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from jikuai.security import BlindIndex

ROOT = bytes(range(32))


def test_index_is_hmac_sha256_under_an_hkdf_key_per_kind() -> None:
    kind_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"jikuai blind index phone"
    ).derive(ROOT)
    expected = hmac.new(kind_key, b"13812345678", hashlib.sha256).digest()
    assert BlindIndex(ROOT).compute("phone", "13812345678") == expected


def test_index_is_deterministic_and_32_bytes() -> None:
    index = BlindIndex(ROOT)
    first = index.compute("id_number", "11010519491231002X")
    assert len(first) == 32
    assert index.compute("id_number", "11010519491231002X") == first
    assert BlindIndex(ROOT).compute("id_number", "11010519491231002X") == first


def test_kinds_values_and_keys_separate_indexes() -> None:
    index = BlindIndex(ROOT)
    indexes = {
        index.compute("id_number", "13812345678"),
        index.compute("phone", "13812345678"),
        index.compute("phone", "13812345679"),
        BlindIndex(bytes(32)).compute("phone", "13812345678"),
    }
    assert len(indexes) == 4


def test_value_is_not_normalised() -> None:
    index = BlindIndex(ROOT)
    assert index.compute("id_number", "11010519491231002x") != index.compute(
        "id_number", "11010519491231002X"
    )


def test_short_root_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        BlindIndex(bytes(16))

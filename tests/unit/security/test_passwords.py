import pytest

from jikuai.security import PasswordHasher


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)


def test_hash_is_salted_argon2id(hasher: PasswordHasher) -> None:
    first, second = hasher.hash("correct horse"), hasher.hash("correct horse")
    assert first.startswith("$argon2id$")
    assert "correct horse" not in first
    assert first != second


def test_verify(hasher: PasswordHasher) -> None:
    stored = hasher.hash("密码 correct horse")
    assert hasher.verify(stored, "密码 correct horse")
    assert not hasher.verify(stored, "密码 correct horsE")
    assert not hasher.verify(stored, "")


def test_unknown_user_never_verifies(hasher: PasswordHasher) -> None:
    assert not hasher.verify(None, "")
    assert not hasher.verify(None, "anything")


@pytest.mark.parametrize("stored", ["", "garbage", "$argon2id$v=19$m=abc", "é", "$2b$12$abc"])
def test_malformed_hash_never_verifies(hasher: PasswordHasher, stored: str) -> None:
    assert not hasher.verify(stored, "garbage")


def test_needs_rehash(hasher: PasswordHasher) -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost_kib=16, parallelism=1)
    assert not hasher.needs_rehash(hasher.hash("pw"))
    assert hasher.needs_rehash(stronger.hash("pw"))
    assert hasher.needs_rehash("garbage")
    assert hasher.verify(stronger.hash("pw"), "pw")

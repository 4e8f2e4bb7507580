from datetime import UTC, datetime

import pytest

from jikuai.security import KeyRing

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def ring() -> KeyRing:
    """One key ring for every test that only reads it (RSA key generation is slow)."""
    return KeyRing.generate(now=NOW, rsa_bits=2048)


@pytest.fixture
def now() -> datetime:
    return NOW

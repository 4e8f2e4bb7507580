"""Password hashing with argon2id.

Verification never raises: a wrong password and a malformed stored hash are both just
``False``. When there is no hash at all (the user does not exist) the password is checked
against a dummy hash made with the same parameters, so the time a login takes does not tell
whether the account exists.
"""

import secrets

import argon2
from argon2.exceptions import VerificationError


class PasswordHasher:
    """Hashes and verifies passwords.

    The defaults are RFC 9106's low-memory recommendation (64 MiB, three passes) with one
    lane, since a login request has one core to itself at best.
    """

    def __init__(
        self, *, time_cost: int = 3, memory_cost_kib: int = 65536, parallelism: int = 1
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; ``None`` (an unknown user) costs the same and fails."""
        try:
            self._hasher.verify(
                self._dummy_hash if password_hash is None else password_hash, password
            )
        except (VerificationError, ValueError):
            return False
        return password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters (rehash it after a good login)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except ValueError:
            return True

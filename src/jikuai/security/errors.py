"""The four failures of the security package.

Each error stands for a whole family of failures and, except for the key ring (a
configuration problem an operator must be able to fix), says nothing about which check
failed: a caller who learns *why* an envelope, a ciphertext or a token was refused learns
something about the secret behind it.
"""


class EnvelopeInvalid(Exception):
    """A wire envelope was refused: malformed, wrong algorithm, unknown key, stale, tampered."""

    def __init__(self, message: str = "envelope invalid") -> None:
        super().__init__(message)


class DecryptionError(Exception):
    """A value encrypted at rest could not be decrypted."""

    def __init__(self, message: str = "decryption failed") -> None:
        super().__init__(message)


class KeyRingError(Exception):
    """The key ring is missing, unreadable or corrupt; the message tells the operator what to do."""


class InvalidToken(Exception):
    """An access token was refused: bad signature, expired, malformed or not ours."""

    def __init__(self, message: str = "invalid token") -> None:
        super().__init__(message)

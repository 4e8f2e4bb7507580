"""The Unified Social Credit Code (统一社会信用代码, GB 32100-2015) every registered business has.

Eighteen characters from a 31-character alphabet without I, O, S, V and Z: the registering
authority, the kind of entity, the 6-digit area, the 9-character organisation code and a check
character, computed modulo 31 over the first seventeen. Only the shape and the check character
are verified: area and organisation codes are not looked up.
"""

from __future__ import annotations

import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
LENGTH = 18


def normalize_uscc(raw: str) -> str:
    """The code as stored: ASCII (full-width input folded), upper-case, no surrounding space."""
    return unicodedata.normalize("NFKC", raw).strip().upper()


def uscc_check_character(first_17: str) -> str:
    total = sum(_VALUES[char] * weight for char, weight in zip(first_17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def parse_uscc(raw: str) -> str | None:
    """The normalised code, or None when it is not a well-formed one."""
    code = normalize_uscc(raw)
    if len(code) != LENGTH or any(char not in _VALUES for char in code):
        return None
    return code if uscc_check_character(code[:17]) == code[17] else None

"""Checks for the three personal identifiers a customer gives us.

ID numbers follow GB 11643-1999: 17 digits (6 area, 8 birth date, 3 sequence, the last of them odd
for men) and a check character from ISO 7064 MOD 11-2. Area codes are not checked against a list:
codes change, and old cards stay valid. Input is NFKC-normalised first, so full-width digits
typed on a phone keyboard become ASCII; digits of other scripts are refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARACTERS = "10X98765432"
_ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE_PATTERN = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_NAME_PUNCTUATION = frozenset("·•.-' ")
NAME_MIN_LENGTH = 2
NAME_MAX_LENGTH = 30


class Gender(StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A valid resident ID number and what it says about its holder."""

    value: str
    birth_date: date
    gender: Gender


def id_check_character(first_17_digits: str) -> str:
    total = sum(
        int(digit) * weight for digit, weight in zip(first_17_digits, _ID_WEIGHTS, strict=True)
    )
    return _ID_CHECK_CHARACTERS[total % 11]


def normalize_id_number(raw: str) -> str:
    """An ID number as stored and indexed: ASCII digits, upper-case X, no surrounding space."""
    return unicodedata.normalize("NFKC", raw).strip().upper()


def parse_id_number(raw: str, *, today: date) -> IdNumber | None:
    """The normalised ID number (upper-case X), or None when it is not a real one."""
    value = normalize_id_number(raw)
    if not _ID_PATTERN.fullmatch(value) or id_check_character(value[:17]) != value[17]:
        return None
    try:
        birth_date = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    if birth_date.year < 1900 or birth_date > today:
        return None
    gender = Gender.MALE if int(value[16]) % 2 else Gender.FEMALE
    return IdNumber(value=value, birth_date=birth_date, gender=gender)


def normalize_mobile(raw: str) -> str | None:
    """A mainland mobile number as its 11 digits, or None. Accepts +86 and separators."""
    digits = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if _MOBILE_PATTERN.fullmatch(digits) else None


def normalize_name(raw: str) -> str | None:
    """A person's name, NFC-normalised and trimmed, or None when it cannot be one."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not NAME_MIN_LENGTH <= len(name) <= NAME_MAX_LENGTH:
        return None
    if not all(char.isalpha() or char in _NAME_PUNCTUATION for char in name):
        return None
    return name


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on `day`."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)

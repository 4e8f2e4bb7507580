"""One-time redemption codes: 18 digits under our own prefix, with a Luhn check digit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jikuai.domain.points.codes import LENGTH, PREFIX, is_well_formed, luhn_digit, new_code

# Prefixes the scanners already route elsewhere: WeChat Pay, Alipay, UnionPay.
OTHERS = {*(str(n) for n in range(10, 16)), *(str(n) for n in range(25, 31)), "62"}


def luhn_valid(number: str) -> bool:
    """The Luhn check, written independently of the code under test."""
    digits = [int(char) for char in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * digit, 10)) for digit in digits[1::2])
    return total % 10 == 0


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("7992739871", "3"),  # the textbook example
        ("0", "0"),
        ("1", "8"),
        ("9", "1"),
        ("88", "5"),
        ("411111111111111", "1"),  # a Visa test number
        ("37828224631000", "5"),  # an American Express one
    ],
)
def test_the_luhn_digit(digits: str, check: str) -> None:
    assert luhn_digit(digits) == check
    assert luhn_valid(digits + check)


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_the_luhn_digit_always_completes_a_valid_number(digits: str) -> None:
    assert luhn_valid(digits + luhn_digit(digits))


def test_new_codes_are_well_formed_and_ours() -> None:
    codes = [new_code() for _ in range(2000)]

    for code in codes:
        assert len(code) == LENGTH == 18
        assert code.isascii()
        assert code.isdigit()
        assert code.startswith(PREFIX)
        assert PREFIX == "88"
        assert luhn_valid(code)
        assert is_well_formed(code)
        assert code[:2] not in OTHERS
    assert len(set(codes)) == len(codes)


def test_our_prefix_is_none_of_the_payment_networks() -> None:
    assert PREFIX not in OTHERS
    assert not any(PREFIX.startswith(other) for other in OTHERS)


def _with_check(body: str) -> str:
    return body + luhn_digit(body)


GOOD = _with_check("88" + "123456789012345")


@pytest.mark.parametrize(
    "code",
    [
        GOOD[:-1] + str((int(GOOD[-1]) + 1) % 10),  # wrong check digit
        GOOD[:5] + GOOD[6] + GOOD[5] + GOOD[7:],  # two digits swapped
        _with_check("13" + "123456789012345"),  # WeChat Pay's prefix, check digit right
        _with_check("62" + "123456789012345"),  # UnionPay's
        _with_check("87" + "123456789012345"),
        _with_check("88" + "12345678901234"),  # 17 digits
        _with_check("88" + "1234567890123456"),  # 19 digits
        GOOD[:-1],
        "",
        GOOD[:10] + "a" + GOOD[11:],
        GOOD[:10] + " " + GOOD[11:],
        GOOD.replace("1", "１", 1),  # a full-width digit: a digit, but not ASCII
        " " + GOOD,
        GOOD + "\n",
    ],
)
def test_anything_else_is_not_well_formed(code: str) -> None:
    assert code != GOOD
    assert not is_well_formed(code)


def test_a_good_code_is_well_formed() -> None:
    assert is_well_formed(GOOD)

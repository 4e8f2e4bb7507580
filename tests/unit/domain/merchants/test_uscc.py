"""Unified Social Credit Codes (GB 32100-2015): shape, alphabet and the check character."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jikuai.domain.merchants.uscc import ALPHABET, parse_uscc, uscc_check_character


@pytest.mark.parametrize("code", ["91110000600037341L", "91350100M000100Y43"])
def test_a_valid_code_parses(code: str) -> None:
    assert parse_uscc(code) == code


def test_lower_case_and_surrounding_space_are_accepted_and_normalised() -> None:
    assert parse_uscc("  91350100m000100y43 ") == "91350100M000100Y43"


def test_full_width_characters_typed_on_a_phone_are_folded() -> None:
    assert parse_uscc("９１１１００００６０００３７３４１Ｌ") == "91110000600037341L"


@pytest.mark.parametrize("check", sorted(set(ALPHABET) - {"L"}))
def test_any_other_check_character_is_refused(check: str) -> None:
    assert parse_uscc("91110000600037341" + check) is None


@pytest.mark.parametrize("code", ["", "91110000600037341", "91110000600037341LL", "9" * 30])
def test_a_code_of_another_length_is_refused(code: str) -> None:
    assert parse_uscc(code) is None


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_a_letter_outside_the_alphabet_is_refused(letter: str) -> None:
    first_17 = "9111000060003734" + letter
    assert parse_uscc(first_17 + "0") is None
    assert all(parse_uscc(first_17 + check) is None for check in ALPHABET)


def test_the_check_character_of_the_published_examples() -> None:
    assert uscc_check_character("91110000600037341") == "L"
    assert uscc_check_character("91350100M000100Y4") == "3"


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_every_17_characters_have_exactly_one_check_character(first_17: str) -> None:
    valid = [check for check in ALPHABET if parse_uscc(first_17 + check) is not None]
    assert valid == [uscc_check_character(first_17)]


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17), st.integers(0, 16))
def test_changing_one_character_is_detected(first_17: str, position: int) -> None:
    code = first_17 + uscc_check_character(first_17)
    for other in ALPHABET:
        if other != code[position]:
            changed = code[:position] + other + code[position + 1 :]
            assert parse_uscc(changed) is None

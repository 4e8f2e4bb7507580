from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jikuai.security import mask_bank_card, mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("mask", "value", "shown"),
    [
        (mask_id_number, "11010519491231002X", "1****************X"),
        (mask_id_number, "110105491231002", "1*************2"),
        (mask_id_number, "abc", "a*c"),
        (mask_id_number, "ab", "**"),
        (mask_id_number, "", ""),
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "12345678", "123*5678"),
        (mask_phone, "1234567", "*****67"),
        (mask_phone, "123", "*23"),
        (mask_phone, "12", "**"),
        (mask_name, "王明", "*明"),
        (mask_name, "欧阳娜娜", "*娜"),
        (mask_name, "买买提·艾力", "*力"),
        (mask_name, "王", "*"),
        (mask_name, "", "*"),
        (mask_bank_card, "6222021234567890123", "622202*********0123"),
        (mask_bank_card, "6222021234567890", "622202******7890"),
        (mask_bank_card, "12345678901", "123456*8901"),
        (mask_bank_card, "1234567890", "******7890"),
        (mask_bank_card, "12345", "*2345"),
        (mask_bank_card, "1234", "****"),
    ],
)
def test_examples(mask: Callable[[str], str], value: str, shown: str) -> None:
    assert mask(value) == shown


def shown_positions(value: str, masked: str) -> list[int]:
    """Positions where the mask shows the original, after checking every other one is a star."""
    assert len(masked) == len(value)
    shown = [i for i, char in enumerate(masked) if char != "*"]
    assert all(masked[i] == value[i] for i in shown)
    return shown


def assert_shape(value: str, masked: str, *, head: int, tail: int) -> None:
    """The mask is ``head`` characters, stars, ``tail`` characters, and hides at least one."""
    expected = value[:head] + "*" * (len(value) - head - tail) + (value[-tail:] if tail else "")
    assert masked == expected
    assert len(value) - head - tail >= 1 or value == ""


text = st.text(alphabet=st.characters(exclude_characters="*"), max_size=40)


@given(text)
def test_id_number_shows_at_most_first_and_last(value: str) -> None:
    masked = mask_id_number(value)
    assert len(shown_positions(value, masked)) <= 2
    if len(value) >= 3:
        assert_shape(value, masked, head=1, tail=1)
    else:
        assert masked == "*" * len(value)


@given(text)
def test_phone_shows_at_most_seven_characters(value: str) -> None:
    masked = mask_phone(value)
    assert len(shown_positions(value, masked)) <= 7
    if len(value) >= 8:
        assert_shape(value, masked, head=3, tail=4)
    elif len(value) >= 3:
        assert_shape(value, masked, head=0, tail=2)
    else:
        assert masked == "*" * len(value)


@given(text)
def test_bank_card_shows_at_most_first_six_and_last_four(value: str) -> None:
    masked = mask_bank_card(value)
    assert len(shown_positions(value, masked)) <= 10
    if len(value) >= 11:
        assert_shape(value, masked, head=6, tail=4)
    elif len(value) >= 5:
        assert_shape(value, masked, head=0, tail=4)
    else:
        assert masked == "*" * len(value)


@given(text)
def test_name_is_one_star_and_at_most_the_last_character(value: str) -> None:
    masked = mask_name(value)
    assert masked.startswith("*")
    assert len(masked) <= 2
    if len(value) >= 2:
        assert masked == "*" + value[-1]
    else:
        assert masked == "*"

"""Resident ID numbers (GB 11643-1999), mainland mobile numbers, names and ages."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jikuai.domain.customers.identity_numbers import (
    NAME_MAX_LENGTH,
    Gender,
    IdNumber,
    age_on,
    id_check_character,
    normalize_mobile,
    normalize_name,
    parse_id_number,
)

TODAY = date(2026, 11, 29)
CHECK_CHARACTERS = "0123456789X"


def id_number(area: str, birth: date | str, sequence: str) -> str:
    """A number with the right check character for its 17 digits."""
    born = birth if isinstance(birth, str) else birth.strftime("%Y%m%d")
    digits = f"{area}{born}{sequence}"
    return digits + id_check_character(digits)


def to_script(ascii_digits: str, zero: str) -> str:
    """The same digits in another script whose zero is `zero` (e.g. full-width)."""
    return "".join(chr(ord(zero) + int(char)) if char.isdigit() else char for char in ascii_digits)


# ID numbers


@pytest.mark.parametrize(
    ("raw", "birth_date", "gender"),
    [
        ("11010519491231002X", date(1949, 12, 31), Gender.FEMALE),
        ("360426199101010071", date(1991, 1, 1), Gender.MALE),
    ],
)
def test_a_valid_number_parses(raw: str, birth_date: date, gender: Gender) -> None:
    assert parse_id_number(raw, today=TODAY) == IdNumber(raw, birth_date, gender)


def test_a_birth_year_before_1900_is_refused_though_the_check_character_is_right() -> None:
    raw = "440524188001010014"
    assert id_check_character(raw[:17]) == raw[17]

    assert parse_id_number(raw, today=TODAY) is None


def test_a_wrong_check_character_is_refused() -> None:
    assert parse_id_number("110105194912310021", today=TODAY) is None


def test_a_lower_case_x_is_accepted_and_normalised() -> None:
    parsed = parse_id_number("11010519491231002x", today=TODAY)

    assert parsed is not None
    assert parsed.value == "11010519491231002X"


def test_surrounding_whitespace_is_ignored() -> None:
    parsed = parse_id_number(" 360426199101010071\n", today=TODAY)

    assert parsed is not None
    assert parsed.value == "360426199101010071"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "36042619910101007",  # 17 characters
        "3604261991010100711",  # 19 characters
        "360426 199101010071",
        "36042619910101007Y",
        "X60426199101010071",
        "360426-19910101-0071",
    ],
)
def test_malformed_numbers_are_refused(raw: str) -> None:
    assert parse_id_number(raw, today=TODAY) is None


@pytest.mark.parametrize(
    "born", ["20000230", "19990229", "19000229", "20001301", "20000001", "20000100", "20000431"]
)
def test_impossible_birth_dates_are_refused(born: str) -> None:
    assert parse_id_number(id_number("220102", born, "123"), today=TODAY) is None


def test_the_29th_of_february_of_a_leap_year_is_a_birth_date() -> None:
    parsed = parse_id_number(id_number("220102", "20000229", "123"), today=TODAY)

    assert parsed is not None
    assert parsed.birth_date == date(2000, 2, 29)


def test_a_birth_date_after_today_is_refused_and_today_is_allowed() -> None:
    assert (
        parse_id_number(id_number("220102", TODAY + timedelta(days=1), "123"), today=TODAY) is None
    )

    born_today = parse_id_number(id_number("220102", TODAY, "123"), today=TODAY)
    assert born_today is not None
    assert born_today.birth_date == TODAY


def test_the_first_of_january_1900_is_the_earliest_birth_date() -> None:
    assert parse_id_number(id_number("220102", "19000101", "123"), today=TODAY) is not None
    assert parse_id_number(id_number("220102", "18991231", "123"), today=TODAY) is None


@pytest.mark.parametrize(
    ("sequence", "gender"),
    [("001", Gender.MALE), ("002", Gender.FEMALE), ("119", Gender.MALE), ("990", Gender.FEMALE)],
)
def test_the_seventeenth_digit_gives_the_gender(sequence: str, gender: Gender) -> None:
    parsed = parse_id_number(id_number("220102", "19800101", sequence), today=TODAY)

    assert parsed is not None
    assert parsed.gender is gender


@pytest.mark.parametrize("zero", ["０", "٠", "०"], ids=["full-width", "arabic-indic", "devanagari"])
def test_digits_of_other_scripts_are_refused_or_normalised_to_ascii(zero: str) -> None:
    # Only the first 17 in another script: the check character stays ASCII.
    raw = to_script("36042619910101007", zero) + "1"

    parsed = parse_id_number(raw, today=TODAY)

    assert parsed is None or parsed.value == "360426199101010071", parsed


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
areas = st.text(alphabet="0123456789", min_size=6, max_size=6)
sequences = st.text(alphabet="0123456789", min_size=3, max_size=3)


@given(areas, birth_dates, sequences)
def test_any_digits_with_a_real_date_and_the_check_character_parse(
    area: str, birth_date: date, sequence: str
) -> None:
    raw = id_number(area, birth_date, sequence)

    parsed = parse_id_number(raw, today=TODAY)

    expected_gender = Gender.MALE if int(sequence[-1]) % 2 else Gender.FEMALE
    assert parsed == IdNumber(raw, birth_date, expected_gender)


@given(areas, birth_dates, sequences, st.integers(min_value=0, max_value=17), st.data())
def test_changing_any_one_character_makes_a_number_invalid(
    area: str, birth_date: date, sequence: str, position: int, data: st.DataObject
) -> None:
    raw = id_number(area, birth_date, sequence)
    alphabet = CHECK_CHARACTERS if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([char for char in alphabet if char != raw[position]]))
    changed = raw[:position] + replacement + raw[position + 1 :]

    assert parse_id_number(changed, today=TODAY) is None


# Mobile numbers


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+8613812345678",
        "008613812345678",
        "8613812345678",
        "138-1234-5678",
        "138 1234 5678",
        "(138) 1234 5678",
        " 13812345678 ",
    ],
)
def test_mobile_numbers_are_normalised_to_eleven_digits(raw: str) -> None:
    assert normalize_mobile(raw) == "13812345678"


@pytest.mark.parametrize("second", "3456789")
def test_every_mobile_network_prefix_is_accepted(second: str) -> None:
    assert normalize_mobile(f"1{second}012345678") == f"1{second}012345678"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "138123456789",  # 12 digits
        "1381234567",  # 10 digits
        "12812345678",  # no such network
        "23812345678",
        "010-12345678",  # a Beijing landline
        "0431-8888 8888",  # a Changchun landline
        "+86 010 1234 5678",
        "+1 415 555 0100",
        "138_1234_5678",
        "138.1234.5678",
        "1381234567a",
        "+86 +86 13812345678",
    ],
)
def test_other_numbers_are_refused(raw: str) -> None:
    assert normalize_mobile(raw) is None


@pytest.mark.parametrize("zero", ["０", "٠"], ids=["full-width", "arabic-indic"])
def test_mobile_digits_of_other_scripts_are_refused_or_normalised_to_ascii(zero: str) -> None:
    raw = "13" + to_script("812345678", zero)

    assert normalize_mobile(raw) in (None, "13812345678")


# Names


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("王明", "王明"),
        ("张三丰", "张三丰"),
        ("买买提·艾力", "买买提·艾力"),
        ("  欧阳娜娜 ", "欧阳娜娜"),
        ("Mary-Jane O'Neil", "Mary-Jane O'Neil"),
        ("Jose\u0301 Li", "José Li"),  # decomposed accent, NFC-composed
        ("王" * NAME_MAX_LENGTH, "王" * NAME_MAX_LENGTH),
    ],
)
def test_names_are_trimmed_and_normalised(raw: str, name: str) -> None:
    assert normalize_name(raw) == name


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "王",
        "  王  ",
        "王" * (NAME_MAX_LENGTH + 1),
        "王明1",
        "王明２",
        "王\x00明",
        "王\n明",
        "王\t明",
        "王\u200b明",  # zero-width space
        "王\u202e明",  # right-to-left override
        "王明😀",
        "王明<script>",
        "王明@",
    ],
)
def test_names_that_cannot_be_names_are_refused(raw: str) -> None:
    assert normalize_name(raw) is None


# Ages


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2026, 3, 14), 25),
        (date(2026, 3, 15), 26),
        (date(2026, 3, 16), 26),
        (date(2000, 3, 15), 0),
        (date(2001, 3, 14), 0),
        (date(2001, 3, 15), 1),
    ],
)
def test_age_counts_completed_years(day: date, age: int) -> None:
    assert age_on(date(2000, 3, 15), day) == age


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2026, 2, 28), 25),
        (date(2026, 3, 1), 26),
        (date(2028, 2, 28), 27),
        (date(2028, 2, 29), 28),
        (date(2001, 2, 28), 0),
        (date(2001, 3, 1), 1),
    ],
)
def test_someone_born_on_the_29th_of_february_ages_on_the_1st_of_march_in_common_years(
    day: date, age: int
) -> None:
    assert age_on(date(2000, 2, 29), day) == age


def nth_birthday(birth_date: date, years: int) -> date:
    """The day of the `years`-th birthday; the 1st of March for 29 February in common years."""
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:
        return date(birth_date.year + years, 3, 1)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(min_value=0, max_value=80_000),
)
def test_age_is_the_number_of_birthdays_passed(birth_date: date, days_later: int) -> None:
    day = birth_date + timedelta(days=days_later)

    age = age_on(birth_date, day)

    assert age >= 0
    assert nth_birthday(birth_date, age) <= day < nth_birthday(birth_date, age + 1)

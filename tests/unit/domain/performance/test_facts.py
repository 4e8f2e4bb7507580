"""Daily facts from core banking: each row's fields checked on their own, every fault of a row
reported at once, subjects looked up once per chunk, and who may import."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jikuai.demo import demo_id_number
from jikuai.domain.customers.identity_numbers import Gender
from jikuai.domain.customers.model import Customer, Segment
from jikuai.domain.performance.facts import (
    MAX_KEY,
    MAX_ROWS,
    FactRow,
    RowError,
    RowField,
    admit,
    check_rows,
    parse_row,
)
from jikuai.domain.performance.indicators import Measure
from jikuai.domain.shared.errors import DomainError, ErrorCode, PermissionDenied
from jikuai.domain.tenancy.actors import Actor, ActorKind
from jikuai.domain.tenancy.model import Role, Staff

TODAY = date(2026, 11, 30)
INSTITUTION = uuid.uuid4()
ID_NUMBER = demo_id_number("220102", date(1980, 5, 17), 123)
OTHER_ID_NUMBER = demo_id_number("220102", date(1975, 2, 3), 456)


def row(number: int = 2, **changes: str) -> FactRow:
    """A good row: a deposit balance for the institution as a whole; `changes` override."""
    values = {
        "date": "2026-11-29",
        "source": "CBS",
        "key": "dep-0001",
        "measure": "DEPOSIT_BALANCE",
        "value": "1234.56",
    } | changes
    return FactRow(number=number, **values)


def codes(row_to_check: FactRow) -> list[tuple[RowField | None, ErrorCode]]:
    return [(error.field, error.code) for error in parse_row(row_to_check, today=TODAY).errors]


# One row on its own -----------------------------------------------------------------------------


def test_a_good_row_is_read_into_typed_values() -> None:
    parsed = parse_row(row(staff=" alpha-officer ", value="1234.5"), today=TODAY)

    assert parsed.errors == ()
    assert parsed.fact_date == date(2026, 11, 29)
    assert (parsed.source, parsed.key, parsed.measure) == (
        "CBS",
        "dep-0001",
        Measure.DEPOSIT_BALANCE,
    )
    assert parsed.value == Decimal("1234.50")
    assert parsed.staff_username == "alpha-officer"
    assert parsed.id_number is None


def test_every_bad_field_of_a_row_is_reported_in_the_order_of_the_fields() -> None:
    bad = row(
        7,
        date="2026-13-01",
        source="PLATFORM",
        key="",
        measure="OUTSTANDING_BALANCE",
        value="1.234",
        staff="alpha-officer",
        customer_id_number="110105194912310021",
    )

    assert parse_row(bad, today=TODAY).errors == (
        RowError(7, RowField.DATE, ErrorCode.INVALID_DATE),
        RowError(7, RowField.SOURCE, ErrorCode.INVALID_SOURCE),
        RowError(7, RowField.KEY, ErrorCode.REQUIRED),
        RowError(7, RowField.MEASURE, ErrorCode.INVALID_MEASURE),
        RowError(7, RowField.CUSTOMER_ID_NUMBER, ErrorCode.INVALID_ID_NUMBER),
        RowError(7, RowField.CUSTOMER_ID_NUMBER, ErrorCode.INVALID_SUBJECT),
        RowError(7, RowField.VALUE, ErrorCode.INVALID_AMOUNT),
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", ErrorCode.REQUIRED),
        ("2026-12-01", ErrorCode.INVALID_DATE),  # tomorrow
        ("2026/11/29", ErrorCode.INVALID_DATE),
        ("20261129", ErrorCode.INVALID_DATE),
        ("2026-02-30", ErrorCode.INVALID_DATE),
        ("1999-12-31", ErrorCode.INVALID_DATE),
        ("2026-11-29T00:00", ErrorCode.INVALID_DATE),
    ],
)
def test_a_date_is_an_iso_day_from_2000_up_to_today(text: str, code: ErrorCode) -> None:
    assert codes(row(date=text)) == [(RowField.DATE, code)]


@pytest.mark.parametrize("text", ["2026-11-30", "2000-01-01", " 2026-11-29 "])
def test_today_and_days_before_are_accepted(text: str) -> None:
    assert codes(row(date=text)) == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", ErrorCode.REQUIRED),
        ("PLATFORM", ErrorCode.INVALID_SOURCE),
        ("platform", ErrorCode.INVALID_SOURCE),
        ("core banking", ErrorCode.INVALID_SOURCE),
        ("核心系统", ErrorCode.INVALID_SOURCE),
        ("C" * 33, ErrorCode.INVALID_SOURCE),
    ],
)
def test_a_source_is_a_short_name_that_is_not_the_platforms(text: str, code: ErrorCode) -> None:
    assert codes(row(source=text)) == [(RowField.SOURCE, code)]


@pytest.mark.parametrize("text", ["CBS", "card-system_2", "C" * 32])
def test_good_sources(text: str) -> None:
    assert codes(row(source=text)) == []


def test_a_key_has_1_to_64_characters() -> None:
    assert codes(row(key="k" * MAX_KEY)) == []
    assert codes(row(key="账户" * 32)) == []
    assert codes(row(key="k" * (MAX_KEY + 1))) == [(RowField.KEY, ErrorCode.INVALID_LENGTH)]
    assert codes(row(key="   ")) == [(RowField.KEY, ErrorCode.REQUIRED)]


@pytest.mark.parametrize(
    "text",
    [
        "DEPOSIT_BALANCE",
        "LOW_COST_DEPOSIT_BALANCE",
        "SOCIAL_SECURITY_CARDS_ISSUED",
        "social_security_cards_activated",
    ],
)
def test_the_imported_measures_are_accepted(text: str) -> None:
    assert codes(row(measure=text, value="3")) == []


@pytest.mark.parametrize("text", ["OUTSTANDING_BALANCE", "POINTS_REDEEMED", "DEPOSITS", "存款"])
def test_measures_the_platform_computes_or_does_not_know_are_refused(text: str) -> None:
    assert codes(row(measure=text)) == [(RowField.MEASURE, ErrorCode.INVALID_MEASURE)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", Decimal("0.00")),
        ("-0", Decimal("0.00")),
        ("8530.9", Decimal("8530.90")),
        ("1E+3", Decimal("1000.00")),
        ("999999999999.99", Decimal("999999999999.99")),
    ],
)
def test_a_value_is_cny_to_the_fen(text: str, value: Decimal) -> None:
    parsed = parse_row(row(value=text), today=TODAY)
    assert parsed.errors == ()
    assert parsed.value == value
    assert str(parsed.value) == str(value)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", ErrorCode.REQUIRED),
        ("-0.01", ErrorCode.INVALID_AMOUNT),
        ("0.001", ErrorCode.INVALID_AMOUNT),
        ("1000000000000", ErrorCode.INVALID_AMOUNT),
        ("1e400", ErrorCode.INVALID_AMOUNT),
        ("1e-400", ErrorCode.INVALID_AMOUNT),
        ("NaN", ErrorCode.INVALID_AMOUNT),
        ("Infinity", ErrorCode.INVALID_AMOUNT),
        ("1,234.00", ErrorCode.INVALID_AMOUNT),
        ("¥12", ErrorCode.INVALID_AMOUNT),
        ("1" * 40, ErrorCode.INVALID_AMOUNT),
    ],
)
def test_bad_values(text: str, code: ErrorCode) -> None:
    assert codes(row(value=text)) == [(RowField.VALUE, code)]


def test_cards_are_counted_in_whole_numbers() -> None:
    cards = "SOCIAL_SECURITY_CARDS_ACTIVATED"
    assert codes(row(measure=cards, value="12")) == []
    assert codes(row(measure=cards, value="12.00")) == []
    assert codes(row(measure=cards, value="12.5")) == [(RowField.VALUE, ErrorCode.INVALID_AMOUNT)]


def test_a_customer_is_named_by_a_real_id_number_which_is_normalized() -> None:
    lower_x = demo_id_number("110105", date(1949, 12, 31), 2)
    parsed = parse_row(row(customer_id_number=f" {lower_x.lower()} "), today=TODAY)

    assert parsed.errors == ()
    assert parsed.id_number == lower_x.upper()
    assert codes(row(customer_id_number="220102198005171234")) == [
        (RowField.CUSTOMER_ID_NUMBER, ErrorCode.INVALID_ID_NUMBER)
    ]


def test_a_fact_is_for_a_staff_member_or_a_customer_not_both() -> None:
    assert codes(row(staff="alpha-officer", customer_id_number=ID_NUMBER)) == [
        (RowField.CUSTOMER_ID_NUMBER, ErrorCode.INVALID_SUBJECT)
    ]


text_or_junk = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["DEPOSIT_BALANCE", "2026-11-29", "12.5", "CBS", ID_NUMBER, "-0", "1e999"]),
)


@given(
    date_text=text_or_junk,
    source=text_or_junk,
    key=text_or_junk,
    measure=text_or_junk,
    value=text_or_junk,
    staff=text_or_junk,
    customer=text_or_junk,
)
def test_any_text_is_either_read_or_reported_never_a_crash(
    date_text: str, source: str, key: str, measure: str, value: str, staff: str, customer: str
) -> None:
    parsed = parse_row(
        FactRow(1, date_text, source, key, measure, value, staff, customer), today=TODAY
    )

    faulty = {error.field for error in parsed.errors}
    for attribute, field_name in (
        ("fact_date", RowField.DATE),
        ("source", RowField.SOURCE),
        ("key", RowField.KEY),
        ("measure", RowField.MEASURE),
        ("value", RowField.VALUE),
    ):
        assert (getattr(parsed, attribute) is None) == (field_name in faulty)
    if parsed.value is not None:
        assert parsed.value >= 0
        assert parsed.value == parsed.value.quantize(Decimal("0.01"))


# Subjects, looked up per chunk ------------------------------------------------------------------


def bidx(normalized_id_number: str) -> bytes:
    """A stand-in blind index."""
    return hashlib.sha256(normalized_id_number.encode()).digest()


@dataclass
class FakeTenancy:
    staff: list[Staff]
    calls: list[Sequence[str]] = field(default_factory=list)

    async def staff_by_usernames(
        self, institution_id: uuid.UUID, usernames: Sequence[str]
    ) -> list[Staff]:
        self.calls.append(usernames)
        return [
            member
            for member in self.staff
            if member.institution_id == institution_id and member.username in usernames
        ]


@dataclass
class FakeCustomers:
    customers: list[Customer]
    calls: list[Sequence[bytes]] = field(default_factory=list)

    async def by_id_number_bidx(
        self, institution_id: uuid.UUID, id_number_bidxs: Sequence[bytes]
    ) -> list[Customer]:
        self.calls.append(id_number_bidxs)
        return [
            customer
            for customer in self.customers
            if customer.institution_id == institution_id
            and customer.id_number_bidx in id_number_bidxs
        ]


@dataclass
class FakeRepositories:
    tenancy: FakeTenancy
    customers: FakeCustomers


def staff_member(username: str, institution_id: uuid.UUID = INSTITUTION) -> Staff:
    return Staff(
        uuid.uuid4(),
        institution_id,
        None,
        username,
        username,
        Role.LOAN_OFFICER,
        "-",
        True,
        datetime.now(UTC),
    )


def customer(id_number: str, institution_id: uuid.UUID = INSTITUTION) -> Customer:
    """A customer as stored, with only what an import reads of it."""
    now = datetime.now(UTC)
    return Customer(
        id=uuid.uuid4(),
        institution_id=institution_id,
        segment=Segment.FARMER,
        name_ct=b"",
        id_number_ct=b"",
        phone_ct=b"",
        id_number_bidx=bidx(id_number),
        phone_bidx=b"",
        key_id=1,
        gender=Gender.MALE,
        birth_date=date(1980, 5, 17),
        village_id=None,
        referral_code="ABCDEFGH",
        referred_by_id=None,
        registered_by_staff_id=None,
        created_at=now,
        updated_at=now,
    )


def repositories(*, staff: list[Staff], customers: list[Customer]) -> FakeRepositories:
    return FakeRepositories(FakeTenancy(staff), FakeCustomers(customers))


async def test_good_rows_become_facts_of_their_subjects() -> None:
    officer = staff_member("alpha-officer")
    farmer = customer(ID_NUMBER)
    repos = repositories(staff=[officer], customers=[farmer])
    rows = [
        row(2, key="staff", staff="alpha-officer"),
        row(3, key="customer", customer_id_number=ID_NUMBER, measure="LOW_COST_DEPOSIT_BALANCE"),
        row(4, key="institution", value="7"),
    ]

    facts, errors = await check_rows(repos, INSTITUTION, rows, id_number_index=bidx, today=TODAY)

    assert errors == []
    assert [(number, fact.key, fact.staff_id, fact.customer_id) for number, fact in facts] == [
        (2, "staff", officer.id, None),
        (3, "customer", None, farmer.id),
        (4, "institution", None, None),
    ]
    assert facts[1][1].measure is Measure.LOW_COST_DEPOSIT_BALANCE
    assert facts[2][1].value == Decimal("7.00")
    assert {fact.institution_id for _, fact in facts} == {INSTITUTION}


async def test_subjects_are_looked_up_once_per_chunk() -> None:
    members = [staff_member(f"officer-{n}") for n in range(50)]
    farmers = [customer(demo_id_number("220102", date(1980, 1, 1), n)) for n in range(50)]
    repos = repositories(staff=members, customers=farmers)
    rows = [row(n, key=f"s{n}", staff=f"officer-{n % 50}") for n in range(100)] + [
        row(n, key=f"c{n}", customer_id_number=demo_id_number("220102", date(1980, 1, 1), n % 50))
        for n in range(100, 200)
    ]

    facts, errors = await check_rows(repos, INSTITUTION, rows, id_number_index=bidx, today=TODAY)

    assert errors == []
    assert len(facts) == 200
    assert len(repos.tenancy.calls) == 1
    assert len(repos.tenancy.calls[0]) == 50
    assert len(repos.customers.calls) == 1
    assert len(repos.customers.calls[0]) == 50


async def test_rows_without_subjects_need_no_lookup() -> None:
    repos = repositories(staff=[], customers=[])

    facts, _ = await check_rows(repos, INSTITUTION, [row()], id_number_index=bidx, today=TODAY)

    assert len(facts) == 1
    assert repos.tenancy.calls == []
    assert repos.customers.calls == []


async def test_another_institutions_staff_and_customers_are_not_found() -> None:
    elsewhere = uuid.uuid4()
    repos = repositories(
        staff=[staff_member("beta-officer", elsewhere)],
        customers=[customer(OTHER_ID_NUMBER, elsewhere)],
    )
    rows = [
        row(2, key="a", staff="beta-officer"),
        row(3, key="b", customer_id_number=OTHER_ID_NUMBER),
        row(4, key="c", staff="nobody", value="-1"),
    ]

    facts, errors = await check_rows(repos, INSTITUTION, rows, id_number_index=bidx, today=TODAY)

    assert facts == []
    assert errors == [
        RowError(2, RowField.STAFF, ErrorCode.NOT_FOUND),
        RowError(3, RowField.CUSTOMER_ID_NUMBER, ErrorCode.NOT_FOUND),
        RowError(4, RowField.STAFF, ErrorCode.NOT_FOUND),
        RowError(4, RowField.VALUE, ErrorCode.INVALID_AMOUNT),
    ]


# Who may import ---------------------------------------------------------------------------------


def actor(kind: ActorKind, role: Role, institution_id: uuid.UUID | None = INSTITUTION) -> Actor:
    return Actor(kind=kind, id=uuid.uuid4(), role=role, institution_id=institution_id)


@pytest.mark.parametrize(
    "who",
    [
        actor(ActorKind.STAFF, Role.INSTITUTION_ADMIN),
        actor(ActorKind.SERVICE, Role.SERVICE_ACCOUNT),
    ],
)
def test_core_banking_and_institution_admins_import_into_their_institution(who: Actor) -> None:
    assert admit(who, MAX_ROWS) == INSTITUTION


@pytest.mark.parametrize(
    "who",
    [
        actor(ActorKind.STAFF, Role.LOAN_OFFICER),
        actor(ActorKind.STAFF, Role.BRANCH_MANAGER),
        actor(ActorKind.STAFF, Role.RISK_OFFICER),
        actor(ActorKind.STAFF, Role.PROVINCE_ADMIN),
        actor(ActorKind.CUSTOMER, Role.CUSTOMER),
        actor(ActorKind.MERCHANT, Role.MERCHANT_OPERATOR),
        actor(ActorKind.SERVICE, Role.SERVICE_ACCOUNT, None),
    ],
)
def test_everyone_else_is_forbidden(who: Actor) -> None:
    with pytest.raises(PermissionDenied):
        admit(who, 1)


def test_more_than_a_thousand_rows_a_call_are_refused() -> None:
    with pytest.raises(DomainError) as refused:
        admit(actor(ActorKind.SERVICE, Role.SERVICE_ACCOUNT), MAX_ROWS + 1)

    assert refused.value.code is ErrorCode.INVALID_LENGTH
    assert refused.value.field == ("facts",)

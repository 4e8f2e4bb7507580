"""registerCustomer: sealed input, validation, uniqueness, and what ends up in the database."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from jikuai.persistence.tables import metadata
from tests.support.stack import REGISTER, Stack


def _global_id(type_name: str, key: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


async def _register(
    stack: Stack, registration: dict, username: str = "alpha-officer", **headers: str
) -> dict:
    body = await stack.gql(
        REGISTER, {"input": registration}, token=await stack.token(username), headers=headers
    )
    return body["data"]["registerCustomer"]


def _codes(payload: dict) -> list[tuple[list[str] | None, str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def test_staff_register_into_their_own_institution(stack: Stack) -> None:
    payload = await stack.register(
        "alpha-manager", name="王小明", phone="+86 138-1234-5678", id_number="11010519491231002x"
    )

    assert payload["userErrors"] == []
    assert payload["customer"] == {
        "id": payload["customer"]["id"],
        "nameMasked": "*明",
        "phoneMasked": "138****5678",
        "idNumberMasked": "1****************X",
        "gender": "FEMALE",
        "age": payload["customer"]["age"],
        "segment": "FARMER",
        "institution": {"code": "alpha"},
    }
    assert payload["customer"]["age"] >= 76


async def test_every_invalid_field_is_reported_at_once(stack: Stack) -> None:
    payload = await _register(
        stack, stack.registration(name="王", phone="12345", id_number="110105194912310021")
    )

    assert payload["customer"] is None
    assert _codes(payload) == [
        (["name"], "INVALID_NAME"),
        (["idNumber"], "INVALID_ID_NUMBER"),
        (["phone"], "INVALID_PHONE"),
    ]


async def test_an_id_number_needs_a_real_birth_date(stack: Stack) -> None:
    body = "11010519490230001"  # 30 February
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]

    payload = await _register(stack, stack.registration(id_number=body + check))

    assert _codes(payload) == [(["idNumber"], "INVALID_ID_NUMBER")]


async def test_bad_envelopes_are_one_error_on_their_field(stack: Stack) -> None:
    stale = datetime.now(UTC) - timedelta(minutes=11)
    cases = {
        "name": stack.seal("phone", "王小明"),  # sealed for another field
        "idNumber": stack.seal("idNumber", stack.new_id_number(), now=stale),
        "phone": "not.a.jwe.at.all",
    }
    for field, envelope in cases.items():
        payload = await _register(stack, stack.registration() | {field: envelope})

        assert payload["customer"] is None
        assert payload["userErrors"] == [
            {"field": [field], "code": "ENVELOPE_INVALID", "message": "数字信封无效"}
        ]


async def test_the_same_id_number_twice_in_one_institution(stack: Stack) -> None:
    id_number = stack.new_id_number()
    assert (await stack.register("alpha-officer", id_number=id_number))["userErrors"] == []

    again = await stack.register("alpha-admin", id_number=id_number.lower(), name="另一个人")

    assert again["customer"] is None
    assert again["userErrors"] == [
        {"field": ["idNumber"], "code": "CUSTOMER_EXISTS", "message": "该客户已登记"}
    ]
    elsewhere = await stack.register("beta-officer", id_number=id_number)
    assert elsewhere["userErrors"] == []


async def test_messages_follow_accept_language(stack: Stack) -> None:
    payload = await _register(
        stack, stack.registration(phone="123"), **{"accept-language": "en-US,en;q=0.9"}
    )

    assert payload["userErrors"] == [
        {"field": ["phone"], "code": "INVALID_PHONE", "message": "Invalid mainland mobile number"}
    ]


async def test_staff_cannot_register_into_another_institution(stack: Stack) -> None:
    beta = _global_id("Institution", stack.world.institutions["beta"].id)

    payload = await _register(stack, stack.registration(institutionId=beta))

    assert _codes(payload) == [(["institutionId"], "INVALID_INSTITUTION")]


async def test_village_must_belong_to_the_institution(stack: Stack) -> None:
    own = _global_id("Village", stack.world.villages["alpha"].id)
    other = _global_id("Village", stack.world.villages["beta"].id)

    assert (await _register(stack, stack.registration(villageId=own)))["userErrors"] == []
    payload = await _register(stack, stack.registration(villageId=other))
    assert _codes(payload) == [(["villageId"], "NOT_FOUND")]


async def test_referral_codes(stack: Stack) -> None:
    referrer = await _register(stack, stack.registration())
    code = (
        await stack.gql(
            "query($id: ID!) { customer(id: $id) { referralCode } }",
            {"id": referrer["customer"]["id"]},
            token=await stack.token("alpha-officer"),
        )
    )["data"]["customer"]["referralCode"]

    referred = await _register(stack, stack.registration(referrerCode=code.lower()))
    unknown = await _register(stack, stack.registration(referrerCode="NOSUCH99"))

    assert referred["userErrors"] == []
    assert _codes(unknown) == [(["referrerCode"], "INVALID_REFERRER_CODE")]


async def test_only_front_office_roles_register(stack: Stack) -> None:
    for username in ("alpha-risk", "prov-admin"):
        body = await stack.gql(
            REGISTER, {"input": stack.registration()}, token=await stack.token(username)
        )

        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_registration_needs_a_token(stack: Stack) -> None:
    body = await stack.gql(REGISTER, {"input": stack.registration()})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_no_plaintext_personal_data_is_stored(stack: Stack) -> None:
    name, id_number, phone = "欧阳春花", stack.new_id_number(), stack.new_phone()
    payload = await stack.register("alpha-officer", name=name, id_number=id_number, phone=phone)
    assert payload["userErrors"] == []

    dump = await _dump_database(stack)

    for secret in (name, id_number, phone):
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in dump, secret


async def _dump_database(stack: Stack) -> bytes:
    """Every value of every row of every table, as bytes."""
    chunks: list[bytes] = []
    async with stack.services.database.primary.connect() as connection:
        for table in metadata.sorted_tables:
            for row in await connection.execute(select(table)):
                chunks += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    return b"\x00".join(chunks)

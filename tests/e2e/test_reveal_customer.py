"""revealCustomer: plaintext leaves only sealed to an authorised caller's own key, audited."""

from __future__ import annotations

import base64
import json
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwe
from joserfc.jwk import RSAKey
from sqlalchemy import select

from jikuai.persistence.tables.identity import audit_events
from tests.support.stack import Stack

REVEAL = """
mutation($input: RevealCustomerInput!) {
  revealCustomer(input: $input) { sealed { field jwe } userErrors { field code } }
}
"""


def _key_pair(bits: int = 2048) -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, pem.decode()


def _open(token: str, private: rsa.RSAPrivateKey) -> dict:
    key = RSAKey.import_key(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    opened = jwe.decrypt_compact(token, key, algorithms=["RSA-OAEP-256", "A256GCM"])
    assert opened.plaintext is not None
    plaintext: dict = json.loads(opened.plaintext)
    return plaintext


async def _customer(stack: Stack, **fields: str) -> str:
    payload = await stack.register("alpha-officer", **fields)
    customer_id: str = payload["customer"]["id"]
    return customer_id


async def test_an_officer_reveals_fields_sealed_to_their_own_key(stack: Stack) -> None:
    id_number = stack.new_id_number()
    customer_id = await _customer(stack, name="孙悟空", id_number=id_number, phone="13912345678")
    private, public_pem = _key_pair()

    response = await stack.post(
        REVEAL,
        {
            "input": {
                "customerId": customer_id,
                "fields": ["ID_NUMBER", "PHONE", "NAME"],
                "publicKeyPem": public_pem,
            }
        },
        token=await stack.token("alpha-officer"),
    )

    payload = response.json()["data"]["revealCustomer"]
    assert payload["userErrors"] == []
    opened = {each["field"]: _open(each["jwe"], private) for each in payload["sealed"]}
    assert {field: value["v"] for field, value in opened.items()} == {
        "ID_NUMBER": id_number,
        "PHONE": "13912345678",
        "NAME": "孙悟空",
    }
    assert {value["f"] for value in opened.values()} == {"idNumber", "phone", "name"}
    for plaintext in ("孙悟空", id_number, "13912345678"):
        assert plaintext not in response.text
    key = uuid.UUID(base64.urlsafe_b64decode(customer_id).decode().split(":")[1])
    async with stack.services.database.primary.connect() as connection:
        audit = (
            await connection.execute(
                select(audit_events).where(audit_events.c.subject_id == str(key))
            )
        ).one()
    assert audit.action == "customer.reveal"
    assert audit.actor_id == stack.world.staff["alpha-officer"].id
    assert audit.details == {"fields": ["ID_NUMBER", "PHONE", "NAME"]}
    assert audit.request_id == response.headers["x-request-id"]


async def test_roles_that_may_not_reveal_are_forbidden(stack: Stack) -> None:
    customer_id = await _customer(stack)
    _, public_pem = _key_pair()
    for username in ("alpha-manager", "prov-admin"):
        body = await stack.gql(
            REVEAL,
            {"input": {"customerId": customer_id, "fields": ["PHONE"], "publicKeyPem": public_pem}},
            token=await stack.token(username),
        )

        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_another_institution_gets_not_found(stack: Stack) -> None:
    customer_id = await _customer(stack)
    _, public_pem = _key_pair()
    nowhere = base64.urlsafe_b64encode(f"Customer:{uuid.uuid4()}".encode()).decode()

    for target in (customer_id, nowhere, "garbage"):
        body = await stack.gql(
            REVEAL,
            {"input": {"customerId": target, "fields": ["PHONE"], "publicKeyPem": public_pem}},
            token=await stack.token("beta-risk"),
        )

        assert body["data"]["revealCustomer"] == {
            "sealed": [],
            "userErrors": [{"field": ["customerId"], "code": "NOT_FOUND"}],
        }


async def test_a_weak_or_malformed_public_key_is_refused(stack: Stack) -> None:
    customer_id = await _customer(stack)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()  # noqa: S505
    weak_pem = weak.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()

    for pem in (weak_pem, "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"):
        body = await stack.gql(
            REVEAL,
            {"input": {"customerId": customer_id, "fields": ["NAME"], "publicKeyPem": pem}},
            token=await stack.token("alpha-admin"),
        )

        assert body["data"]["revealCustomer"]["userErrors"] == [
            {"field": ["publicKeyPem"], "code": "INVALID_PUBLIC_KEY"}
        ]


async def test_a_customer_cannot_reveal(stack: Stack) -> None:
    login = await stack.gql(
        "mutation($c: String!) { wechatLogin(input: {code: $c}) { accessToken } }",
        {"c": f"dev:o{uuid.uuid4().hex[:16]}"},
    )
    _, public_pem = _key_pair()

    body = await stack.gql(
        REVEAL,
        {
            "input": {
                "customerId": await _customer(stack),
                "fields": ["NAME"],
                "publicKeyPem": public_pem,
            }
        },
        token=login["data"]["wechatLogin"]["accessToken"],
    )

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

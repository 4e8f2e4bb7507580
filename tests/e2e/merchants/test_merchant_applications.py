"""applyMerchant: who may apply, what is checked, and what is kept (encrypted) and shown
(masked)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from jikuai.domain.merchants.protection import MerchantVault
from jikuai.persistence.repositories.merchants import SqlMerchantRepository
from tests.support.credit import customer_token, error_codes, local_uuid
from tests.support.merchants import APPLY, application, apply, new_uscc
from tests.support.stack import Stack


async def test_a_loan_officer_applies_for_their_institution(stack: Stack) -> None:
    payload = await apply(
        stack,
        await stack.token("alpha-officer"),
        contactPhone="+86 139-1234-5678",
        settlementAccount="6228 4800 1234 5678 901",
        legalRepresentativeIdNumber="11010519491231002x",
        category="AGRICULTURAL_SUPPLIES",
    )

    assert payload["userErrors"] == []
    merchant = payload["merchant"]
    assert merchant["status"] == "PENDING"
    assert merchant["statusReason"] == ""
    assert merchant["category"] == "AGRICULTURAL_SUPPLIES"
    assert merchant["contactPhoneMasked"] == "139****5678"
    assert merchant["settlementAccountLast4"] == "8901"
    assert merchant["legalRepresentativeIdMasked"] == "1****************X"
    assert merchant["onboardedBy"] == {"username": "alpha-officer"}
    assert merchant["institution"] == {"code": "alpha"}
    assert merchant["reviewedAt"] is None


async def test_the_sensitive_details_are_stored_as_ciphertext(stack: Stack) -> None:
    phone, account, id_number = "13987654321", "622848001234567890", stack.new_id_number()
    payload = await apply(
        stack,
        await stack.token("alpha-officer"),
        contactPhone=phone,
        settlementAccount=account,
        legalRepresentativeIdNumber=id_number,
    )

    async with stack.services.database.primary.connect() as connection:
        found = await SqlMerchantRepository(connection).by_id(
            [uuid.UUID(local_uuid(payload["merchant"]["id"]))]
        )
    stored = found[0]
    blobs = b"".join(
        [stored.contact_phone_ct, stored.settlement_account_ct, stored.legal_representative_id_ct]
    )
    for plaintext in (phone, account, id_number, id_number[:14], account[:12], account[-8:]):
        assert plaintext.encode() not in blobs
    assert stored.settlement_account_last4 == "7890"
    assert MerchantVault(stack.services.cipher).contact_phone_masked(stored) == "139****4321"


async def test_a_registered_customer_applies_for_their_own_institution(stack: Stack) -> None:
    token, _ = await customer_token(stack, institution="beta")

    payload = await apply(stack, token, uscc=new_uscc().lower())

    assert payload["userErrors"] == []
    merchant = payload["merchant"]
    assert merchant["status"] == "PENDING"
    assert merchant["uscc"] == merchant["uscc"].upper()
    assert merchant["onboardedBy"] is None
    assert merchant["institution"] == {"code": "beta"}
    # What the applicant typed is theirs, but a customer never sees a merchant's back office.
    assert merchant["contactPhoneMasked"] is None
    assert merchant["settlementAccountLast4"] is None
    assert merchant["legalRepresentativeIdMasked"] is None


async def test_every_invalid_field_is_reported_at_once(stack: Stack) -> None:
    payload = await apply(
        stack,
        await stack.token("alpha-officer"),
        name=" ",
        uscc="91110000600037341X",
        address="",
        contactPhone="12345678901",
        settlementAccount="6228-4800",
        legalRepresentativeIdNumber="110105194912310021",
    )

    assert payload["merchant"] is None
    assert payload["userErrors"] == [
        {"field": ["name"], "code": "REQUIRED"},
        {"field": ["address"], "code": "REQUIRED"},
        {"field": ["uscc"], "code": "INVALID_USCC"},
        {"field": ["contactPhone"], "code": "INVALID_PHONE"},
        {"field": ["settlementAccount"], "code": "INVALID_BANK_ACCOUNT"},
        {"field": ["legalRepresentativeIdNumber"], "code": "INVALID_ID_NUMBER"},
    ]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "超"}, {"field": ["name"], "code": "INVALID_LENGTH"}),
        ({"name": "超" * 101}, {"field": ["name"], "code": "INVALID_LENGTH"}),
        ({"address": "路" * 201}, {"field": ["address"], "code": "INVALID_LENGTH"}),
        ({"uscc": "91110000600037341"}, {"field": ["uscc"], "code": "INVALID_USCC"}),
        ({"uscc": "9111000060003734IL"}, {"field": ["uscc"], "code": "INVALID_USCC"}),
        (
            {"settlementAccount": "12345678901"},
            {"field": ["settlementAccount"], "code": "INVALID_BANK_ACCOUNT"},
        ),
        (
            {"settlementAccount": "1" * 31},
            {"field": ["settlementAccount"], "code": "INVALID_BANK_ACCOUNT"},
        ),
        (
            {"settlementAccount": "6228a80012345678"},
            {"field": ["settlementAccount"], "code": "INVALID_BANK_ACCOUNT"},
        ),
    ],
)
async def test_each_rule_has_its_code_and_field(
    stack: Stack, fields: dict[str, Any], error: dict[str, Any]
) -> None:
    payload = await apply(stack, await stack.token("alpha-officer"), **fields)

    assert payload["userErrors"] == [error]


async def test_a_settlement_account_need_not_pass_luhn(stack: Stack) -> None:
    payload = await apply(
        stack, await stack.token("alpha-officer"), settlementAccount="0710 0101 0400 1234 5"
    )

    assert payload["userErrors"] == []
    assert payload["merchant"]["settlementAccountLast4"] == "2345"


async def test_an_envelope_sealed_for_another_field_is_refused(stack: Stack) -> None:
    given = application(stack)
    given["contactPhone"] = stack.seal("phone", "13912345678")

    body = await stack.gql(APPLY, {"input": given}, token=await stack.token("alpha-officer"))

    assert body["data"]["applyMerchant"]["userErrors"] == [
        {"field": ["contactPhone"], "code": "ENVELOPE_INVALID"}
    ]


async def test_a_uscc_applies_once_per_institution(stack: Stack) -> None:
    uscc = new_uscc()
    first = await apply(stack, await stack.token("alpha-officer"), uscc=uscc)
    again = await apply(stack, await stack.token("alpha-manager"), uscc=uscc.lower())
    elsewhere = await apply(stack, await stack.token("beta-officer"), uscc=uscc)

    assert first["userErrors"] == []
    assert again == {
        "merchant": None,
        "userErrors": [{"field": ["uscc"], "code": "MERCHANT_EXISTS"}],
    }
    assert elsewhere["userErrors"] == []


@pytest.mark.parametrize("username", ["alpha-risk", "prov-admin"])
async def test_roles_that_do_not_onboard_merchants_are_forbidden(
    stack: Stack, username: str
) -> None:
    body = await stack.gql(APPLY, {"input": application(stack)}, token=await stack.token(username))

    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_wechat_user_yet_to_register_is_forbidden(stack: Stack) -> None:
    login = await stack.gql(
        "mutation($code: String!) { wechatLogin(input: {code: $code}) { accessToken } }",
        {"code": f"dev:o{uuid.uuid4().hex[:20]}"},
    )
    token = login["data"]["wechatLogin"]["accessToken"]

    body = await stack.gql(APPLY, {"input": application(stack)}, token=token)

    assert error_codes(body) == ["FORBIDDEN"]


async def test_applying_needs_a_sign_in(stack: Stack) -> None:
    body = await stack.gql(APPLY, {"input": application(stack)})

    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_messages_follow_the_language_of_the_request(stack: Stack) -> None:
    body = await stack.gql(
        APPLY.replace("userErrors { field code }", "userErrors { code message }"),
        {"input": application(stack, uscc="nonsense")},
        token=await stack.token("alpha-officer"),
        headers={"accept-language": "en"},
    )

    assert body["data"]["applyMerchant"]["userErrors"] == [
        {"code": "INVALID_USCC", "message": "Invalid Unified Social Credit Code"}
    ]

"""A merchant's sensitive details: encrypted per row and column, shown only masked."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jikuai.domain.merchants.model import Merchant, MerchantCategory, MerchantStatus
from jikuai.domain.merchants.protection import MerchantVault
from jikuai.security import DecryptionError, FieldCipher, KeyRing

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
VAULT = MerchantVault(FieldCipher(KeyRing.generate(now=NOW, rsa_bits=2048)))
PHONE = "13912345678"
ACCOUNT = "6228480012345678901"
ID_NUMBER = "11010519491231002X"


def _merchant(*, phone: str = PHONE, id_number: str = ID_NUMBER) -> Merchant:
    merchant_id = uuid.uuid4()
    protected = VAULT.protect(
        merchant_id,
        contact_phone=phone,
        settlement_account=ACCOUNT,
        legal_representative_id=id_number,
    )
    return Merchant(
        id=merchant_id,
        institution_id=uuid.uuid4(),
        name="保寿村超市",
        uscc="91110000600037341L",
        category=MerchantCategory.SUPERMARKET,
        address="保寿村1号",
        contact_phone_ct=protected.contact_phone_ct,
        settlement_account_ct=protected.settlement_account_ct,
        settlement_account_last4=protected.settlement_account_last4,
        legal_representative_id_ct=protected.legal_representative_id_ct,
        key_id=protected.key_id,
        status=MerchantStatus.PENDING,
        status_reason="",
        onboarded_by=None,
        reviewed_by=None,
        reviewed_at=None,
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_details_are_stored_encrypted() -> None:
    merchant = _merchant()

    for blob, plaintext in (
        (merchant.contact_phone_ct, PHONE),
        (merchant.settlement_account_ct, ACCOUNT),
        (merchant.legal_representative_id_ct, ID_NUMBER),
    ):
        assert plaintext.encode() not in blob
    assert merchant.settlement_account_last4 == "8901"


def test_masks_show_only_the_agreed_characters() -> None:
    merchant = _merchant()

    assert VAULT.contact_phone_masked(merchant) == "139****5678"
    assert VAULT.legal_representative_id_masked(merchant) == "1****************X"


def test_a_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    first, second = _merchant(), _merchant()
    second.contact_phone_ct = first.contact_phone_ct

    with pytest.raises(DecryptionError):
        VAULT.contact_phone_masked(second)


@settings(max_examples=50)
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_masked_phone_never_shows_more_than_3_and_4_digits(phone: str) -> None:
    masked = VAULT.contact_phone_masked(_merchant(phone=phone))

    assert masked == phone[:3] + "****" + phone[-4:]

"""How a merchant's sensitive details are kept: encrypted per row, shown only masked.

The contact phone, the settlement account and the legal representative's ID number are
encrypted under the key ring's data key, each bound to its table, column and row. Of the
account only the last four digits are kept in the clear, which is all a screen ever shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jikuai.domain.merchants.model import Merchant
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.batches import Progress, rewrite_in_batches
from jikuai.security import FieldCipher, FieldContext, mask_id_number, mask_phone

TABLE = "merchants"


@dataclass(frozen=True, slots=True)
class ProtectedDetails:
    contact_phone_ct: bytes
    settlement_account_ct: bytes
    settlement_account_last4: str
    legal_representative_id_ct: bytes
    key_id: int


class MerchantVault:
    """Encrypts a merchant's sensitive details and masks them for display."""

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def protect(
        self,
        merchant_id: uuid.UUID,
        *,
        contact_phone: str,
        settlement_account: str,
        legal_representative_id: str,
    ) -> ProtectedDetails:
        row = str(merchant_id)
        return ProtectedDetails(
            contact_phone_ct=self._encrypt("contact_phone_ct", row, contact_phone),
            settlement_account_ct=self._encrypt("settlement_account_ct", row, settlement_account),
            settlement_account_last4=settlement_account[-4:],
            legal_representative_id_ct=self._encrypt(
                "legal_representative_id_ct", row, legal_representative_id
            ),
            key_id=self._cipher.primary_key_id,
        )

    def contact_phone_masked(self, merchant: Merchant) -> str:
        """First 3 and last 4 digits, e.g. "138****5678"."""
        return mask_phone(self._decrypt("contact_phone_ct", merchant, merchant.contact_phone_ct))

    def legal_representative_id_masked(self, merchant: Merchant) -> str:
        """First and last character of the ID number."""
        blob = merchant.legal_representative_id_ct
        return mask_id_number(self._decrypt("legal_representative_id_ct", merchant, blob))

    @property
    def current_key_id(self) -> int:
        return self._cipher.primary_key_id

    def reencrypt(self, merchant: Merchant) -> ProtectedDetails:
        """The same details under the current data key (after a key rotation)."""
        return self.protect(
            merchant.id,
            contact_phone=self._decrypt("contact_phone_ct", merchant, merchant.contact_phone_ct),
            settlement_account=self._decrypt(
                "settlement_account_ct", merchant, merchant.settlement_account_ct
            ),
            legal_representative_id=self._decrypt(
                "legal_representative_id_ct", merchant, merchant.legal_representative_id_ct
            ),
        )

    def _encrypt(self, column: str, row: str, plaintext: str) -> bytes:
        return self._cipher.encrypt(plaintext, context=FieldContext(TABLE, column, row))

    def _decrypt(self, column: str, merchant: Merchant, blob: bytes) -> str:
        return self._cipher.decrypt(blob, context=FieldContext(TABLE, column, str(merchant.id)))


async def reencrypt_merchants(
    *,
    unit_of_work: Callable[[], UnitOfWork],
    vault: MerchantVault,
    now: datetime,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    """Re-encrypt every merchant not yet under the current data key (after a key rotation)."""
    key_id = vault.current_key_id

    async def rewrite(uow: UnitOfWork, merchant: Merchant) -> None:
        protected = vault.reencrypt(merchant)
        merchant.contact_phone_ct = protected.contact_phone_ct
        merchant.settlement_account_ct = protected.settlement_account_ct
        merchant.legal_representative_id_ct = protected.legal_representative_id_ct
        merchant.key_id = protected.key_id
        merchant.updated_at = now
        await uow.merchants.replace_ciphertexts(merchant)

    return await rewrite_in_batches(
        unit_of_work=unit_of_work,
        count=lambda uow: uow.merchants.count_encrypted_under_other_keys(key_id),
        fetch=lambda uow, limit: uow.merchants.encrypted_under_other_keys(key_id, limit=limit),
        rewrite=rewrite,
        batch_size=batch_size,
        progress=progress,
    )

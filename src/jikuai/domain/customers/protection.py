"""How a customer's personal identifiers are kept: encrypted per row, found by blind index.

Each ciphertext is bound to its table, column and row, so a value copied to another row or
column does not decrypt. Blind indexes are computed over the normalised value, so lookups match
whatever spelling the customer typed (`+86 138-1234-5678`, `11010519491231002x`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import NamedTuple

from jikuai.domain.customers.identity_numbers import normalize_id_number, normalize_mobile
from jikuai.domain.customers.model import Customer, SensitiveField
from jikuai.security import (
    BlindIndex,
    FieldCipher,
    FieldContext,
    mask_id_number,
    mask_name,
    mask_phone,
)

TABLE = "customers"
_COLUMNS = {
    SensitiveField.NAME: "name_ct",
    SensitiveField.ID_NUMBER: "id_number_ct",
    SensitiveField.PHONE: "phone_ct",
}


class MaskedIdentity(NamedTuple):
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True, slots=True)
class ProtectedIdentity:
    name_ct: bytes
    id_number_ct: bytes
    phone_ct: bytes
    id_number_bidx: bytes
    phone_bidx: bytes
    key_id: int


class CustomerVault:
    """Encrypts, decrypts and indexes the sensitive fields of customers."""

    def __init__(self, cipher: FieldCipher, blind_index: BlindIndex) -> None:
        self._cipher = cipher
        self._blind_index = blind_index

    def protect(
        self, customer_id: uuid.UUID, *, name: str, id_number: str, phone: str
    ) -> ProtectedIdentity:
        row = str(customer_id)
        return ProtectedIdentity(
            name_ct=self._encrypt(SensitiveField.NAME, row, name),
            id_number_ct=self._encrypt(SensitiveField.ID_NUMBER, row, id_number),
            phone_ct=self._encrypt(SensitiveField.PHONE, row, phone),
            id_number_bidx=self.id_number_index(id_number),
            phone_bidx=self.phone_index(phone),
            key_id=self._cipher.primary_key_id,
        )

    def reveal(self, customer: Customer, field: SensitiveField) -> str:
        return self._reveal(customer, field, str(customer.id))

    def masked_identity(self, customer: Customer) -> MaskedIdentity:
        """All three values masked, as a customer is shown (the row's id written once)."""
        row = str(customer.id)
        return MaskedIdentity(
            name=mask_name(self._reveal(customer, SensitiveField.NAME, row)),
            id_number=mask_id_number(self._reveal(customer, SensitiveField.ID_NUMBER, row)),
            phone=mask_phone(self._reveal(customer, SensitiveField.PHONE, row)),
        )

    def id_number_lookup(self, raw: str) -> bytes:
        """The blind index to search by, for an ID number however it was typed."""
        return self.id_number_index(normalize_id_number(raw))

    def phone_lookup(self, raw: str) -> bytes:
        """The blind index to search by, for a phone number however it was typed."""
        return self.phone_index(normalize_mobile(raw) or raw)

    def id_number_index(self, normalized_id_number: str) -> bytes:
        return self._blind_index.compute("customers.id_number", normalized_id_number)

    def phone_index(self, normalized_phone: str) -> bytes:
        return self._blind_index.compute("customers.phone", normalized_phone)

    @property
    def current_key_id(self) -> int:
        return self._cipher.primary_key_id

    def reencrypt(self, customer: Customer) -> ProtectedIdentity:
        """The same identity under the current data key (after a key rotation)."""
        return self.protect(
            customer.id,
            name=self.reveal(customer, SensitiveField.NAME),
            id_number=self.reveal(customer, SensitiveField.ID_NUMBER),
            phone=self.reveal(customer, SensitiveField.PHONE),
        )

    def _reveal(self, customer: Customer, field: SensitiveField, row: str) -> str:
        blob = getattr(customer, _COLUMNS[field])
        return self._cipher.decrypt(blob, context=self._context(field, row))

    def _encrypt(self, field: SensitiveField, row: str, plaintext: str) -> bytes:
        return self._cipher.encrypt(plaintext, context=self._context(field, row))

    @staticmethod
    def _context(field: SensitiveField, row: str) -> FieldContext:
        return FieldContext(table=TABLE, column=_COLUMNS[field], row_id=row)

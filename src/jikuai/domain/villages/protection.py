"""How a household's head is kept: encrypted per row like a customer, found by the same blind
index of the ID number as customers and list entries, so a farmer who signs up is matched to
their household, and to their whitelist entry, without decrypting anything."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.batches import Progress, rewrite_in_batches
from jikuai.domain.villages.model import Household
from jikuai.domain.villages.rosters import HouseholdFacts
from jikuai.security import BlindIndex, FieldCipher, FieldContext

TABLE = "village_households"
_DIGEST_KIND = "village_households.row"
_ID_NUMBER_KIND = "customers.id_number"  # shared with customers, so the two match


class HouseholdField(StrEnum):
    NAME = "name_ct"
    ID_NUMBER = "id_number_ct"
    PHONE = "phone_ct"


@dataclass(frozen=True, slots=True)
class SealedHead:
    name_ct: bytes
    id_number_ct: bytes
    phone_ct: bytes
    key_id: int


class HouseholdVault:
    """Encrypts and indexes households' heads, and digests their roster rows."""

    def __init__(self, cipher: FieldCipher, blind_index: BlindIndex) -> None:
        self._cipher = cipher
        self._blind_index = blind_index

    def id_number_index(self, normalized_id_number: str) -> bytes:
        return self._blind_index.compute(_ID_NUMBER_KIND, normalized_id_number)

    def digest(self, facts: HouseholdFacts) -> bytes:
        """A keyed hash of the row's facts: equal for the same row, and no help in guessing a
        person's details from the database."""
        return self._blind_index.compute(_DIGEST_KIND, facts.canonical())

    def seal(self, household_id: uuid.UUID, facts: HouseholdFacts) -> SealedHead:
        row = str(household_id)
        return SealedHead(
            name_ct=self._encrypt(HouseholdField.NAME, row, facts.name),
            id_number_ct=self._encrypt(HouseholdField.ID_NUMBER, row, facts.id_number.value),
            phone_ct=self._encrypt(HouseholdField.PHONE, row, facts.phone),
            key_id=self._cipher.primary_key_id,
        )

    def reveal(self, household_id: uuid.UUID, field: HouseholdField, blob: bytes) -> str:
        return self._cipher.decrypt(blob, context=_context(field, str(household_id)))

    @property
    def current_key_id(self) -> int:
        return self._cipher.primary_key_id

    def reencrypt(self, household: Household) -> None:
        """The household's head under the current data key (after a key rotation)."""
        row = str(household.id)
        for field in HouseholdField:
            blob = getattr(household, field.value)
            plaintext = self._cipher.decrypt(blob, context=_context(field, row))
            setattr(household, field.value, self._encrypt(field, row, plaintext))
        household.key_id = self._cipher.primary_key_id

    def _encrypt(self, field: HouseholdField, row: str, plaintext: str) -> bytes:
        return self._cipher.encrypt(plaintext, context=_context(field, row))


async def reencrypt_households(
    *,
    unit_of_work: Callable[[], UnitOfWork],
    vault: HouseholdVault,
    now: datetime,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    """Re-encrypt every household head not yet under the current data key."""
    key_id = vault.current_key_id

    async def rewrite(uow: UnitOfWork, household: Household) -> None:
        vault.reencrypt(household)
        household.updated_at = now
        await uow.villages.replace_ciphertexts([household])

    return await rewrite_in_batches(
        unit_of_work=unit_of_work,
        count=lambda uow: uow.villages.count_under_other_keys(key_id),
        fetch=lambda uow, limit: uow.villages.under_other_keys(key_id, limit=limit),
        rewrite=rewrite,
        batch_size=batch_size,
        progress=progress,
    )


def _context(field: HouseholdField, row: str) -> FieldContext:
    return FieldContext(table=TABLE, column=field.value, row_id=row)

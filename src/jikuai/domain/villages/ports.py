"""What whole-village credit needs from persistence."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from jikuai.domain.villages.model import Household, RosterImport, VillageProgress


class VillageRepository(Protocol):
    async def households_by_index(
        self, institution_id: uuid.UUID, id_number_bidxs: Sequence[bytes], *, lock: bool = False
    ) -> Sequence[Household]:
        """The institution's households among these blind indexes of ID numbers; with `lock`,
        held until the transaction ends, so two imports of one household go one after the
        other and never write over an acceptance or a sign-up made meanwhile."""

    async def households_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Household]: ...
    async def add_households(self, households: Sequence[Household]) -> None:
        """Insert; CONCURRENT_UPDATE when another import added one of them meanwhile."""

    async def save_households(self, households: Sequence[Household]) -> None:
        """Write the households' roster facts, screening, whitelist entry and customer as they
        now are (not their acceptance, which only `accept` writes)."""

    async def replace_ciphertexts(self, households: Sequence[Household]) -> None:
        """Write the households' heads' ciphertexts and data key (re-encryption) alone."""

    async def under_other_keys(self, key_id: int, *, limit: int) -> Sequence[Household]:
        """Households whose head is encrypted under a data key other than `key_id`."""

    async def count_under_other_keys(self, key_id: int) -> int: ...
    async def link_customer(
        self, institution_id: uuid.UUID, id_number_bidx: bytes, customer_id: uuid.UUID
    ) -> None:
        """Note that the head of the household with this ID number signed up as the customer."""

    async def accept(
        self, household_id: uuid.UUID, *, credit_line_id: uuid.UUID | None, at: datetime
    ) -> bool:
        """Mark the offer accepted unless it already was; whether this call did."""

    async def households_page(
        self,
        institution_id: uuid.UUID,
        village_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Household]: ...

    async def unfinished_import(
        self, institution_id: uuid.UUID, village_id: uuid.UUID, digest: bytes
    ) -> RosterImport | None:
        """The latest run of this content for the village that has not completed."""

    async def imports_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[RosterImport]: ...
    async def add_import(self, record: RosterImport) -> None: ...
    async def save_import(self, record: RosterImport, *, saved_up_to: int) -> None:
        """Save the run's record, unless another run of the same content saved it since it
        stood at `saved_up_to` lines: then CONCURRENT_UPDATE."""

    async def imports_page(
        self,
        institution_id: uuid.UUID,
        village_id: uuid.UUID,
        *,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[RosterImport]:
        """The village's imports, newest first."""

    async def progress(
        self,
        *,
        institution_id: uuid.UUID | None,
        branch_id: uuid.UUID | None,
        village_id: uuid.UUID | None,
    ) -> VillageProgress:
        """The figures of whole-village credit over the households in scope."""

    async def progress_by_village(
        self, village_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, VillageProgress]:
        """Each village's figures (a village with no household has none)."""

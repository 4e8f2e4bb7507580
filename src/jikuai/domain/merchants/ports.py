"""What the merchants context needs from persistence."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from jikuai.domain.merchants.model import (
    Merchant,
    MerchantOperator,
    MerchantStatus,
    Reward,
    RewardFilter,
)


class MerchantRepository(Protocol):
    async def add(self, merchant: Merchant) -> None:
        """Insert; DomainError(MERCHANT_EXISTS) when the institution knows the USCC."""

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Merchant]: ...
    async def lock(self, merchant_id: uuid.UUID) -> None:
        """Hold the merchant's row until the transaction ends (a review reads, then writes)."""

    async def encrypted_under_other_keys(
        self, key_id: int, *, limit: int
    ) -> Sequence[Merchant]: ...
    async def count_encrypted_under_other_keys(self, key_id: int) -> int: ...
    async def replace_ciphertexts(self, merchant: Merchant) -> None: ...
    async def save_status(self, merchant: Merchant) -> None:
        """Store status, reason, reviewer, onboarding staff and times."""

    async def page(
        self,
        *,
        institution_id: uuid.UUID | None,
        status: MerchantStatus | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Merchant]: ...
    async def add_operator(self, operator: MerchantOperator) -> None:
        """Insert; DomainError(USERNAME_TAKEN) when the username is in use."""

    async def operator_by_username(self, username: str) -> MerchantOperator | None: ...
    async def operators_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[MerchantOperator]: ...
    async def operators_of(
        self, merchant_ids: Sequence[uuid.UUID]
    ) -> Sequence[MerchantOperator]: ...
    async def set_operator_password_hash(
        self, operator_id: uuid.UUID, password_hash: str
    ) -> None: ...


class RewardRepository(Protocol):
    async def add(self, reward: Reward) -> None: ...
    async def save(self, reward: Reward) -> None:
        """Store the editable fields (name, description, price, stock, limits, window, active)."""

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Reward]: ...
    async def page(
        self, filter: RewardFilter, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Reward]:
        """Rewards in id order; with `filter.offered_on`, only active ones of approved merchants
        within their validity window."""

    async def of_merchants(
        self,
        merchant_ids: Sequence[uuid.UUID],
        *,
        offered_on: date | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Reward]:
        """Up to `limit` rewards of each merchant after `after`, in id order; with `offered_on`,
        only those active and within their validity window that day."""

    async def take_stock(self, reward_id: uuid.UUID) -> bool:
        """One item out of a limited stock; False when none is left. Unlimited: always True."""

    async def return_stock(self, reward_id: uuid.UUID) -> None:
        """One item back (a voided or reversed redemption); no-op for unlimited stock."""

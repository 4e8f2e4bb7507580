"""The persistence the domain needs, declared as protocols and implemented in `persistence/`.

A use case receives a `UnitOfWork`: one transaction, its repositories, and `commit()`. Leaving
the `async with` block without committing rolls everything back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from jikuai.domain.credit.ports import (
    AlertRepository,
    ApplicationRepository,
    CreditLineRepository,
    CreditListRepository,
    LoanRepository,
    ProductRepository,
)
from jikuai.domain.customers.model import Customer, CustomerFilter
from jikuai.domain.identity.model import AuditEvent, RefreshToken, WeChatAccount
from jikuai.domain.merchants.ports import MerchantRepository, RewardRepository
from jikuai.domain.operations.ports import PersistedOperationRepository
from jikuai.domain.performance.ports import PerformanceRepository
from jikuai.domain.points.ports import LedgerRepository, RedemptionRepository
from jikuai.domain.scheduling.ports import JobRunRepository
from jikuai.domain.tenancy.model import Branch, Institution, ServiceClient, Staff, Village
from jikuai.domain.villages.ports import VillageRepository


class TenancyRepository(Protocol):
    async def institutions(self) -> Sequence[Institution]: ...
    async def institutions_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Institution]: ...
    async def institution_by_code(self, code: str) -> Institution | None: ...
    async def branches_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Branch]: ...
    async def branches_of(self, institution_ids: Sequence[uuid.UUID]) -> Sequence[Branch]: ...
    async def village(self, village_id: uuid.UUID) -> Village | None: ...
    async def villages_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Village]: ...
    async def village_by_code(self, code: str) -> Village | None: ...
    async def villages_page(
        self,
        *,
        institution_id: uuid.UUID | None,
        branch_id: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Village]:
        """Villages in id order after `after`, of an institution and branch where given."""

    async def save_village(self, village: Village) -> None: ...
    async def staff_by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Staff]: ...
    async def staff_by_username(self, username: str) -> Staff | None: ...
    async def staff_by_usernames(
        self, institution_id: uuid.UUID, usernames: Sequence[str]
    ) -> Sequence[Staff]:
        """The institution's staff, active or not, among `usernames`."""

    async def add_institution(self, institution: Institution) -> None: ...
    async def add_branch(self, branch: Branch) -> None: ...
    async def add_village(self, village: Village) -> None: ...
    async def add_staff(self, staff: Staff) -> None: ...
    async def set_staff_password_hash(self, staff_id: uuid.UUID, password_hash: str) -> None: ...


class CustomerRepository(Protocol):
    async def add(self, customer: Customer) -> None:
        """Insert; raises DomainError(CUSTOMER_EXISTS) if the ID number is taken."""

    async def by_id(
        self, ids: Sequence[uuid.UUID], *, institution_id: uuid.UUID | None
    ) -> Sequence[Customer]: ...
    async def id_number_taken(self, institution_id: uuid.UUID, id_number_bidx: bytes) -> bool: ...
    async def by_id_number_bidx(
        self, institution_id: uuid.UUID, id_number_bidxs: Sequence[bytes]
    ) -> Sequence[Customer]:
        """The institution's customers among these blind indexes of ID numbers."""

    async def by_referral_code(self, institution_id: uuid.UUID, code: str) -> Customer | None: ...
    async def lock(self, customer_id: uuid.UUID) -> None:
        """Hold the customer's row until the transaction ends (decisions about their credit)."""

    async def page(
        self,
        *,
        institution_id: uuid.UUID | None,
        only_id: uuid.UUID | None,
        filter: CustomerFilter,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[Customer]:
        """Customers in id order after `after`; `only_id` limits a customer actor to itself."""

    async def encrypted_under_other_keys(
        self, key_id: int, *, limit: int
    ) -> Sequence[Customer]: ...
    async def count_encrypted_under_other_keys(self, key_id: int) -> int: ...
    async def replace_ciphertexts(self, customer: Customer) -> None: ...


class IdentityRepository(Protocol):
    async def wechat_account(self, app_id: str, openid: str) -> WeChatAccount | None: ...
    async def wechat_account_by_id(self, account_id: uuid.UUID) -> WeChatAccount | None: ...
    async def save_wechat_account(self, account: WeChatAccount) -> bool:
        """Insert, or record a login; False when a concurrent first login inserted it first."""

    async def bind_wechat_account(self, account_id: uuid.UUID, customer_id: uuid.UUID) -> bool:
        """Bind if still unbound; False when the account already has a customer."""

    async def wechat_accounts_under_other_keys(
        self, key_id: int, *, limit: int
    ) -> Sequence[WeChatAccount]: ...
    async def count_wechat_accounts_under_other_keys(self, key_id: int) -> int: ...
    async def add_refresh_token(self, token: RefreshToken) -> None: ...
    async def refresh_token_for_update(self, token_hash: bytes) -> RefreshToken | None: ...
    async def mark_refresh_token_used(self, token_id: uuid.UUID, at: datetime) -> bool:
        """Use a live token once; False when another request used or revoked it first."""

    async def revoke_refresh_family(self, family_id: uuid.UUID, at: datetime) -> None: ...
    async def delete_expired_refresh_tokens(self, now: datetime) -> int:
        """Delete the refresh tokens whose expiry has passed; how many."""

    async def service_client_by_name(self, name: str) -> ServiceClient | None: ...
    async def add_service_client(self, client: ServiceClient) -> bool:
        """Insert; False when the name is taken."""

    async def add_audit_event(self, event: AuditEvent) -> None: ...


class Repositories(Protocol):
    """Every repository, on one connection; what reads use."""

    @property
    def tenancy(self) -> TenancyRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def identity(self) -> IdentityRepository: ...
    @property
    def products(self) -> ProductRepository: ...
    @property
    def credit_lists(self) -> CreditListRepository: ...
    @property
    def applications(self) -> ApplicationRepository: ...
    @property
    def credit_lines(self) -> CreditLineRepository: ...
    @property
    def loans(self) -> LoanRepository: ...
    @property
    def alerts(self) -> AlertRepository: ...
    @property
    def merchants(self) -> MerchantRepository: ...
    @property
    def rewards(self) -> RewardRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def redemptions(self) -> RedemptionRepository: ...
    @property
    def performance(self) -> PerformanceRepository: ...
    @property
    def job_runs(self) -> JobRunRepository: ...
    @property
    def villages(self) -> VillageRepository: ...
    @property
    def persisted_operations(self) -> PersistedOperationRepository: ...


class UnitOfWork(Repositories, Protocol):
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...

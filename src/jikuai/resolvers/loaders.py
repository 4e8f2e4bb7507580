"""Per-request DataLoaders, one per (entity, key); each batch is one SQL statement."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date
from functools import cached_property
from typing import Any, NamedTuple, Protocol, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.exceptions import WrongNumberOfResultsReturned

from jikuai.domain.credit.applications import LoanApplication, Transition
from jikuai.domain.credit.lines import CreditLine
from jikuai.domain.credit.model import Loan, LoanInstallment
from jikuai.domain.credit.ports import RepaymentRecord
from jikuai.domain.credit.products import LoanProduct, LprRate, LprTenor, lpr_on
from jikuai.domain.customers.model import Customer
from jikuai.domain.merchants.model import Merchant, MerchantOperator, Reward
from jikuai.domain.performance.model import Scheme
from jikuai.domain.points.model import Redemption
from jikuai.domain.ports import Repositories
from jikuai.domain.tenancy.model import Branch, Institution, Staff, Village
from jikuai.domain.villages.model import NO_PROGRESS, VillageProgress
from jikuai.persistence.engine import SessionClosed


class HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


T = TypeVar("T", bound=HasId)
ReadsProvider = Callable[[], Awaitable[Repositories]]


def _by_id(rows: Sequence[T], keys: Sequence[uuid.UUID]) -> list[T | None]:
    found = {row.id: row for row in rows}
    return [found.get(key) for key in keys]


class OfCustomer(Protocol):
    @property
    def customer_id(self) -> uuid.UUID: ...


C = TypeVar("C", bound=OfCustomer)


def _grouped(rows: Sequence[C], keys: Sequence[uuid.UUID]) -> list[list[C]]:
    """Rows by their customer, in the order of `keys`."""
    found: dict[uuid.UUID, list[C]] = defaultdict(list)
    for row in rows:
        found[row.customer_id].append(row)
    return [found[key] for key in keys]


async def _closed() -> Repositories:
    raise SessionClosed


class RewardsOf(NamedTuple):
    """A page of one merchant's rewards: at most `limit` after `after`, only those on offer on
    `offered_on` if given. Pages asked with the same bounds are read in one statement."""

    merchant_id: uuid.UUID
    offered_on: date | None
    after: uuid.UUID | None
    limit: int


K = TypeVar("K")
V = TypeVar("V")


class Loader(DataLoader[K, V]):
    """strawberry's DataLoader, reading at once a `load_many` of keys it has neither cached
    nor waiting: a plan's batch load asks for a whole level's keys together, and a future,
    a batch entry and a callback for each key would cost more than the read itself."""

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        wanted = list(keys)
        if len(wanted) > 1 and self._all_unknown(wanted):
            return self._read(wanted)
        return super().load_many(wanted)

    def _all_unknown(self, keys: list[K]) -> bool:
        cached = self.cache_map.get
        return len(set(keys)) == len(keys) and all(cached(key) is None for key in keys)

    async def _read(self, keys: list[K]) -> list[V]:
        """The keys are cached as waiting while they are read, so a second ask for them
        meanwhile (an alias of the same field) waits for this read instead of making one."""
        waiting = [self.loop.create_future() for _ in keys]
        for key, future in zip(keys, waiting, strict=True):
            self.cache_map.set(key, future)
        try:
            values: list[Any] = list(await self.load_fn(keys))
            if len(values) != len(keys):
                raise WrongNumberOfResultsReturned(expected=len(keys), received=len(values))
        except BaseException as error:
            for future in waiting:
                _fail(future, error)
            raise
        failure: BaseException | None = None
        for value, future in zip(values, waiting, strict=True):
            if isinstance(value, BaseException):
                failure = failure or value
                _fail(future, value)
            else:
                future.set_result(value)
        if failure is not None:
            raise failure  # as `load_many` raises the first of its keys' failures
        return values


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    """The future failed as the read did; its error counts as seen (whoever waits on it
    sees it too), since the read raises it to its own caller."""
    if isinstance(error, asyncio.CancelledError):
        future.cancel()
        return
    future.set_exception(error)
    future.exception()


class Loaders:
    """One request's loaders, each made when first used; they share the request's reads."""

    def __init__(self, reads: ReadsProvider) -> None:
        self._reads = reads

    def clear(self) -> None:
        """Drop every loader made: each refers back to this object through its load
        function, so what it cached would otherwise wait for the cycle collector."""
        self.__dict__.clear()
        self._reads = _closed

    @cached_property
    def institution_by_id(self) -> Loader[uuid.UUID, Institution | None]:
        return Loader(self._institutions)

    @cached_property
    def branch_by_id(self) -> Loader[uuid.UUID, Branch | None]:
        return Loader(self._branches)

    @cached_property
    def village_by_id(self) -> Loader[uuid.UUID, Village | None]:
        return Loader(self._villages)

    @cached_property
    def village_progress(self) -> Loader[uuid.UUID, VillageProgress]:
        return Loader(self._village_progress)

    @cached_property
    def branches_by_institution(self) -> Loader[uuid.UUID, list[Branch]]:
        return Loader(self._branches_of)

    @cached_property
    def staff_by_id(self) -> Loader[uuid.UUID, Staff | None]:
        return Loader(self._staff)

    @cached_property
    def scheme_by_id(self) -> Loader[uuid.UUID, Scheme | None]:
        return Loader(self._schemes)

    @cached_property
    def customer_by_id(self) -> Loader[uuid.UUID, Customer | None]:
        return Loader(self._customers)

    @cached_property
    def product_by_id(self) -> Loader[uuid.UUID, LoanProduct | None]:
        return Loader(self._products)

    @cached_property
    def lpr_in_force(self) -> Loader[tuple[LprTenor, date], LprRate | None]:
        """The LPR of a tenor in force on a day; the whole (small) table is read once."""
        return Loader(self._lprs_in_force)

    @cached_property
    def application_by_id(self) -> Loader[uuid.UUID, LoanApplication | None]:
        return Loader(self._applications)

    @cached_property
    def transitions_by_application(self) -> Loader[uuid.UUID, list[Transition]]:
        return Loader(self._transitions)

    @cached_property
    def credit_line_by_id(self) -> Loader[uuid.UUID, CreditLine | None]:
        return Loader(self._credit_lines)

    @cached_property
    def credit_lines_by_customer(self) -> Loader[uuid.UUID, list[CreditLine]]:
        return Loader(self._credit_lines_of)

    @cached_property
    def applications_by_customer(self) -> Loader[uuid.UUID, list[LoanApplication]]:
        return Loader(self._applications_of)

    @cached_property
    def loans_by_customer(self) -> Loader[uuid.UUID, list[Loan]]:
        return Loader(self._loans_of)

    @cached_property
    def loan_by_id(self) -> Loader[uuid.UUID, Loan | None]:
        return Loader(self._loans)

    @cached_property
    def installments_by_loan(self) -> Loader[uuid.UUID, list[LoanInstallment]]:
        return Loader(self._installments)

    @cached_property
    def repayments_by_loan(self) -> Loader[uuid.UUID, list[RepaymentRecord]]:
        return Loader(self._repayments)

    @cached_property
    def merchant_by_id(self) -> Loader[uuid.UUID, Merchant | None]:
        return Loader(self._merchants)

    @cached_property
    def operator_by_id(self) -> Loader[uuid.UUID, MerchantOperator | None]:
        return Loader(self._operators)

    @cached_property
    def operators_by_merchant(self) -> Loader[uuid.UUID, list[MerchantOperator]]:
        return Loader(self._operators_of)

    @cached_property
    def redemption_by_id(self) -> Loader[uuid.UUID, Redemption | None]:
        return Loader(self._redemptions)

    @cached_property
    def reward_by_id(self) -> Loader[uuid.UUID, Reward | None]:
        return Loader(self._rewards)

    @cached_property
    def rewards_by_merchant(self) -> Loader[RewardsOf, list[Reward]]:
        return Loader(self._rewards_of)

    async def _products(self, keys: list[uuid.UUID]) -> list[LoanProduct | None]:
        return _by_id(await (await self._reads()).products.by_id(keys), keys)

    async def _lprs_in_force(self, keys: list[tuple[LprTenor, date]]) -> list[LprRate | None]:
        rates = await (await self._reads()).products.lpr_rates()
        return [lpr_on(rates, tenor, day) for tenor, day in keys]

    async def _applications(self, keys: list[uuid.UUID]) -> list[LoanApplication | None]:
        return _by_id(await (await self._reads()).applications.by_id(keys), keys)

    async def _transitions(self, keys: list[uuid.UUID]) -> list[list[Transition]]:
        found = await (await self._reads()).applications.transitions_of(keys)
        return [found.get(key, []) for key in keys]

    async def _credit_lines(self, keys: list[uuid.UUID]) -> list[CreditLine | None]:
        return _by_id(await (await self._reads()).credit_lines.by_id(keys), keys)

    async def _credit_lines_of(self, keys: list[uuid.UUID]) -> list[list[CreditLine]]:
        return _grouped(await (await self._reads()).credit_lines.of_customers(keys), keys)

    async def _applications_of(self, keys: list[uuid.UUID]) -> list[list[LoanApplication]]:
        return _grouped(await (await self._reads()).applications.of_customers(keys), keys)

    async def _loans_of(self, keys: list[uuid.UUID]) -> list[list[Loan]]:
        return _grouped(await (await self._reads()).loans.of_customers(keys), keys)

    async def _loans(self, keys: list[uuid.UUID]) -> list[Loan | None]:
        return _by_id(await (await self._reads()).loans.by_id(keys), keys)

    async def _installments(self, keys: list[uuid.UUID]) -> list[list[LoanInstallment]]:
        found = await (await self._reads()).loans.installments_of(keys)
        return [found.get(key, []) for key in keys]

    async def _repayments(self, keys: list[uuid.UUID]) -> list[list[RepaymentRecord]]:
        found = await (await self._reads()).loans.repayments_of(keys)
        return [found.get(key, []) for key in keys]

    async def _institutions(self, keys: list[uuid.UUID]) -> list[Institution | None]:
        return _by_id(await (await self._reads()).tenancy.institutions_by_id(keys), keys)

    async def _branches(self, keys: list[uuid.UUID]) -> list[Branch | None]:
        return _by_id(await (await self._reads()).tenancy.branches_by_id(keys), keys)

    async def _villages(self, keys: list[uuid.UUID]) -> list[Village | None]:
        return _by_id(await (await self._reads()).tenancy.villages_by_id(keys), keys)

    async def _village_progress(self, keys: list[uuid.UUID]) -> list[VillageProgress]:
        found = await (await self._reads()).villages.progress_by_village(keys)
        return [found.get(key, NO_PROGRESS) for key in keys]

    async def _branches_of(self, keys: list[uuid.UUID]) -> list[list[Branch]]:
        grouped: dict[uuid.UUID, list[Branch]] = defaultdict(list)
        for branch in await (await self._reads()).tenancy.branches_of(keys):
            grouped[branch.institution_id].append(branch)
        return [grouped[key] for key in keys]

    async def _staff(self, keys: list[uuid.UUID]) -> list[Staff | None]:
        return _by_id(await (await self._reads()).tenancy.staff_by_id(keys), keys)

    async def _schemes(self, keys: list[uuid.UUID]) -> list[Scheme | None]:
        return _by_id(await (await self._reads()).performance.schemes_by_id(keys), keys)

    async def customer_at_once(self, key: uuid.UUID) -> Customer | None:
        """One customer for a root field, read at once: there is no batch to wait for there,
        and scheduling one costs more than the read. It shares `customer_by_id`'s cache."""
        cached = self.customer_by_id.cache_map.get(key)
        if cached is not None and not cached.cancelled():
            return await cached
        (found,) = await self._customers([key])
        self.customer_by_id.prime(key, found)
        return found

    async def _customers(self, keys: list[uuid.UUID]) -> list[Customer | None]:
        """Unscoped: callers check visibility through `Context.visible_customer`."""
        rows = await (await self._reads()).customers.by_id(keys, institution_id=None)
        return _by_id(rows, keys)

    async def _merchants(self, keys: list[uuid.UUID]) -> list[Merchant | None]:
        return _by_id(await (await self._reads()).merchants.by_id(keys), keys)

    async def _operators(self, keys: list[uuid.UUID]) -> list[MerchantOperator | None]:
        return _by_id(await (await self._reads()).merchants.operators_by_id(keys), keys)

    async def _operators_of(self, keys: list[uuid.UUID]) -> list[list[MerchantOperator]]:
        grouped: dict[uuid.UUID, list[MerchantOperator]] = defaultdict(list)
        for operator in await (await self._reads()).merchants.operators_of(keys):
            grouped[operator.merchant_id].append(operator)
        return [grouped[key] for key in keys]

    async def _redemptions(self, keys: list[uuid.UUID]) -> list[Redemption | None]:
        return _by_id(await (await self._reads()).redemptions.by_id(keys), keys)

    async def _rewards(self, keys: list[uuid.UUID]) -> list[Reward | None]:
        return _by_id(await (await self._reads()).rewards.by_id(keys), keys)

    async def _rewards_of(self, keys: list[RewardsOf]) -> list[list[Reward]]:
        """One statement per distinct (day, after, limit): a level of a query asks one."""
        reads = await self._reads()
        bounds: dict[tuple[date | None, uuid.UUID | None, int], list[uuid.UUID]] = defaultdict(list)
        for key in keys:
            bounds[key.offered_on, key.after, key.limit].append(key.merchant_id)
        grouped: dict[RewardsOf, list[Reward]] = defaultdict(list)
        for (day, after, limit), merchant_ids in bounds.items():
            found = await reads.rewards.of_merchants(
                merchant_ids, offered_on=day, after=after, limit=limit
            )
            for reward in found:
                grouped[RewardsOf(reward.merchant_id, day, after, limit)].append(reward)
        return [grouped[key] for key in keys]

"""The SQL unit of work: one transaction on the request's primary connection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.persistence.repositories.credit import (
    SqlAlertRepository,
    SqlApplicationRepository,
    SqlCreditLineRepository,
    SqlCreditListRepository,
    SqlLoanRepository,
    SqlProductRepository,
)
from jikuai.persistence.repositories.customers import SqlCustomerRepository
from jikuai.persistence.repositories.identity import SqlIdentityRepository
from jikuai.persistence.repositories.merchants import SqlMerchantRepository, SqlRewardRepository
from jikuai.persistence.repositories.operations import SqlPersistedOperationRepository
from jikuai.persistence.repositories.performance import SqlPerformanceRepository
from jikuai.persistence.repositories.points import SqlLedgerRepository, SqlRedemptionRepository
from jikuai.persistence.repositories.scheduling import SqlJobRunRepository
from jikuai.persistence.repositories.tenancy import SqlTenancyRepository
from jikuai.persistence.repositories.villages import SqlVillageRepository


class Repositories:
    """Every repository, bound to one connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.tenancy = SqlTenancyRepository(connection)
        self.customers = SqlCustomerRepository(connection)
        self.identity = SqlIdentityRepository(connection)
        self.products = SqlProductRepository(connection)
        self.credit_lists = SqlCreditListRepository(connection)
        self.applications = SqlApplicationRepository(connection)
        self.credit_lines = SqlCreditLineRepository(connection)
        self.loans = SqlLoanRepository(connection)
        self.alerts = SqlAlertRepository(connection)
        self.merchants = SqlMerchantRepository(connection)
        self.rewards = SqlRewardRepository(connection)
        self.ledger = SqlLedgerRepository(connection)
        self.redemptions = SqlRedemptionRepository(connection)
        self.performance = SqlPerformanceRepository(connection)
        self.job_runs = SqlJobRunRepository(connection)
        self.villages = SqlVillageRepository(connection)
        self.persisted_operations = SqlPersistedOperationRepository(connection)


class SqlUnitOfWork(Repositories):
    """`async with uow:` opens the transaction; it rolls back unless `commit()` was awaited."""

    def __init__(self, connect: Callable[[], Awaitable[AsyncConnection]]) -> None:
        self._connect = connect
        self._connection: AsyncConnection | None = None
        self._committed = False

    async def __aenter__(self) -> Self:
        connection = await self._connect()
        if connection.in_transaction():
            await connection.rollback()
        await connection.begin()
        self._connection = connection
        self._committed = False
        Repositories.__init__(self, connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._connection is not None and not self._committed:
            await self._connection.rollback()

    async def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit() outside `async with`")
        await self._connection.commit()
        self._committed = True

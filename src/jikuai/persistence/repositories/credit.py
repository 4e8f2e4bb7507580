"""Repositories of retail credit: products and the LPR, lists, applications, lines, loans, alerts.

Money changes only through statements that check what they change: a drawdown is one
conditional `UPDATE` of the line, a loan is saved only at the version it was read at, and a
repayment or drawdown key is unique, so no amount can be spent or paid twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from jikuai.domain.credit.alerts import AlertKind, AlertStatus, RiskAlert
from jikuai.domain.credit.applications import (
    ApplicationState,
    Contract,
    LoanApplication,
    Transition,
)
from jikuai.domain.credit.documents import terms_document, terms_from_document
from jikuai.domain.credit.lines import CreditLine, CreditLineStatus
from jikuai.domain.credit.lists import CreditListEntry, ListKind
from jikuai.domain.credit.model import (
    Classification,
    Component,
    Loan,
    LoanInstallment,
    LoanStatus,
    RepaymentMethod,
)
from jikuai.domain.credit.ports import (
    AlertFilter,
    ApplicationFilter,
    InstallmentHistory,
    LoanFilter,
    RepaymentRecord,
)
from jikuai.domain.credit.products import LoanProduct, LprRate, LprTenor, ProductTerms
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.tenancy.actors import ActorKind
from jikuai.persistence.bulk import insert_rows
from jikuai.persistence.lists import among
from jikuai.persistence.records import Query
from jikuai.persistence.repositories.identity import insert_unless_exists
from jikuai.persistence.tables.credit import (
    application_transitions,
    credit_lines,
    credit_list_entries,
    loan_applications,
    loan_installments,
    loan_products,
    loan_repayments,
    loans,
    lpr_rates,
    risk_alerts,
)
from jikuai.persistence.tables.customers import customers

_PRODUCTS_BY_ID = select(loan_products).where(
    loan_products.c.id.in_(bindparam("ids", expanding=True))
)
_LOANS_BY_ID = select(loans).where(loans.c.id.in_(bindparam("ids", expanding=True)))
_INSERT_LIST_ENTRY = insert(credit_list_entries)
_INSERT_APPLICATION = insert(loan_applications)
_INSERT_TRANSITION = insert(application_transitions)
_INSERT_LINE = insert(credit_lines)
_INSERT_INSTALLMENT = insert(loan_installments)
_SAVE_APPLICATION = (
    update(loan_applications)
    .where(
        loan_applications.c.id == bindparam("key"),
        loan_applications.c.version == bindparam("read_version"),
    )
    .values(
        {
            column: bindparam(f"new_{column}")
            for column in loan_applications.c.keys()  # noqa: SIM118 - names, not columns
            if column != "id"
        }
    )
)


def _fen(column: Any) -> Any:
    """A money column as the whole fen it stores, for sums computed in the database."""
    return func.coalesce(func.sum(type_coerce(column, BigInteger)), 0)


_ACTIVE_LINE = credit_lines.c.status == CreditLineStatus.ACTIVE.value
# A customer's total exposure, in fen, in one round trip: term loans still owed; each usable
# credit line at its whole limit (drawn or not, it is a commitment), and the drawdowns still
# owed on lines no longer usable; and approvals not yet paid out.
_EXPOSURE = select(
    select(_fen(loans.c.outstanding_principal))
    .where(
        loans.c.customer_id == bindparam("customer_id"),
        loans.c.status == LoanStatus.ACTIVE.value,
        or_(
            loans.c.credit_line_id.is_(None),
            loans.c.credit_line_id.in_(select(credit_lines.c.id).where(~_ACTIVE_LINE)),
        ),
    )
    .scalar_subquery()
    + select(_fen(credit_lines.c.limit_amount))
    .where(credit_lines.c.customer_id == bindparam("customer_id"), _ACTIVE_LINE)
    .scalar_subquery()
    + select(_fen(loan_applications.c.approved_amount))
    .where(
        loan_applications.c.customer_id == bindparam("customer_id"),
        loan_applications.c.state.in_(
            [ApplicationState.APPROVED.value, ApplicationState.CONTRACT_SIGNED.value]
        ),
        ~exists().where(credit_lines.c.application_id == loan_applications.c.id),
    )
    .scalar_subquery()
)
_SAVE_LIST_ENTRY = (
    update(credit_list_entries)
    .where(credit_list_entries.c.id == bindparam("entry_id"))
    .values(
        limit_amount=bindparam("limit_amount"),
        valid_from=bindparam("valid_from"),
        valid_until=bindparam("valid_until"),
        revoked_at=bindparam("revoked_at"),
        revoked_by=bindparam("revoked_by"),
    )
)


_LOANS_OF_CUSTOMERS = Query(
    lambda dialect: among(select(loans), loans.c.customer_id, "ids", dialect).order_by(loans.c.id)
)


@cache
def _entries_by_id(dialect: str) -> Select[Any]:
    return among(select(credit_list_entries), credit_list_entries.c.id, "ids", dialect)


@cache
def _blacklisted_among(dialect: str) -> Select[Any]:
    entries = credit_list_entries.c
    query = select(entries.id_number_bidx).where(
        entries.institution_id == bindparam("institution_id"),
        entries.kind == ListKind.BLACKLIST.value,
        entries.revoked_at.is_(None),
        entries.valid_from <= bindparam("day"),
        or_(entries.valid_until.is_(None), entries.valid_until >= bindparam("day")),
    )
    return among(query, entries.id_number_bidx, "bidxs", dialect)


_ENTRIES_FOR_ID_NUMBER = select(credit_list_entries).where(
    credit_list_entries.c.institution_id == bindparam("institution_id"),
    credit_list_entries.c.id_number_bidx == bindparam("bidx"),
)
_HISTORY = (
    select(loan_installments.c.due_date, loan_installments.c.paid_on, loans.c.grace_days)
    .join(loans, loans.c.id == loan_installments.c.loan_id)
    .where(
        loans.c.customer_id == bindparam("customer_id"),
        or_(
            loan_installments.c.due_date >= bindparam("due_since"),
            loan_installments.c.paid_on.is_(None),
        ),
    )
)
_LPR_IN_FORCE = (
    select(lpr_rates)
    .where(lpr_rates.c.tenor == bindparam("tenor"), lpr_rates.c.published_on <= bindparam("day"))
    .order_by(lpr_rates.c.published_on.desc())
    .limit(1)
)
_LATEST_OF = (
    select(loan_products)
    .where(
        tuple_(loan_products.c.institution_id, loan_products.c.code).in_(
            select(loan_products.c.institution_id, loan_products.c.code).where(
                loan_products.c.id == bindparam("id")
            )
        )
    )
    .order_by(loan_products.c.version.desc())
    .limit(1)
)
# Installments are read without `institution_id`: it is their loan's, kept for tenancy only.
_INSTALLMENT_COLUMNS = [column for column in loan_installments.c if column.name != "institution_id"]
_INSTALLMENTS_OF = (
    select(*_INSTALLMENT_COLUMNS)
    .where(loan_installments.c.loan_id.in_(bindparam("ids", expanding=True)))
    .order_by(loan_installments.c.loan_id, loan_installments.c.number)
)


class SqlProductRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, product: LoanProduct) -> None:
        """Insert a version; PRODUCT_EXISTS when that code and version were taken first."""
        values = _columns(product) | {
            "terms": terms_document(product.terms),
            "name": product.terms.name,
        }
        added = await self._connection.execute(
            insert_unless_exists(
                self._connection, loan_products, values, ["institution_id", "code", "version"]
            )
        )
        if added.rowcount != 1:
            raise DomainError(ErrorCode.PRODUCT_EXISTS, field=("code",))

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[LoanProduct]:
        rows = await self._connection.execute(_PRODUCTS_BY_ID, {"ids": list(ids)})
        return [_product(row) for row in rows]

    async def latest(self, institution_id: uuid.UUID, code: str) -> LoanProduct | None:
        query = (
            select(loan_products)
            .where(loan_products.c.institution_id == institution_id, loan_products.c.code == code)
            .order_by(loan_products.c.version.desc())
            .limit(1)
        )
        row = (await self._connection.execute(query)).first()
        return _product(row) if row else None

    async def latest_of(self, product_id: uuid.UUID) -> LoanProduct | None:
        """The newest version of the product that `product_id` is a version of."""
        row = (await self._connection.execute(_LATEST_OF, {"id": product_id})).first()
        return _product(row) if row else None

    async def current(self, institution_ids: Sequence[uuid.UUID] | None) -> Sequence[LoanProduct]:
        """The newest version of every product, of the given institutions (None: all)."""
        newest = (
            select(
                loan_products.c.institution_id,
                loan_products.c.code,
                func.max(loan_products.c.version).label("version"),
            )
            .group_by(loan_products.c.institution_id, loan_products.c.code)
            .subquery()
        )
        query = select(loan_products).join(
            newest,
            and_(
                loan_products.c.institution_id == newest.c.institution_id,
                loan_products.c.code == newest.c.code,
                loan_products.c.version == newest.c.version,
            ),
        )
        if institution_ids is not None:
            query = query.where(loan_products.c.institution_id.in_(institution_ids))
        query = query.order_by(loan_products.c.institution_id, loan_products.c.code)
        return [_product(row) for row in await self._connection.execute(query)]

    async def save_lpr(self, rate: LprRate, *, by: uuid.UUID, at: datetime, id: uuid.UUID) -> None:
        """Publish a rate; a correction for the same tenor and date replaces it."""
        await self._connection.execute(
            delete(lpr_rates).where(
                lpr_rates.c.tenor == rate.tenor.value,
                lpr_rates.c.published_on == rate.published_on,
            )
        )
        await self._connection.execute(
            insert(lpr_rates).values(
                id=id,
                tenor=rate.tenor.value,
                published_on=rate.published_on,
                rate=rate.rate,
                created_by=by,
                created_at=at,
            )
        )

    async def lpr_in_force(self, tenor: LprTenor, day: date) -> LprRate | None:
        """The LPR of `tenor` in force on `day`: the latest published on or before it."""
        row = (
            await self._connection.execute(_LPR_IN_FORCE, {"tenor": tenor.value, "day": day})
        ).first()
        return LprRate(LprTenor(row.tenor), row.published_on, row.rate) if row else None

    async def lpr_rates(self) -> Sequence[LprRate]:
        query = select(lpr_rates).order_by(lpr_rates.c.published_on.desc(), lpr_rates.c.tenor)
        return [
            LprRate(LprTenor(row.tenor), row.published_on, row.rate)
            for row in await self._connection.execute(query)
        ]


class SqlCreditListRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, entry: CreditListEntry) -> None:
        await self._connection.execute(_INSERT_LIST_ENTRY, _columns(entry))

    async def add_many(self, entries: Sequence[CreditListEntry]) -> None:
        await insert_rows(self._connection, credit_list_entries, entries)

    async def save_many(self, entries: Sequence[CreditListEntry]) -> None:
        if entries:
            await self._connection.execute(
                _SAVE_LIST_ENTRY,
                [
                    {
                        "entry_id": each.id,
                        "limit_amount": each.limit_amount,
                        "valid_from": each.valid_from,
                        "valid_until": each.valid_until,
                        "revoked_at": each.revoked_at,
                        "revoked_by": each.revoked_by,
                    }
                    for each in entries
                ],
            )

    async def by_id(self, entry_id: uuid.UUID) -> CreditListEntry | None:
        found = await self.by_ids([entry_id])
        return found[0] if found else None

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> Sequence[CreditListEntry]:
        if not ids:
            return []
        rows = await self._connection.execute(
            _entries_by_id(self._connection.dialect.name), {"ids": list(set(ids))}
        )
        return [_entry(row) for row in rows]

    async def blacklisted_among(
        self, institution_id: uuid.UUID, id_number_bidxs: Sequence[bytes], day: date
    ) -> set[bytes]:
        if not id_number_bidxs:
            return set()
        rows = await self._connection.execute(
            _blacklisted_among(self._connection.dialect.name),
            {"institution_id": institution_id, "bidxs": list(set(id_number_bidxs)), "day": day},
        )
        return {row.id_number_bidx for row in rows}

    async def revoke(self, entry_id: uuid.UUID, *, by: uuid.UUID, at: datetime) -> bool:
        result = await self._connection.execute(
            update(credit_list_entries)
            .where(credit_list_entries.c.id == entry_id, credit_list_entries.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_by=by)
        )
        return result.rowcount == 1

    async def for_id_number(
        self, institution_id: uuid.UUID, id_number_bidx: bytes
    ) -> Sequence[CreditListEntry]:
        rows = await self._connection.execute(
            _ENTRIES_FOR_ID_NUMBER, {"institution_id": institution_id, "bidx": id_number_bidx}
        )
        return [_entry(row) for row in rows]

    async def blacklisted_customers(
        self, customer_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Sequence[CreditListEntry]]:
        """Blacklist entries (in force or not) matching each customer's ID number."""
        query = (
            select(customers.c.id.label("customer_id"), credit_list_entries)
            .join(
                credit_list_entries,
                and_(
                    credit_list_entries.c.institution_id == customers.c.institution_id,
                    credit_list_entries.c.id_number_bidx == customers.c.id_number_bidx,
                ),
            )
            .where(
                customers.c.id.in_(customer_ids),
                credit_list_entries.c.kind == ListKind.BLACKLIST.value,
            )
        )
        found: dict[uuid.UUID, list[CreditListEntry]] = defaultdict(list)
        for row in await self._connection.execute(query):
            values = dict(row._mapping)
            found[values.pop("customer_id")].append(_entry_values(values))
        return dict(found)

    async def page(
        self,
        *,
        institution_id: uuid.UUID | None,
        kind: ListKind | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> Sequence[CreditListEntry]:
        query = select(credit_list_entries)
        if institution_id is not None:
            query = query.where(credit_list_entries.c.institution_id == institution_id)
        if kind is not None:
            query = query.where(credit_list_entries.c.kind == kind.value)
        query = _after(query, credit_list_entries.c.id, after, limit)
        return [_entry(row) for row in await self._connection.execute(query)]


class SqlApplicationRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, application: LoanApplication, transitions: Sequence[Transition]) -> None:
        await self._connection.execute(_INSERT_APPLICATION, _application_values(application))
        await self._transitions(transitions)

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[LoanApplication]:
        query = select(loan_applications).where(loan_applications.c.id.in_(ids))
        return [_application(row) for row in await self._connection.execute(query)]

    async def for_update(self, application_id: uuid.UUID) -> LoanApplication | None:
        query = (
            select(loan_applications)
            .where(loan_applications.c.id == application_id)
            .with_for_update()
        )
        row = (await self._connection.execute(query)).first()
        return _application(row) if row else None

    async def save(self, application: LoanApplication, transitions: Sequence[Transition]) -> None:
        """Write back what changed; the row must still be at the version it was read at."""
        values = _application_values(application)
        version = values.pop("version")
        parameters = {f"new_{column}": value for column, value in values.items() if column != "id"}
        result = await self._connection.execute(
            _SAVE_APPLICATION,
            parameters
            | {"key": application.id, "read_version": version, "new_version": version + 1},
        )
        if result.rowcount != 1:
            raise DomainError(ErrorCode.INVALID_STATE)
        application.version = version + 1
        await self._transitions(transitions)

    async def _transitions(self, transitions: Sequence[Transition]) -> None:
        if transitions:
            await self._connection.execute(
                _INSERT_TRANSITION, [_columns(each) for each in transitions]
            )

    async def transitions_of(
        self, application_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Transition]]:
        query = (
            select(application_transitions)
            .where(application_transitions.c.application_id.in_(application_ids))
            .order_by(application_transitions.c.id)
        )
        found: dict[uuid.UUID, list[Transition]] = defaultdict(list)
        for row in await self._connection.execute(query):
            transition = _transition(row)
            found[transition.application_id].append(transition)
        return found

    async def page(
        self, filter: ApplicationFilter, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[LoanApplication]:
        query = select(loan_applications)
        if filter.institution_id is not None:
            query = query.where(loan_applications.c.institution_id == filter.institution_id)
        if filter.customer_id is not None:
            query = query.where(loan_applications.c.customer_id == filter.customer_id)
        if filter.states:
            query = query.where(
                loan_applications.c.state.in_([state.value for state in filter.states])
            )
        query = _after(query, loan_applications.c.id, after, limit)
        return [_application(row) for row in await self._connection.execute(query)]

    async def of_customers(self, customer_ids: Sequence[uuid.UUID]) -> Sequence[LoanApplication]:
        query = (
            select(loan_applications)
            .where(loan_applications.c.customer_id.in_(customer_ids))
            .order_by(loan_applications.c.id)
        )
        return [_application(row) for row in await self._connection.execute(query)]

    async def lapsing(
        self, state: ApplicationState, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[LoanApplication]:
        query = select(loan_applications).where(loan_applications.c.state == state.value)
        query = _after(query, loan_applications.c.id, after, limit)
        return [_application(row) for row in await self._connection.execute(query)]


class SqlCreditLineRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, line: CreditLine) -> None:
        await self._connection.execute(_INSERT_LINE, _columns(line))

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[CreditLine]:
        query = select(credit_lines).where(credit_lines.c.id.in_(ids))
        return [_line(row) for row in await self._connection.execute(query)]

    async def of_customers(self, customer_ids: Sequence[uuid.UUID]) -> Sequence[CreditLine]:
        query = (
            select(credit_lines)
            .where(credit_lines.c.customer_id.in_(customer_ids))
            .order_by(credit_lines.c.id)
        )
        return [_line(row) for row in await self._connection.execute(query)]

    async def draw(self, line_id: uuid.UUID, amount: Decimal, *, at: datetime) -> bool:
        """Take `amount` from the line if that much is still available; one statement, so two
        concurrent drawdowns cannot both pass the check."""
        result = await self._connection.execute(
            update(credit_lines)
            .where(
                credit_lines.c.id == line_id,
                credit_lines.c.status == CreditLineStatus.ACTIVE.value,
                credit_lines.c.used_amount
                + bindparam("amount", type_=credit_lines.c.used_amount.type)
                <= credit_lines.c.limit_amount,
            )
            .values(
                used_amount=credit_lines.c.used_amount
                + bindparam("amount", type_=credit_lines.c.used_amount.type),
                updated_at=at,
            ),
            {"amount": amount},
        )
        return result.rowcount == 1

    async def expire(self, *, before: date, at: datetime) -> int:
        """Mark every active line whose last day is before `before` as expired."""
        result = await self._connection.execute(
            update(credit_lines)
            .where(
                credit_lines.c.status == CreditLineStatus.ACTIVE.value,
                credit_lines.c.valid_until < before,
            )
            .values(status=CreditLineStatus.EXPIRED.value, updated_at=at)
        )
        return int(result.rowcount)

    async def restore(self, line_id: uuid.UUID, amount: Decimal, *, at: datetime) -> None:
        """Give repaid principal back to the line."""
        await self._connection.execute(
            update(credit_lines)
            .where(credit_lines.c.id == line_id)
            .values(
                used_amount=credit_lines.c.used_amount
                - bindparam("amount", type_=credit_lines.c.used_amount.type),
                updated_at=at,
            ),
            {"amount": amount},
        )


class SqlLoanRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(
        self, loan: Loan, installments: Sequence[LoanInstallment], *, draw_key: str | None = None
    ) -> None:
        """Insert the loan; a drawdown key already used on its line raises IDEMPOTENCY_KEY_REUSED
        (the caller then returns the loan that key made)."""
        values = _loan_values(loan) | {"draw_key": draw_key}
        added = await self._connection.execute(
            insert_unless_exists(self._connection, loans, values, ["credit_line_id", "draw_key"])
        )
        if added.rowcount != 1:
            raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED)
        await self._insert_installments(loan, installments)

    async def _insert_installments(
        self, loan: Loan, installments: Sequence[LoanInstallment]
    ) -> None:
        await self._connection.execute(
            _INSERT_INSTALLMENT,
            [_columns(each) | {"institution_id": loan.institution_id} for each in installments],
        )

    async def by_id(self, ids: Sequence[uuid.UUID]) -> Sequence[Loan]:
        rows = await self._connection.execute(_LOANS_BY_ID, {"ids": list(ids)})
        return [_loan(row._asdict()) for row in rows]

    async def of_customers(self, customer_ids: Sequence[uuid.UUID]) -> Sequence[Loan]:
        rows = await _LOANS_OF_CUSTOMERS.all(
            self._connection, ids=list(dict.fromkeys(customer_ids))
        )
        return [_loan(row) for row in rows]

    async def by_draw_key(self, credit_line_id: uuid.UUID, draw_key: str) -> Loan | None:
        query = select(loans).where(
            loans.c.credit_line_id == credit_line_id, loans.c.draw_key == draw_key
        )
        row = (await self._connection.execute(query)).first()
        return _loan(row._asdict()) if row else None

    async def for_update(self, loan_id: uuid.UUID) -> Loan | None:
        query = select(loans).where(loans.c.id == loan_id).with_for_update()
        row = (await self._connection.execute(query)).first()
        return _loan(row._asdict()) if row else None

    async def lock(self, loan_ids: Sequence[uuid.UUID]) -> Sequence[Loan]:
        """The loans, locked for this transaction, taken in id order so that two batches never
        wait on each other crosswise."""
        query = select(loans).where(loans.c.id.in_(loan_ids)).order_by(loans.c.id).with_for_update()
        return [_loan(row._asdict()) for row in await self._connection.execute(query)]

    async def installments_of(
        self, loan_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[LoanInstallment]]:
        found: dict[uuid.UUID, list[LoanInstallment]] = defaultdict(list)
        for row in await self._connection.execute(_INSTALLMENTS_OF, {"ids": list(loan_ids)}):
            found[row.loan_id].append(LoanInstallment(**row._mapping))
        return found

    async def save(
        self,
        loan: Loan,
        installments: Sequence[LoanInstallment],
        *,
        removed_numbers: Sequence[int] = (),
    ) -> None:
        """Write the loan at the version it was read at (CONCURRENT_UPDATE if another request
        wrote it since), replace the given installments and delete the removed ones."""
        values = _loan_values(loan)
        version = values.pop("version")
        result = await self._connection.execute(
            update(loans)
            .where(loans.c.id == loan.id, loans.c.version == version)
            .values(**values, version=version + 1)
        )
        if result.rowcount != 1:
            raise DomainError(ErrorCode.CONCURRENT_UPDATE)
        loan.version = version + 1
        if removed_numbers:
            await self._connection.execute(
                delete(loan_installments).where(
                    loan_installments.c.loan_id == loan.id,
                    loan_installments.c.number.in_(removed_numbers),
                )
            )
        if not installments:
            return
        await self._connection.execute(
            delete(loan_installments).where(
                loan_installments.c.loan_id == loan.id,
                loan_installments.c.number.in_([each.number for each in installments]),
            )
        )
        await self._insert_installments(loan, installments)

    async def add_repayment(self, repayment: RepaymentRecord) -> None:
        """Record a repayment; IDEMPOTENCY_KEY_REUSED when its key was used on the loan."""
        values = _columns(repayment)
        added = await self._connection.execute(
            insert_unless_exists(
                self._connection, loan_repayments, values, ["loan_id", "idempotency_key"]
            )
        )
        if added.rowcount != 1:
            raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED)

    async def repayment_by_key(self, loan_id: uuid.UUID, key: str) -> RepaymentRecord | None:
        query = select(loan_repayments).where(
            loan_repayments.c.loan_id == loan_id, loan_repayments.c.idempotency_key == key
        )
        row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        return RepaymentRecord(**values | {"actor_kind": ActorKind(values["actor_kind"])})

    async def repayments_of(
        self, loan_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[RepaymentRecord]]:
        query = (
            select(loan_repayments)
            .where(loan_repayments.c.loan_id.in_(loan_ids))
            .order_by(loan_repayments.c.id)
        )
        found: dict[uuid.UUID, list[RepaymentRecord]] = defaultdict(list)
        for row in await self._connection.execute(query):
            values = dict(row._mapping)
            found[values["loan_id"]].append(
                RepaymentRecord(**values | {"actor_kind": ActorKind(values["actor_kind"])})
            )
        return found

    async def page(
        self, filter: LoanFilter, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[Loan]:
        query = select(loans)
        if filter.institution_id is not None:
            query = query.where(loans.c.institution_id == filter.institution_id)
        if filter.customer_id is not None:
            query = query.where(loans.c.customer_id == filter.customer_id)
        if filter.status is not None:
            query = query.where(loans.c.status == filter.status.value)
        if filter.overdue_only:
            query = query.where(loans.c.days_past_due > 0)
        query = _after(query, loans.c.id, after, limit)
        return [_loan(row._asdict()) for row in await self._connection.execute(query)]

    async def exposure(self, customer_id: uuid.UUID) -> Decimal:
        fen = await self._connection.scalar(_EXPOSURE, {"customer_id": customer_id})
        return Decimal(int(fen or 0)).scaleb(-2)

    async def installment_history(
        self, customer_id: uuid.UUID, *, due_since: date
    ) -> Sequence[InstallmentHistory]:
        rows = await self._connection.execute(
            _HISTORY, {"customer_id": customer_id, "due_since": due_since}
        )
        return [InstallmentHistory(row.due_date, row.paid_on, row.grace_days) for row in rows]

    async def active_ids(self, *, after: uuid.UUID | None, limit: int) -> Sequence[uuid.UUID]:
        query = select(loans.c.id).where(loans.c.status == LoanStatus.ACTIVE.value)
        query = _after(query, loans.c.id, after, limit)
        return [row.id for row in await self._connection.execute(query)]


class SqlAlertRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def raise_once(self, alert: RiskAlert) -> bool:
        """Insert unless the same loan already has this kind of alert for the same episode."""
        added = await self._connection.execute(
            insert_unless_exists(
                self._connection, risk_alerts, _columns(alert), ["loan_id", "kind", "dedupe_key"]
            )
        )
        return added.rowcount == 1

    async def by_id(self, alert_id: uuid.UUID) -> RiskAlert | None:
        query = select(risk_alerts).where(risk_alerts.c.id == alert_id)
        row = (await self._connection.execute(query)).first()
        return _alert(row) if row else None

    async def for_update(self, alert_id: uuid.UUID) -> RiskAlert | None:
        query = select(risk_alerts).where(risk_alerts.c.id == alert_id).with_for_update()
        row = (await self._connection.execute(query)).first()
        return _alert(row) if row else None

    async def save(self, alert: RiskAlert) -> None:
        await self._connection.execute(
            update(risk_alerts)
            .where(risk_alerts.c.id == alert.id)
            .values(
                status=alert.status.value,
                assignee_id=alert.assignee_id,
                note=alert.note,
                updated_at=alert.updated_at,
            )
        )

    async def page(
        self, filter: AlertFilter, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[RiskAlert]:
        query = select(risk_alerts)
        if filter.institution_id is not None:
            query = query.where(risk_alerts.c.institution_id == filter.institution_id)
        if filter.statuses:
            query = query.where(risk_alerts.c.status.in_([each.value for each in filter.statuses]))
        if filter.kinds:
            query = query.where(risk_alerts.c.kind.in_([each.value for each in filter.kinds]))
        if filter.assignee_id is not None:
            query = query.where(risk_alerts.c.assignee_id == filter.assignee_id)
        if filter.loan_id is not None:
            query = query.where(risk_alerts.c.loan_id == filter.loan_id)
        query = _after(query, risk_alerts.c.id, after, limit)
        return [_alert(row) for row in await self._connection.execute(query)]


def _columns(row: Any) -> dict[str, Any]:
    """A dataclass's fields by name, shallow: a JSON document field is passed on as it is,
    not deep-copied the way `dataclasses.asdict` would."""
    return {each.name: getattr(row, each.name) for each in fields(row)}


def _after(query: Select[Any], key: Any, after: uuid.UUID | None, limit: int) -> Select[Any]:
    if after is not None:
        query = query.where(key > after)
    return query.order_by(key).limit(limit)


def _product(row: Row[Any]) -> LoanProduct:
    values = dict(row._mapping)
    return LoanProduct(
        id=values["id"],
        institution_id=values["institution_id"],
        code=values["code"],
        version=values["version"],
        terms=_terms(values["id"], values["terms"]),
        active=values["active"],
        created_by=values["created_by"],
        created_at=values["created_at"],
    )


# A product version's terms never change once written, so each is decoded once per process.
_TERMS_BY_VERSION: dict[uuid.UUID, ProductTerms] = {}
_TERMS_CACHED = 1024


def _terms(product_id: uuid.UUID, document: dict[str, Any]) -> ProductTerms:
    terms = _TERMS_BY_VERSION.get(product_id)
    if terms is None:
        if len(_TERMS_BY_VERSION) >= _TERMS_CACHED:
            _TERMS_BY_VERSION.clear()
        terms = _TERMS_BY_VERSION[product_id] = terms_from_document(document)
    return terms


def _entry(row: Row[Any]) -> CreditListEntry:
    return _entry_values(dict(row._mapping))


def _entry_values(values: dict[str, Any]) -> CreditListEntry:
    return CreditListEntry(**values | {"kind": ListKind(values["kind"])})


def _application_values(application: LoanApplication) -> dict[str, Any]:
    """The application's columns, its contract (if signed) flattened into them."""
    values = _columns(application)
    contract = values.pop("contract")
    return values | (_columns(contract) if contract else dict.fromkeys(_CONTRACT_COLUMNS))


_CONTRACT_COLUMNS = ("contract_no", "annual_rate", "lpr_rate", "lpr_published_on", "signed_at")


def _application(row: Row[Any]) -> LoanApplication:
    values = dict(row._mapping)
    signed = [values.pop(column) for column in _CONTRACT_COLUMNS]
    contract = Contract(*signed) if signed[0] is not None else None
    return LoanApplication(
        **values
        | {
            "method": RepaymentMethod(values["method"]),
            "state": ApplicationState(values["state"]),
            "contract": contract,
        }
    )


def _transition(row: Row[Any]) -> Transition:
    values = dict(row._mapping)
    return Transition(
        **values
        | {
            "from_state": ApplicationState(values["from_state"]) if values["from_state"] else None,
            "to_state": ApplicationState(values["to_state"]),
            "actor_kind": ActorKind(values["actor_kind"]) if values["actor_kind"] else None,
        }
    )


def _line(row: Row[Any]) -> CreditLine:
    values = dict(row._mapping)
    return CreditLine(**values | {"status": CreditLineStatus(values["status"])})


def _loan_values(loan: Loan) -> dict[str, Any]:
    return _columns(loan) | {
        "allocation_order": ",".join(each.value for each in loan.allocation_order)
    }


_METHODS = {each.value: each for each in RepaymentMethod}
_STATUSES = {each.value: each for each in LoanStatus}
_CLASSIFICATIONS = {each.value: each for each in Classification}


@cache
def _allocation_order(stored: str) -> tuple[Component, ...]:
    return tuple(Component(each) for each in stored.split(","))


def _loan(values: dict[str, Any]) -> Loan:
    """The loan a row's values hold (they are reused); pages of loans read many, so the stored
    codes are looked up in dictionaries made once rather than converted one by one."""
    del values["draw_key"]
    override = values["classification_override"]
    values["method"] = _METHODS[values["method"]]
    values["allocation_order"] = _allocation_order(values["allocation_order"])
    values["status"] = _STATUSES[values["status"]]
    values["classification"] = _CLASSIFICATIONS[values["classification"]]
    values["classification_override"] = _CLASSIFICATIONS[override] if override else None
    return Loan(**values)


def _alert(row: Row[Any]) -> RiskAlert:
    values = dict(row._mapping)
    return RiskAlert(
        **values | {"kind": AlertKind(values["kind"]), "status": AlertStatus(values["status"])}
    )

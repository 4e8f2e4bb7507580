"""Early warnings (预警) and white and black lists (白名单/黑名单)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jikuai.domain.credit import alerts, lists
from jikuai.resolvers import credit as resolve
from jikuai.resolvers.context import Context
from jikuai.schema.credit.loans import Loan
from jikuai.schema.errors import UserError
from jikuai.schema.relay import Node, to_global_id
from jikuai.schema.scalars import Sealed

strawberry.enum(alerts.AlertKind, name="RiskAlertKind", description="What a warning is about.")
strawberry.enum(alerts.AlertStatus, name="RiskAlertStatus", description="Open, seen or closed.")
strawberry.enum(lists.ListKind, name="CreditListKind", description="白名单 or 黑名单.")


@strawberry.type(description="An early warning on a loan (风险预警).")
class RiskAlert(Node):
    kind: alerts.AlertKind = strawberry.field(description="What it is about.")
    status: alerts.AlertStatus = strawberry.field(description="Where it stands.")
    business_date: datetime.date = strawberry.field(description="Raised by the pass of this date.")
    details: JSON = strawberry.field(description="The facts behind it.")
    note: str | None = strawberry.field(description="Staff note.")
    created_at: datetime.datetime = strawberry.field(description="Raised at.")
    updated_at: datetime.datetime = strawberry.field(description="Last change.")
    _alert: strawberry.Private[alerts.RiskAlert]

    @classmethod
    def of(cls, alert: alerts.RiskAlert) -> RiskAlert:
        return cls(
            id=to_global_id("RiskAlert", alert.id),
            kind=alert.kind,
            status=alert.status,
            business_date=alert.business_date,
            details=JSON(alert.details),
            note=alert.note,
            created_at=alert.created_at,
            updated_at=alert.updated_at,
            _alert=alert,
        )

    @strawberry.field(description="The loan.")
    async def loan(self, info: Info[Context, None]) -> Loan | None:
        found = await resolve.loan(info.context, self._alert.loan_id)
        return Loan.of(found) if found else None

    @strawberry.field(description="Global ID of the staff member it is assigned to.")
    def assignee_id(self) -> strawberry.ID | None:
        assignee = self._alert.assignee_id
        return to_global_id("Staff", assignee) if assignee else None


@strawberry.type(description="A white or black list entry, keyed by the ID number's blind index.")
class CreditListEntry(Node):
    kind: lists.ListKind = strawberry.field(description="Whitelist or blacklist.")
    id_number_masked: str = strawberry.field(description="ID number, first 1 and last 1.")
    source: str = strawberry.field(description="Where it came from, e.g. 整村授信.")
    reason: str = strawberry.field(description="Why.")
    valid_from: datetime.date = strawberry.field(description="In force from.")
    valid_until: datetime.date | None = strawberry.field(description="In force until.")
    limit_amount: Decimal | None = strawberry.field(description="Pre-approved amount.")
    revoked_at: datetime.datetime | None = strawberry.field(description="When revoked.")
    created_at: datetime.datetime = strawberry.field(description="Added at.")

    @classmethod
    def of(cls, entry: lists.CreditListEntry) -> CreditListEntry:
        return cls(
            id=to_global_id("CreditListEntry", entry.id),
            kind=entry.kind,
            id_number_masked=entry.id_number_masked,
            source=entry.source,
            reason=entry.reason,
            valid_from=entry.valid_from,
            valid_until=entry.valid_until,
            limit_amount=entry.limit_amount,
            revoked_at=entry.revoked_at,
            created_at=entry.created_at,
        )


@strawberry.input(description="Put an ID number on a list of the staff member's institution.")
class AddCreditListEntryInput:
    kind: lists.ListKind = strawberry.field(description="Whitelist or blacklist.")
    id_number: Sealed = strawberry.field(description="ID number, sealed for field `idNumber`.")
    source: str = strawberry.field(description="Where it came from.")
    reason: str = strawberry.field(description="Why.")
    valid_from: datetime.date = strawberry.field(description="In force from.")
    valid_until: datetime.date | None = strawberry.field(default=None, description="Until.")
    limit_amount: Decimal | None = strawberry.field(
        default=None, description="Pre-approved amount (whitelist only)."
    )


@strawberry.type(description="Result of a list mutation.")
class CreditListEntryPayload:
    entry: CreditListEntry | None = strawberry.field(description="The entry.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")


@strawberry.type(description="Result of an alert mutation.")
class RiskAlertPayload:
    alert: RiskAlert | None = strawberry.field(description="The alert.")
    user_errors: list[UserError] = strawberry.field(description="Why it failed, if it did.")

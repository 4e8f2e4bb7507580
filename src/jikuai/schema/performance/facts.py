"""Daily facts from core banking (核心系统数据导入): `importPerformanceFacts`."""

from __future__ import annotations

import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from jikuai.domain.performance import facts
from jikuai.domain.performance.facts import FactRow, RowError, RowField
from jikuai.domain.performance.indicators import Measure
from jikuai.domain.shared.errors import ErrorCode
from jikuai.resolvers import performance_facts as resolve
from jikuai.resolvers.context import Context
from jikuai.schema.errors import UserError, message_for, user_errors
from jikuai.schema.scalars import Sealed


@strawberry.enum(name="ImportedMeasure", description="A measure core banking reports daily.")
class ImportedMeasure(Enum):
    DEPOSIT_BALANCE = strawberry.enum_value(
        Measure.DEPOSIT_BALANCE.value, description="Deposit balance, CNY (存款余额)."
    )
    LOW_COST_DEPOSIT_BALANCE = strawberry.enum_value(
        Measure.LOW_COST_DEPOSIT_BALANCE.value,
        description="Low-cost (demand) deposit balance, CNY (低成本存款余额).",
    )
    SOCIAL_SECURITY_CARDS_ISSUED = strawberry.enum_value(
        Measure.SOCIAL_SECURITY_CARDS_ISSUED.value,
        description="Social security cards issued that day, a whole number (社保卡发卡数).",
    )
    SOCIAL_SECURITY_CARDS_ACTIVATED = strawberry.enum_value(
        Measure.SOCIAL_SECURITY_CARDS_ACTIVATED.value,
        description="Social security cards activated that day, a whole number (社保卡激活数).",
    )


# The input's names of a row's fields, for errors.
INPUT_FIELDS = {
    RowField.DATE: "date",
    RowField.SOURCE: "source",
    RowField.KEY: "key",
    RowField.MEASURE: "measure",
    RowField.STAFF: "staffUsername",
    RowField.CUSTOMER_ID_NUMBER: "customerIdNumber",
    RowField.VALUE: "value",
}


@strawberry.input(
    description="One day's value of a measure (绩效数据), for a staff member, a customer, or "
    "(neither named) the institution as a whole."
)
class PerformanceFactInput:
    date: datetime.date = strawberry.field(
        description="The business date it is about (数据日期); not in the future."
    )
    source: str = strawberry.field(
        description="The reporting system (数据来源): 1–32 letters, digits, _ or -; not PLATFORM."
    )
    key: str = strawberry.field(
        description="The system's own identifier of the fact within the date and source, 1–64 "
        "characters; the same (date, source, key) sent again replaces the fact."
    )
    measure: ImportedMeasure = strawberry.field(description="What is measured (指标数据).")
    value: Decimal = strawberry.field(
        description="CNY to the fen, or a whole count of cards; from 0 to 999999999999.99."
    )
    staff_username: str | None = strawberry.field(
        default=None, description="The staff member it is for (客户经理), by username."
    )
    customer_id_number: Sealed | None = strawberry.field(
        default=None,
        description="The customer it is for, by resident ID number (身份证号), sealed for field "
        "`customerIdNumber`; not together with `staffUsername`.",
    )

    def row(self, index: int) -> FactRow:
        """The row as the domain checks it; a sealed ID number is opened by the resolver."""
        return FactRow(
            number=index,
            date=self.date.isoformat(),
            source=self.source,
            key=self.key,
            measure=self.measure.name,
            value=format(self.value, "f"),
            staff=self.staff_username or "",
        )


@strawberry.input(description="Facts reported by core banking (核心系统), at most 1,000 a call.")
class ImportPerformanceFactsInput:
    facts: list[PerformanceFactInput] = strawberry.field(
        description="The facts; each is checked on its own, the good ones are saved."
    )


@strawberry.type(description="Why one fact of an import was refused.")
class FactRowError:
    index: int = strawberry.field(description="Its position in `facts`, from 0.")
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    code: ErrorCode = strawberry.field(description="Stable code for programs.")
    message: str = strawberry.field(description="Message for people, in the request's language.")

    @classmethod
    def of(cls, error: RowError, language: str) -> FactRowError:
        return cls(
            index=error.number,
            field=None if error.field is None else INPUT_FIELDS[error.field],
            code=error.code,
            message=message_for(error.code, language),
        )


@strawberry.type(description="Result of `importPerformanceFacts`.")
class ImportPerformanceFactsPayload:
    inserted: int = strawberry.field(description="Facts new to the platform.")
    updated: int = strawberry.field(
        description="Facts that replaced an earlier one of the same key with other content."
    )
    unchanged: int = strawberry.field(description="Facts sent before with the same content.")
    row_errors: list[FactRowError] = strawberry.field(
        description="Every fault of the refused facts, by position; the other facts were saved."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was imported, if nothing was (more than 1,000 facts)."
    )


@strawberry.type(description="Importing performance data.")
class FactsMutation:
    @strawberry.mutation(
        description="Import daily facts from core banking (导入绩效数据): deposit balances, "
        "low-cost deposit balances, social security cards issued and activated. Idempotent per "
        "(date, source, key). For the institution's service accounts and its admins."
    )
    async def import_performance_facts(
        self, info: Info[Context, None], input: ImportPerformanceFactsInput
    ) -> ImportPerformanceFactsPayload:
        context = info.context
        attempt = await resolve.import_facts(
            context,
            [fact.row(index) for index, fact in enumerate(input.facts)],
            sealed_id_numbers={
                index: fact.customer_id_number
                for index, fact in enumerate(input.facts)
                if fact.customer_id_number is not None
            },
        )
        report = attempt.result or facts.ImportReport()
        return ImportPerformanceFactsPayload(
            inserted=report.inserted,
            updated=report.updated,
            unchanged=report.unchanged,
            row_errors=[FactRowError.of(error, context.language) for error in report.errors],
            user_errors=user_errors(attempt.errors, context.language),
        )

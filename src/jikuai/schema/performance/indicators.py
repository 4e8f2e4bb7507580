"""The indicator catalog and the figures shared by every performance view."""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry

from jikuai.domain.performance import indicators as catalog
from jikuai.domain.performance import periods
from jikuai.domain.performance.ports import ContributionKind

strawberry.enum(catalog.Unit, name="IndicatorUnit", description="What an indicator counts in.")
strawberry.enum(catalog.Direction, name="IndicatorDirection", description="Whether more is better.")
strawberry.enum(
    catalog.Measure, name="PerformanceMeasure", description="A quantity figures are made of."
)
strawberry.enum(
    catalog.ReadingKind,
    name="PerformanceReadingKind",
    description="How a measure is read for a period: summed over it, its position on a day, or "
    "the mean of its daily positions.",
)
strawberry.enum(
    periods.PeriodKind, name="PerformancePeriodKind", description="How long a period is."
)
strawberry.enum(
    ContributionKind,
    name="PerformanceContributionKind",
    description="What a row behind a figure is.",
)


@strawberry.type(description="An indicator of the catalog (指标).")
class Indicator:
    code: str = strawberry.field(description="Stable code, e.g. `OUTSTANDING_BALANCE`.")
    name: str = strawberry.field(description="Chinese name, e.g. 用信余额.")
    name_en: str = strawberry.field(description="English name.")
    unit: catalog.Unit = strawberry.field(description="What it counts in; ratios are fractions.")
    direction: catalog.Direction = strawberry.field(description="Whether more is better.")
    basis: str = strawberry.field(description="How it is computed for a period and a scope.")
    measures: list[catalog.Measure] = strawberry.field(description="The measures it reads.")

    @classmethod
    def of(cls, indicator: catalog.Indicator) -> Indicator:
        return cls(
            code=indicator.code,
            name=indicator.name_zh,
            name_en=indicator.name_en,
            unit=indicator.unit,
            direction=indicator.direction,
            basis=indicator.basis,
            measures=sorted(catalog.measures_of(indicator.formula)),
        )

    @classmethod
    def by_code(cls, code: str) -> Indicator:
        """The catalog's indicator, made once: every result of a board shares it."""
        return _BY_CODE[code]


_BY_CODE = {code: Indicator.of(indicator) for code, indicator in catalog.CATALOG.items()}


@strawberry.type(description="One indicator's figure for a period.")
class IndicatorFigure:
    indicator: Indicator = strawberry.field(description="Which indicator.")
    value: Decimal | None = strawberry.field(
        description="Its value; null for a ratio over nothing (no basis)."
    )


@strawberry.type(description="A figure of one month, a point of a chart.")
class MonthlyFigure:
    month: str = strawberry.field(description="The month, e.g. `2026-11`.")
    value: Decimal | None = strawberry.field(description="The figure; null without a basis.")


@strawberry.type(description="A row behind a figure: a loan, a customer, a redemption or a fact.")
class PerformanceContribution:
    date: datetime.date = strawberry.field(description="The business date it counts on.")
    kind: ContributionKind = strawberry.field(description="What it is.")
    reference_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the loan, customer, merchant or redemption (`node(id:)`); null "
        "for a fact."
    )
    source: str | None = strawberry.field(description="A fact's source system (数据来源).")
    key: str | None = strawberry.field(description="A fact's key in its source.")
    value: Decimal = strawberry.field(description="What it adds to the figure.")

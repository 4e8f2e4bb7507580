"""Staff performance (吉快·智能绩效): indicators, schemes, scoreboards and dashboards."""

from __future__ import annotations

import strawberry

from jikuai.schema.performance.facts import FactsMutation
from jikuai.schema.performance.results import PerformanceQuery
from jikuai.schema.performance.schemes import SchemeMutation


@strawberry.type
class PerformanceMutation(SchemeMutation, FactsMutation):
    pass


__all__ = ["PerformanceMutation", "PerformanceQuery"]

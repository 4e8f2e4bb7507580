"""`column IN (a list)` as each database does it best.

PostgreSQL plans `x IN ($1, …, $1000)` afresh for every length and spends far longer planning
a long list than finding its rows (tens of milliseconds for a thousand blind indexes); with the
list as one array parameter, `x = ANY($1)` is one prepared statement whatever the length and
takes a few milliseconds. Other databases take the expanding IN.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def one_of(column: ColumnElement[Any], parameter: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the list bound to `parameter`, for the dialect named."""
    if dialect == "postgresql":
        return column == any_(bindparam(parameter, type_=ARRAY(column.type)))
    return column.in_(bindparam(parameter, expanding=True))

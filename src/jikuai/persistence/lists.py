"""Rows whose column is one of a list, as each database does it best.

On PostgreSQL, `x IN ($1, …, $1000)` is planned afresh for every length, and planning a long
list takes far longer than finding its rows. `x = ANY($1)` with one array parameter is one
prepared statement, but its generic plan, made once the statement has run a few times, is
chosen without knowing the list and may scan an index for every row of the tenant instead of
probing for each key. Joining the table to `unnest($1)` on the indexed column makes the plan a
loop of index probes, one per key, whatever the statistics say. Other databases take the
expanding IN.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY


def among(
    query: Select[Any], column: ColumnElement[Any], parameter: str, dialect: str
) -> Select[Any]:
    """`query` keeping the rows whose `column` is one of the list bound to `parameter`, for
    the dialect named; the list must not repeat a key (a join would repeat its rows)."""
    if dialect == "postgresql":
        keys = (
            func.unnest(bindparam(parameter, type_=ARRAY(column.type)))
            .table_valued("key")
            .render_derived()
        )
        return query.join(keys, column == keys.c.key)
    return query.where(column.in_(bindparam(parameter, expanding=True)))

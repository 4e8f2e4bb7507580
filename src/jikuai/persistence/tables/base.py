"""Shared column types and the metadata with deterministic constraint names."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, MetaData
from sqlalchemy.types import TypeDecorator

from jikuai.domain.shared.money import rate_form

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset; PostgreSQL keeps `timestamptz`. Both come back as aware UTC values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.driver == "asyncpg":
            return None  # asyncpg reads `timestamptz` as an aware datetime in UTC already
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ScaledDecimal(TypeDecorator[Decimal]):
    """An exact `Decimal` stored as an integer of 10**-places units (money in fen, places=2).

    Integers are exact in every database: sums, comparisons and conditional updates such as
    `used + :amount <= limit` are computed in whole units on SQLite as on PostgreSQL, where a
    float-backed NUMERIC emulation would round.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int, *, trim: bool = False) -> None:
        """`trim`: read back in the form rates are shown in (see `rate_form`)."""
        super().__init__()
        self.places = places
        self.trim = trim

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """The stored integer as a `Decimal`, in one call per value (pages read thousands;
        the generic `process_result_value` route takes three)."""
        places = self.places
        if self.trim:
            return lambda value: None if value is None else _rate_read(int(value), places)
        return lambda value: None if value is None else Decimal(int(value)).scaleb(-places)


@lru_cache(maxsize=4096)
def _rate_read(scaled: int, places: int) -> Decimal:
    """A stored rate in the form it is shown; a table holds few distinct rates."""
    return rate_form(Decimal(scaled).scaleb(-places))


def money() -> ScaledDecimal:
    """CNY to the fen."""
    return ScaledDecimal(2)


def rate() -> ScaledDecimal:
    """An annual rate as a fraction, to 10 decimal places."""
    return ScaledDecimal(10, trim=True)

"""Scalars of the API beyond GraphQL's own, registered through `SCALARS` in the schema config."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

Sealed = NewType("Sealed", str)

MAX_DECIMAL_LENGTH = 32
MAX_DECIMAL_MAGNITUDE = 15  # digits before the point: an amount in fen fits a 64-bit integer


def parse_decimal(value: object) -> Decimal:
    """A decimal from a JSON string (or an integer); never from a float, which may already have
    lost the cents on its way here."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('a Decimal is sent as a string, e.g. "8530.99"')
    text = str(value).strip()
    if len(text) > MAX_DECIMAL_LENGTH:
        raise ValueError("Decimal too long")
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a decimal number") from None
    if not parsed.is_finite():
        raise ValueError("not a finite decimal number")
    if parsed and not -MAX_DECIMAL_LENGTH < parsed.adjusted() < MAX_DECIMAL_MAGNITUDE:
        raise ValueError("Decimal out of range")  # "1e30" is short, but its cents overflow
    return parsed


SCALARS: dict[object, ScalarDefinition] = {
    Sealed: strawberry.scalar(
        name="Sealed",
        description=(
            "数字信封 digital envelope: a JWE compact string (RSA-OAEP-256 + A256GCM) sealed to "
            'the key of `envelopeKey`, whose plaintext is {"f": <input field>, "v": <value>, '
            '"iat": <unix seconds>}. See docs/security.md.'
        ),
        serialize=str,
        parse_value=str,
    ),
    Decimal: strawberry.scalar(
        name="Decimal",
        description=(
            'An exact decimal as a JSON string: money in CNY with two decimals ("8530.99"), '
            'rates as annual fractions ("0.0435"). Floats are refused.'
        ),
        serialize=lambda value: format(value, "f"),
        parse_value=parse_decimal,
    ),
}

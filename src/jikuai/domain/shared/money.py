"""Money in CNY: `Decimal`, rounded half-up to the cent (分) wherever an amount is settled."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """`value` rounded half-up to the cent, the way a contract's figures are rounded."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)

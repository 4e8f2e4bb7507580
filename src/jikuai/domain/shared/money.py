"""Money in CNY: `Decimal`, rounded half-up to the cent (分) wherever an amount is settled.
Rates are annual fractions, written to the basis point at least ("0.0420", "0.07275")."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """`value` rounded half-up to the cent, the way a contract's figures are rounded."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def exact_cents(value: Decimal) -> Decimal | None:
    """`value` written to the cent (100 → 100.00) if it has no finer digit; None if it has,
    since an amount of money is never silently rounded."""
    written = cents(value)
    return written if written == value else None


BASIS_POINT = Decimal("0.0001")


def rate_form(rate: Decimal) -> Decimal:
    """The rate as it is shown: to the basis point, with finer digits kept but no trailing
    zeros beyond (0.042 → 0.0420, 0.0727500 → 0.07275)."""
    trimmed = rate.normalize()
    exponent = trimmed.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        return trimmed
    return rate.quantize(BASIS_POINT)

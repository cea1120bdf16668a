"""Exact arithmetic for pricing, and the one rounding step to OCPI numbers.

Rounding policy: the spec leaves price rounding to law and contracts (mod_tariffs, note
under the Tariff object) and says OCPI numbers carry 4 decimals (types, *number*). So the
engine computes exactly, in rational numbers (`fractions.Fraction`: splitting a period in
two never loses a digit), and rounds each reported figure once, at the end, to 4 decimals,
half away from zero (commercial rounding). Prices and volumes come in and go out as
`Decimal`; floats never take part.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

__all__ = ["DECIMALS", "check_number", "ocpi_number", "ocpi_ratio"]

DECIMALS = 4
"""Decimals of every number the engine reports (OCPI *number* type)."""

_SCALE = 10**DECIMALS
_MAX_DIGITS = 15
_MAX_DECIMALS = 20


def check_number(value: Decimal) -> str | None:
    """Why `value` is no usable OCPI number, or None when it is."""
    if not value.is_finite():
        return "must be a finite number"
    if value and value.adjusted() >= _MAX_DIGITS:
        return f"must be below 10^{_MAX_DIGITS}"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MAX_DECIMALS:
        # Trailing zeros do not count: only then is it worth normalizing.
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -_MAX_DECIMALS:
            return f"must have at most {_MAX_DECIMALS} decimals"
    return None


def ocpi_number(value: Fraction | Decimal) -> Decimal:
    """`value` rounded half away from zero to `DECIMALS` decimals."""
    return ocpi_ratio(*value.as_integer_ratio())


def ocpi_ratio(numerator: int, denominator: int) -> Decimal:
    """`numerator / denominator` (denominator > 0) as `ocpi_number` rounds it."""
    # floor(|n|/d * 10^4 + 1/2), in integers: a CDR rounds thousands of figures.
    units = (2 * abs(numerator) * _SCALE + denominator) // (2 * denominator)
    rounded = Decimal(f"{units}E-{DECIMALS}")  # exact, however many digits
    return rounded.copy_negate() if numerator < 0 and units else rounded

"""Exact averages of money and ratios: integers in, half-away-from-zero rounding out.

The same rounding the marts use (dbt_project/macros/numbers.sql), so an answer computed here
from mart sums equals what a mart would have stored; no float ever touches an amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def average_minor(total_minor: int, count: int) -> int | None:
    """Return total / count rounded half away from zero to a whole minor unit (None if no count)."""
    if not count:
        return None
    quotient = (2 * abs(total_minor) + count) // (2 * count)
    return quotient if total_minor >= 0 else -quotient


def ratio(numerator: int | Decimal, denominator: int | Decimal, scale: int = 4) -> Decimal | None:
    """Return numerator / denominator to ``scale`` places, half away from zero (None if 0)."""
    if not denominator:
        return None
    exponent = Decimal(1).scaleb(-scale)
    return (Decimal(numerator) / Decimal(denominator)).quantize(exponent, ROUND_HALF_UP)

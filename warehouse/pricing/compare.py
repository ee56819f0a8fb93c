"""Is a new price an anomaly? The comparison against the previous known price, without I/O.

A change is flagged when ``|new - old| / old`` is at least the tenant's
``price_anomaly_threshold_pct`` (compared exactly, in integers and fractions, never in floats),
when the price leaves zero, or when the currency differs from the previous price's (the amounts
cannot be compared, and a currency switch is worth a look).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

THRESHOLD = "threshold"
CURRENCY = "currency"
FROM_ZERO = "from_zero"
PCT_DIGITS = 4


@dataclass(frozen=True)
class KnownPrice:
    """A price known before the new event: from an earlier price event or the catalogue."""

    price_minor: int
    currency: str
    occurred_at: datetime
    source: str  # "price_event" or "catalog"
    event_id: str = ""


@dataclass(frozen=True)
class Verdict:
    """The signed change in percent (None when not comparable) and why it is flagged, if it is."""

    change_pct: float | None
    reason: str | None

    @property
    def is_anomaly(self) -> bool:
        return self.reason is not None


def change_pct(old: int, new: int) -> float | None:
    """Return the signed change from ``old`` to ``new`` in percent (None from zero to non-zero)."""
    if old == 0:
        return 0.0 if new == 0 else None
    return round((new - old) * 100 / old, PCT_DIGITS)


def judge(previous: KnownPrice, price_minor: int, currency: str, threshold_pct: float) -> Verdict:
    """Compare a new price with the previous one under the tenant's threshold."""
    if currency != previous.currency:
        return Verdict(None, CURRENCY)
    old = previous.price_minor
    pct = change_pct(old, price_minor)
    if old == 0:
        return Verdict(pct, FROM_ZERO if price_minor else None)
    # Fraction(float) is the float's exact value, so 12.5 % of 800 is exactly 100 minor units.
    flagged = abs(price_minor - old) * 100 >= Fraction(threshold_pct) * old
    return Verdict(pct, THRESHOLD if flagged else None)


def latest(*prices: KnownPrice | None) -> KnownPrice | None:
    """Return the most recent of the known prices (an event wins a tie with the catalogue)."""
    known = [p for p in prices if p is not None]
    if not known:
        return None
    return max(known, key=lambda p: (p.occurred_at, p.source == "price_event"))

"""A tenant's history in its own local time: day weights (trend, weekly, yearly) and hours.

Days are drawn by inverting the cumulative day weights, optionally truncated to a window, so
any subset of orders (one customer's, the guests') keeps the same seasonality. Hours follow an
intraday curve in local time, then instants are mapped to UTC with the zone's real rules.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from ingestion.generator.seeding import rng
from ingestion.generator.timefmt import local_to_utc

_EPOCH = date(1970, 1, 1)
# Monday..Sunday; online shops sell most on Sunday evenings.
_WEEKDAY = np.array([0.96, 0.97, 0.98, 1.0, 1.02, 1.04, 1.12])
_HOURS_WEEKDAY = np.array([
    0.18, 0.10, 0.06, 0.04, 0.04, 0.07, 0.16, 0.35, 0.55, 0.70, 0.80, 0.90,
    1.00, 0.96, 0.90, 0.88, 0.90, 0.95, 1.05, 1.20, 1.30, 1.22, 0.85, 0.45,
])  # fmt: skip
_HOURS_WEEKEND = np.roll(_HOURS_WEEKDAY, 1)  # a slower, later morning


def _black_friday(year: int) -> date:
    first = date(year, 11, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + timedelta(days=1)


def _yearly(day: date) -> float:
    doy = day.timetuple().tm_yday
    factor = 1.0 + 0.18 * np.cos(2 * np.pi * (doy - 350) / 365.25)
    since_bf = (day - _black_friday(day.year)).days
    if 0 <= since_bf <= 3:
        factor *= 2.4 if since_bf in (0, 3) else 1.6  # Black Friday, Cyber Monday
    elif 4 <= since_bf <= 10:
        factor *= 1.3
    if day.month == 12 and day.day <= 20:
        factor *= 1.25
    if (day.month, day.day) in ((12, 25), (12, 26), (1, 1)):
        factor *= 0.55
    return float(factor)


class Timeline:
    """Local days from ``end - days + 1`` to ``end`` of one tenant, with sampling helpers."""

    def __init__(self, tz: str, end: date, days: int, seed: int, tenant: int):
        self.tz = tz
        self.days = days
        first = end - timedelta(days=days - 1)
        local_midnights = 86400 * ((first - _EPOCH).days + np.arange(days + 1, dtype=np.int64))
        self.local_midnight = local_midnights
        self.weekday = (first.weekday() + np.arange(days)) % 7
        self.start = int(local_to_utc(tz, local_midnights[:1])[0])
        self.now = int(local_to_utc(tz, local_midnights[-1:])[0]) - 1
        noise = rng(seed, tenant, "day-noise").lognormal(0.0, 0.08, days)
        trend = 0.55 + 0.45 * np.arange(days) / max(days - 1, 1)
        yearly = np.array([_yearly(first + timedelta(days=d)) for d in range(days)])
        weights = trend * _WEEKDAY[self.weekday] * yearly * noise
        self.cdf = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()

    def sample_days(self, gen: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Draw one day per element within [lo, hi] (inclusive), following the day weights."""
        lo = np.clip(lo, 0, self.days - 1)
        hi = np.clip(hi, lo, self.days - 1)
        a, b = self.cdf[lo], self.cdf[hi + 1]
        u = a + gen.random(len(lo)) * (b - a)
        day = np.searchsorted(self.cdf, u, side="right") - 1
        return np.clip(day, lo, hi)

    def sample_instants(self, gen: np.random.Generator, days: np.ndarray) -> np.ndarray:
        """Draw a UTC instant (epoch seconds) on each local day, following the intraday curve."""
        weekend = self.weekday[days] >= 5
        hours = np.where(
            weekend,
            gen.choice(24, len(days), p=_HOURS_WEEKEND / _HOURS_WEEKEND.sum()),
            gen.choice(24, len(days), p=_HOURS_WEEKDAY / _HOURS_WEEKDAY.sum()),
        )
        seconds = hours * 3600 + gen.integers(0, 3600, len(days))
        local = self.local_midnight[days] + seconds
        return np.minimum(local_to_utc(self.tz, local), self.now)

    def day_of(self, utc_seconds: np.ndarray) -> np.ndarray:
        """Return the local day index of UTC instants (clipped to the history)."""
        day = np.searchsorted(self.day_starts, utc_seconds, side="right") - 1
        return np.clip(day, 0, self.days - 1)

    @property
    def day_starts(self) -> np.ndarray:
        """Return the UTC instant each local day starts at."""
        if not hasattr(self, "_day_starts"):
            self._day_starts = local_to_utc(self.tz, self.local_midnight)
        return self._day_starts

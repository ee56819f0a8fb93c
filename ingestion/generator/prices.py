"""Product prices over time, computable for any (product, sample) without stored state.

Each product is observed ``price_samples`` times, evenly spaced with a per-product phase. The
price moves in steps (a new level every ~1/8 of the history, +-5 %), runs promotions (-15 %)
and drifts up with inflation, so normal changes stay within about +-30 %. A few single samples
are anomalies (x3..x5 or x0.2..x0.3) that revert at the next sample; nothing marks them, only
their size. Orders use the level in force at their time, never an anomaly.
"""

from __future__ import annotations

import numpy as np

from ingestion.generator.catalog import Catalog
from ingestion.generator.seeding import hashed_unit
from ingestion.generator.timeline import Timeline

ANOMALY_RATE = 0.003
_ANOMALY_FACTORS = np.array([3.0, 4.0, 5.0, 0.2, 0.25, 0.3])


def charm(minor: np.ndarray, digits: int) -> np.ndarray:
    """Round raw prices to shop-like price points (12.99, 2980 yen), at least one unit."""
    if digits == 0:
        tens = np.maximum(np.round(minor / 10) * 10, 10)
        return np.where(minor >= 1000, np.round(minor / 100) * 100 - 20, tens).astype(np.int64)
    unit = 10**digits
    return np.maximum(np.round(minor / unit) * unit - 1, unit - 1).astype(np.int64)


class PriceModel:
    """Price levels and observation times of a catalogue's products."""

    def __init__(self, catalog: Catalog, timeline: Timeline, samples: int, digits: int, seed: int):
        self.catalog, self.samples, self.digits, self.seed = catalog, samples, digits, seed
        self.start = timeline.start
        self.interval = (timeline.now - timeline.start) / samples
        self.epoch_len = max(1, samples // 8)
        self.phase = hashed_unit(seed, "price-phase", np.arange(catalog.count))

    def sample_times(self, product: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Return the UTC instant of each product's k-th price observation."""
        return self.start + np.floor((k + self.phase[product]) * self.interval).astype(np.int64)

    def _raw_level(self, product: np.ndarray, k: np.ndarray) -> np.ndarray:
        epoch = k // self.epoch_len
        step = 1.0 + 0.10 * (hashed_unit(self.seed, "price-step", product, epoch) - 0.5)
        promo = np.where(hashed_unit(self.seed, "price-promo", product, epoch) < 0.12, 0.85, 1.0)
        inflation = 1.0 + 0.05 * epoch * self.epoch_len / self.samples  # steps with the epoch
        return self.catalog.base_minor[product] * step * promo * inflation

    def level(self, product: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Return the regular price (minor units) of products at sample k."""
        return charm(self._raw_level(product, k), self.digits)

    def observed(self, product: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Return the price as observed at sample k, anomalies included."""
        raw = self._raw_level(product, k)
        # Never the first or last sample: an anomaly is a jump that reverts.
        inside = (k > 0) & (k < self.samples - 1)
        jump = (hashed_unit(self.seed, "price-anomaly", product, k) < ANOMALY_RATE) & inside
        which = (hashed_unit(self.seed, "price-factor", product, k) * len(_ANOMALY_FACTORS)).astype(
            int
        )
        return charm(np.where(jump, raw * _ANOMALY_FACTORS[which], raw), self.digits)

    def index_at(self, product: np.ndarray, utc_seconds: np.ndarray) -> np.ndarray:
        """Return the index of the sample in force at each instant (0 before the first)."""
        k = np.floor((utc_seconds - self.start) / self.interval - self.phase[product])
        return np.clip(k, 0, self.samples - 1).astype(np.int64)

    def sku_price(self, sku: np.ndarray, utc_seconds: np.ndarray) -> np.ndarray:
        """Return the unit price of SKUs at the given instants (variant factors applied)."""
        product = self.catalog.sku_product[sku]
        level = self.level(product, self.index_at(product, utc_seconds))
        factor = self.catalog.sku_price_factor(sku)
        scaled = charm(level * factor, self.digits)
        return np.where(factor == 1.0, level, scaled)

    def current(self, product: np.ndarray) -> np.ndarray:
        """Return products' current price: the level at the last sample."""
        return self.level(product, np.full(len(product), self.samples - 1))

    def first(self, product: np.ndarray) -> np.ndarray:
        """Return products' price at the start of the history."""
        return self.level(product, np.zeros(len(product), dtype=np.int64))

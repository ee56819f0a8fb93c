"""Stock movements that agree with the orders: initial counts, sales, restocks, returns, damage,
and stock-take corrections, with the running level per SKU carried across chunks.

Restocks are vectorised: within a chunk a SKU's projected level is its level minus the running
sum of its sales, and the number of restocks needed to stay at or above the threshold only ever
grows, so a restock is emitted wherever that number steps up. About 5 % of SKUs are neglected:
they are reordered only after they sell out and arrive days later, so the level runs negative
for a while (a backorder) and stock-outs show up. Every restock lands by the end of the
history, so the final level (the product's `stock_quantity`) is never negative.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ingestion.generator.catalog import Catalog
from ingestion.generator.columns import ids, ints, pick, timestamps
from ingestion.generator.orders import CANCELLED, REFUNDED, OrderChunk
from ingestion.generator.presets import Sizes
from ingestion.generator.seeding import rng
from ingestion.generator.timeline import Timeline

KINDS = ("delta", "set")
REASONS = ("sale", "restock", "adjustment", "return", "damage", "correction")
SALE, RESTOCK, ADJUSTMENT, RETURN, DAMAGE, CORRECTION = range(6)
DAY = 86400


class StockLedger:
    """Per-SKU stock level, thresholds and reorder sizes of one tenant."""

    def __init__(self, catalog: Catalog, timeline: Timeline, sizes: Sizes, seed: int, index: int):
        g = rng(seed, index, "stock")
        self.catalog, self.timeline = catalog, timeline
        share = catalog.weight / catalog.weight.sum()
        units_per_day = sizes.orders * sizes.items_per_order * 1.2 / timeline.days
        product_daily = units_per_day * share
        self.min_level = np.maximum(2, np.ceil(14 * product_daily)).astype(np.int64)
        sku_daily = (product_daily / catalog.n_skus)[catalog.sku_product]
        n = catalog.sku_count
        self.neglected = g.random(n) < 0.05
        base = np.ceil(self.min_level / catalog.n_skus)[catalog.sku_product].astype(np.int64)
        self.threshold = np.where(self.neglected, 0, base)
        self.reorder = np.maximum(5, np.ceil(45 * sku_daily)).astype(np.int64)
        self.level = self.threshold + self.reorder + g.integers(0, 10, n)
        self.busy_until = np.full(n, timeline.start - DAY, dtype=np.int64)
        self.next_id = 1
        self.last_end: int | None = None

    def initial_batch(self, lo: int, hi: int, tz: str) -> pa.RecordBatch:
        """Return the opening stock count ("set") of SKUs ``lo``..``hi``, a day before history."""
        sku = np.arange(lo, hi)
        at = np.full(len(sku), self.timeline.start - DAY)
        kind = np.ones(len(sku), dtype=np.int64)
        return self._batch(sku, kind, self.level[sku], np.full(len(sku), ADJUSTMENT), at, tz)

    def chunk_batch(self, chunk: OrderChunk, g: np.random.Generator, tz: str) -> pa.RecordBatch:
        """Return the stock events caused by a chunk of orders and update the levels."""
        parts = [self._corrections(chunk, g)] if self.last_end is not None else []
        parts += self._sales_and_restocks(chunk, g)
        parts.append(self._returns(chunk))
        parts.append(self._damage(chunk, g))
        self.last_end = int(chunk.created[-1]) if len(chunk.created) else self.last_end
        sku, kind, qty, reason, at = (np.concatenate(c) for c in zip(*parts, strict=True))
        order = np.lexsort((sku, at))
        return self._batch(sku[order], kind[order], qty[order], reason[order], at[order], tz)

    def _sales_and_restocks(self, chunk: OrderChunk, g: np.random.Generator) -> list[tuple]:
        sold = chunk.status[chunk.line_order] != CANCELLED
        sku, qty = chunk.sku[sold], chunk.quantity[sold]
        at = chunk.created[chunk.line_order][sold]
        order = np.argsort(sku, kind="stable")  # lines are already in time order
        s, q, t = sku[order], qty[order], at[order]
        first = np.r_[True, s[1:] != s[:-1]] if len(s) else np.zeros(0, bool)
        total = np.cumsum(q)
        group_sizes = np.diff(np.r_[np.flatnonzero(first), len(s)])
        running = total - np.repeat(total[first] - q[first], group_sizes)
        projected = self.level[s] - running
        need = np.maximum(0, -np.floor_divide(projected - self.threshold[s], self.reorder[s]))
        before = np.where(first, 0, np.r_[0, need[:-1]])
        step = np.flatnonzero(need > before)
        r_sku = s[step]
        r_qty = (need[step] - before[step]) * self.reorder[r_sku]
        lag = np.where(self.neglected[r_sku], g.integers(3 * DAY, 20 * DAY, len(step)),
                       g.integers(3600, 3 * DAY, len(step)))  # fmt: skip
        r_at = np.minimum(t[step] + lag, self.timeline.now)
        np.subtract.at(self.level, s, q)
        np.add.at(self.level, r_sku, r_qty)
        np.maximum.at(self.busy_until, r_sku, r_at)
        np.maximum.at(self.busy_until, s, t)
        n_sale, n_rs = len(s), len(step)
        return [
            (s, np.zeros(n_sale, np.int64), -q, np.full(n_sale, SALE), t),
            (r_sku, np.zeros(n_rs, np.int64), r_qty, np.full(n_rs, RESTOCK), r_at),
        ]

    def _returns(self, chunk: OrderChunk) -> tuple:
        done = ~chunk.refund_failed & (chunk.status[chunk.refund_order] == REFUNDED)
        last_at = np.zeros(len(chunk.number), dtype=np.int64)
        np.maximum.at(last_at, chunk.refund_order[done], chunk.refund_at[done])
        lines = np.flatnonzero(last_at[chunk.line_order] > 0)
        sku, qty, at = chunk.sku[lines], chunk.quantity[lines], last_at[chunk.line_order][lines]
        np.add.at(self.level, sku, qty)
        np.maximum.at(self.busy_until, sku, at)
        return sku, np.zeros(len(sku), np.int64), qty, np.full(len(sku), RETURN), at

    def _damage(self, chunk: OrderChunk, g: np.random.Generator) -> tuple:
        _, sku = self.catalog.sample(g, g.poisson(0.004 * len(chunk.sku)))
        sku = np.unique(sku)
        qty = g.integers(1, 3, len(sku))
        keep = (
            self.level[sku] - qty >= self.threshold[sku]
        )  # never push a SKU below zero at the end
        sku, qty = sku[keep], qty[keep]
        lo, hi = int(chunk.created[0]), int(chunk.created[-1])
        at = g.integers(lo, hi + 1, len(sku))
        self.level[sku] -= qty
        np.maximum.at(self.busy_until, sku, at)
        return sku, np.zeros(len(sku), np.int64), -qty, np.full(len(sku), DAMAGE), at

    def _corrections(self, chunk: OrderChunk, g: np.random.Generator) -> tuple:
        at = self.last_end + 1
        empty = (np.zeros(0, np.int64),) * 5
        if not len(chunk.created) or at >= chunk.created[0]:
            return empty  # no quiet second between the chunks to count stock in
        _, sku = self.catalog.sample(g, g.poisson(0.002 * len(chunk.sku)))
        sku = np.unique(sku)
        sku = sku[self.busy_until[sku] < at]
        counted = np.maximum(0, self.level[sku] + g.integers(-3, 3, len(sku)))
        self.level[sku] = counted
        self.busy_until[sku] = at
        n = len(sku)
        return sku, np.ones(n, np.int64), counted, np.full(n, CORRECTION), np.full(n, at)

    def _batch(self, sku, kind, qty, reason, at, tz) -> pa.RecordBatch:
        n = len(sku)
        number = np.arange(self.next_id, self.next_id + n)
        self.next_id += n
        columns = {
            "id": ids("stk-", number, 9, widen=True),
            "product_id": self.catalog.product_ids(self.catalog.sku_product[sku]),
            "variant_id": self.catalog.variant_ids(sku),
            "kind": pick(KINDS, kind),
            "quantity": ints(qty),
            "reason": pick(REASONS, reason),
            "occurred_at": timestamps(at, tz),
        }
        return pa.record_batch(columns)

    def product_levels(self) -> np.ndarray:
        """Return the current stock of every product (sum over its SKUs)."""
        return np.add.reduceat(self.level, self.catalog.first_sku)

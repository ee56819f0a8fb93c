"""Approximate distributions with Apache DataSketches: HLL for customers, KLL for order values.

One streaming pass over the group rows, ordered by group, feeds one HLL and one KLL sketch per
group; when a group ends its estimates and bounds are read and its sketches dropped, so memory
is a few KB whatever the number of orders or groups.

Stated bounds:

* unique customers (HLL, ``lg_k = 12``): the library's lower and upper bounds at
  :data:`HLL_STD_DEVS` standard deviations (~99.7% confidence), widened to whole customers.
  Below a few hundred distinct values the sketch is in its exact list/set mode and the bounds
  close in on the count.
* percentiles (KLL doubles, ``k = 200``): the sketch's normalised rank error ``eps`` holds for a
  single rank query with 99% confidence, so the true nearest-rank percentile ``p`` lies between
  the sketch's quantiles at ranks ``p - eps`` and ``p + eps``; those are the bounds. Order
  totals are integers far below 2**53, so doubles hold them exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from warehouse.marts import TenantMarts
from warehouse.metrics.distribution import EMPTY, PERCENTILES, Bounded, Distribution
from warehouse.metrics.request import SalesRequest

if TYPE_CHECKING:  # imported where sketches are made: most API requests never need the library
    import datasketches

HLL_LG_K = 12
HLL_STD_DEVS = 3
HLL_CONFIDENCE = 0.9973
KLL_K = 200
KLL_CONFIDENCE = 0.99
BATCH_ROWS = 8192


def kll_rank_error() -> float:
    """Return the normalised rank error of a single quantile query at ``KLL_K`` (99%)."""
    import datasketches

    return datasketches.kll_doubles_sketch.get_normalized_rank_error(KLL_K, False)


def sketched_distributions(
    marts: TenantMarts, req: SalesRequest, grouping: str | None
) -> dict[str, Distribution]:
    """Return each group's estimated distribution from one pass over the facts."""
    sql = f"{req.grouped(grouping)} select key, customer_id, total_minor from grouped order by key"
    batches = marts.stream(sql, req.params(), batch_rows=BATCH_ROWS, **req.facts_for(grouping))
    return dict(sketch_groups(row for batch in batches for row in batch))


def sketched_spread(
    marts: TenantMarts, req: SalesRequest
) -> tuple[dict[str, Distribution], Distribution]:
    """Return each group's estimates and the whole range's (each order once there)."""
    whole = sketched_distributions(marts, req, None).get("all", EMPTY)
    return sketched_distributions(marts, req, req.group_by), whole


def sketch_groups(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[str, Distribution]]:
    """Yield (key, estimates) per group of ``rows`` (dicts ordered by ``key``)."""
    key, group = None, _Group()
    for row in rows:
        if row["key"] != key:
            if key is not None:
                yield key, group.estimates()
            key, group = row["key"], _Group()
        group.add(row["customer_id"], row["total_minor"])
    if key is not None:
        yield key, group.estimates()


class _Group:
    """The sketches of one group, fed row by row, order totals in small numpy chunks."""

    def __init__(self) -> None:
        import datasketches

        self.customers = datasketches.hll_sketch(HLL_LG_K)
        self.values = datasketches.kll_doubles_sketch(KLL_K)
        self._pending: list[float] = []

    def add(self, customer_id: str | None, total_minor: int) -> None:
        if customer_id is not None:
            self.customers.update(customer_id)
        self._pending.append(total_minor)
        if len(self._pending) >= BATCH_ROWS:
            self._flush()

    def estimates(self) -> Distribution:
        self._flush()
        return Distribution(hll_estimate(self.customers), kll_percentiles(self.values))

    def _flush(self) -> None:
        if self._pending:
            self.values.update(np.asarray(self._pending, dtype=np.float64))
            self._pending.clear()


def hll_estimate(sketch: datasketches.hll_sketch) -> Bounded:
    """Return the sketch's estimate with its bounds, in whole customers."""
    return Bounded(
        round(sketch.get_estimate()),
        max(0, math.floor(sketch.get_lower_bound(HLL_STD_DEVS))),
        math.ceil(sketch.get_upper_bound(HLL_STD_DEVS)),
    )


def kll_percentiles(sketch: datasketches.kll_doubles_sketch) -> dict[str, Bounded | None]:
    """Return p50/p90/p99 with the quantiles at rank p -/+ eps as bounds (None when empty)."""
    if sketch.is_empty():
        return {f"p{p}": None for p in PERCENTILES}
    eps = sketch.normalized_rank_error(False)
    result: dict[str, Bounded | None] = {}
    for p in PERCENTILES:
        rank = p / 100
        low, high = max(0.0, rank - eps), min(1.0, rank + eps)
        # Inclusive ranks (share of values <= x) are what nearest rank is defined by.
        result[f"p{p}"] = Bounded(
            int(sketch.get_quantile(rank, True)),
            int(sketch.get_quantile(low, True)),
            int(sketch.get_quantile(high, True)),
        )
    return result

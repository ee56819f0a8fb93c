"""Assemble a sales-metrics answer: exact measures per group, distributions, sources, methods."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from warehouse.marts import TenantMarts
from warehouse.metrics.distribution import EMPTY, Distribution, exact_spread
from warehouse.metrics.measures import group_measures, range_totals
from warehouse.metrics.request import SalesRequest
from warehouse.metrics.sketches import (
    HLL_CONFIDENCE,
    HLL_LG_K,
    HLL_STD_DEVS,
    KLL_CONFIDENCE,
    KLL_K,
    kll_rank_error,
    sketched_spread,
)

EXACT_METHODS = {
    "unique_customers": {"method": "exact", "detail": "count of distinct customer ids"},
    "order_value": {
        "method": "exact",
        "detail": "nearest rank: the ceil(p * n)-th smallest order total",
    },
}


def sales_report(marts: TenantMarts, req: SalesRequest) -> dict[str, Any]:
    """Return the whole answer for one request, as plain data."""
    source, groups = group_measures(marts, req)
    compute = exact_spread if req.precision == "exact" else sketched_spread
    spread, overall = compute(marts, req)
    facts = sorted(req.facts_for(req.group_by).values())
    return {
        "group_by": req.group_by,
        "precision": req.precision,
        "start_date": req.start_date,
        "end_date": req.end_date,
        "timezone": req.timezone,
        "currency": req.currency,
        "snapshot_id": marts.build_id,
        "source": "facts" if source == "facts" else "marts",
        "sources": {
            "groups": facts if source == "facts" else [source],
            "summary": ["mart_sales_daily"],
            "distributions": facts,
        },
        "methods": methods(req.precision),
        "groups": [{**row, **_spread(spread.get(row["key"], EMPTY))} for row in groups],
        "summary": {**range_totals(marts, req), **_spread(overall)},
    }


def methods(precision: str) -> dict[str, dict[str, Any]]:
    """Return how unique customers and percentiles were computed, and how sure they are."""
    if precision == "exact":
        return EXACT_METHODS
    return {
        "unique_customers": {
            "method": "hll",
            "library": "Apache DataSketches",
            "lg_k": HLL_LG_K,
            "std_devs": HLL_STD_DEVS,
            "confidence": HLL_CONFIDENCE,
            "detail": "HyperLogLog estimate; bounds at the stated standard deviations",
        },
        "order_value": {
            "method": "kll",
            "library": "Apache DataSketches",
            "k": KLL_K,
            "normalized_rank_error": kll_rank_error(),
            "confidence": KLL_CONFIDENCE,
            "detail": "bounds are the sketch's quantiles at rank p - eps and p + eps",
        },
    }


def _spread(distribution: Distribution) -> dict[str, Any]:
    return {
        "unique_customers": asdict(distribution.unique_customers),
        "order_value": {
            name: None if value is None else asdict(value)
            for name, value in distribution.order_value.items()
        },
    }

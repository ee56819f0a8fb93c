"""Query and response models of GET /api/v1/metrics/sales/."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from serving.api import Out, Query
from warehouse.metrics import GROUPINGS, MAX_HOUR_DAYS, PRECISIONS


class SalesMetricsQuery(Query):
    group_by: Literal[GROUPINGS] = Field(  # type: ignore[valid-type]
        "day", description=f"Buckets: tenant-local day or hour (hour: both dates, at most "
        f"{MAX_HOUR_DAYS} days), product, or category path."
    )  # fmt: skip
    start_date: date | None = Field(None, description="First local day included.")
    end_date: date | None = Field(None, description="Last local day included.")
    precision: Literal[PRECISIONS] = Field(  # type: ignore[valid-type]
        "exact",
        description="`exact`, or `approx`: unique customers by HyperLogLog and percentiles by "
        "KLL sketches, each value with its bounds.",
    )


class BoundedValue(Out):
    """A value and the interval the true value lies in (all three equal when exact)."""

    value: int
    lower_bound: int
    upper_bound: int


class OrderValuePercentiles(Out):
    """Order-value percentiles in minor units (null when the group has no orders)."""

    p50: BoundedValue | None
    p90: BoundedValue | None
    p99: BoundedValue | None


class SalesMetricsMeasures(Out):
    """Exact sums and counts in minor units; which appear depends on `group_by`.

    day, hour and the summary: order_count, units, gross/discounts/tax/shipping/total,
    refunds, net revenue and average order value. product and category: order_count (orders
    with a line of it), units and revenue_minor (line revenue before order discounts, tax and
    shipping).
    """

    order_count: int
    units: int
    gross_minor: int | None = None
    discounts_minor: int | None = None
    tax_minor: int | None = None
    shipping_minor: int | None = None
    total_minor: int | None = None
    refunds_minor: int | None = None
    net_revenue_minor: int | None = None
    average_order_value_minor: int | None = None
    revenue_minor: int | None = None
    unique_customers: BoundedValue
    order_value: OrderValuePercentiles


class SalesMetricsGroup(SalesMetricsMeasures):
    key: str = Field(description="YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS (local), product id or path.")
    name: str | None = Field(None, description="The product's name (group_by=product).")


class SalesMetricsSources(Out):
    groups: list[str] = Field(description="What the groups' sums were read from.")
    summary: list[str]
    distributions: list[str] = Field(description="What unique customers and percentiles read.")


class SalesMetricsReport(Out):
    group_by: str
    precision: str
    start_date: date | None
    end_date: date | None
    timezone: str
    currency: str
    snapshot_id: str = Field(description="The published build the answer was read from.")
    source: Literal["marts", "facts"] = Field(
        description="`marts` when a pre-aggregated mart covered the groups, else `facts`."
    )
    sources: SalesMetricsSources
    methods: dict[str, dict[str, Any]] = Field(
        description="How unique_customers and order_value were computed, with the confidence "
        "of their bounds."
    )
    groups: list[SalesMetricsGroup]
    summary: SalesMetricsMeasures = Field(description="The whole range (unique across groups).")

"""Sales metrics: exact measures from the marts, unique customers and percentiles exact or sketched.

Public API::

    from warehouse.metrics import make_request, sales_report

    req = make_request("day", "approx", "Europe/Berlin", "EUR", date(2026, 5, 1), date(2026, 5, 31))
    answer = sales_report(TenantMarts.current(var_dir, tenant_id), req)

What comes from where:

* per-group sums and counts (orders, units, revenue, refunds ...): the pre-aggregated mart of
  the grouping when it covers the request (see :mod:`warehouse.metrics.measures`), else the
  facts; always exact integers of minor units;
* the summary's sums: mart_sales_daily over the range;
* unique customers and order-value percentiles (p50/p90/p99), per group and over the range: the
  facts, exactly (``precision=exact``) or through HLL and KLL sketches (``precision=approx``,
  :mod:`warehouse.metrics.sketches`), each value with its bounds.
"""

from warehouse.metrics.distribution import PERCENTILES, Bounded, Distribution
from warehouse.metrics.report import methods, sales_report
from warehouse.metrics.request import (
    GROUPINGS,
    MAX_HOUR_DAYS,
    PRECISIONS,
    MetricsInputError,
    SalesRequest,
    make_request,
)

__all__ = [
    "GROUPINGS",
    "MAX_HOUR_DAYS",
    "PERCENTILES",
    "PRECISIONS",
    "Bounded",
    "Distribution",
    "MetricsInputError",
    "SalesRequest",
    "make_request",
    "methods",
    "sales_report",
]

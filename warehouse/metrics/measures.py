"""Sums and counts per group, from the pre-aggregated marts whenever they cover the request.

* day / hour: mart_sales_daily / mart_sales_hourly always cover (they are per local day/hour).
* product / category: mart_product_performance / mart_category_summary are all-time, so they
  cover a request without dates, or one whose range holds every day with counted orders (read
  from mart_sales_daily); any other range is summed from the facts (fct_order_items of counted
  orders, joined to dim_products exactly as those marts are built).

Every amount is an integer of minor units; nothing here is estimated.
"""

from __future__ import annotations

from typing import Any

from warehouse.marts import TenantMarts
from warehouse.metrics.request import COUNTED, SalesRequest

SALES = (
    "order_count, units, gross_minor, discounts_minor, tax_minor, shipping_minor, total_minor, "
    "refunds_minor, net_revenue_minor"
)
SALES_COLUMNS = tuple(SALES.split(", "))
IN_RANGE = "($1::date is null or sales_date >= $1) and ($2::date is null or sales_date <= $2)"
MART_SQL = {
    "day": f"select strftime(sales_date, '%Y-%m-%d') as key, {SALES}, average_order_value_minor "
    f"from {{mart}} where {IN_RANGE} order by sales_date",
    "hour": "select strftime(sales_hour, '%Y-%m-%dT%H:%M:%S') as key, "
    f"{SALES}, average_order_value_minor from {{mart}} where {IN_RANGE} order by sales_hour",
    "product": "select product_id as key, product_name as name, order_count, units_sold as units, "
    "revenue_minor from {mart} where order_count > 0 order by revenue_minor desc, product_id",
    "category": "select category_path as key, order_count, units_sold as units, revenue_minor "
    "from {mart} where order_count > 0 order by revenue_minor desc, category_path",
}
MARTS = {
    "day": "mart_sales_daily",
    "hour": "mart_sales_hourly",
    "product": "mart_product_performance",
    "category": "mart_category_summary",
}
FACT_SQL = {
    "product": ("p.product_id", "max(p.product_name) as name, "),
    "category": ("p.category_path", ""),
}


def group_measures(marts: TenantMarts, req: SalesRequest) -> tuple[str, list[dict[str, Any]]]:
    """Return (source, rows): each row a group ``key`` and its exact measures."""
    mart = MARTS[req.group_by]
    if req.group_by in ("day", "hour"):
        return mart, marts.rows(MART_SQL[req.group_by], [req.start_date, req.end_date], mart=mart)
    if _all_time_covers(marts, req):
        return mart, marts.rows(MART_SQL[req.group_by], mart=mart)
    return "facts", _from_facts(marts, req)


def range_totals(marts: TenantMarts, req: SalesRequest) -> dict[str, int]:
    """Return the sales measures summed over the whole range (from mart_sales_daily)."""
    sums = ", ".join(f"coalesce(sum({c}), 0)::bigint as {c}" for c in SALES_COLUMNS)
    sql = f"select {sums} from {{daily}} where {IN_RANGE}"
    (row,) = marts.rows(sql, [req.start_date, req.end_date], daily="mart_sales_daily")
    return {
        **row,
        "average_order_value_minor": minor_average(row["total_minor"], row["order_count"]),
    }


def minor_average(total_minor: int, count: int) -> int | None:
    """Return total / count rounded half away from zero, as the marts do (None for no count)."""
    if count <= 0:
        return None
    quotient = (2 * abs(total_minor) + count) // (2 * count)
    return quotient if total_minor >= 0 else -quotient


def _all_time_covers(marts: TenantMarts, req: SalesRequest) -> bool:
    if req.start_date is None and req.end_date is None:
        return True
    sql = (
        "select min(sales_date) as first, max(sales_date) as last from {daily} "
        "where order_count > 0"
    )
    (span,) = marts.rows(sql, daily="mart_sales_daily")
    if span["first"] is None:
        return True  # no counted order at all: every range is the (empty) whole
    starts_before = req.start_date is None or req.start_date <= span["first"]
    return starts_before and (req.end_date is None or req.end_date >= span["last"])


def _from_facts(marts: TenantMarts, req: SalesRequest) -> list[dict[str, Any]]:
    key, name = FACT_SQL[req.group_by]
    sql = (
        f"with {COUNTED} select {key} as key, {name}count(distinct l.order_id) as order_count, "
        "sum(l.quantity)::bigint as units, sum(l.line_net_minor)::bigint as revenue_minor "
        "from counted as c join {lines} as l on l.order_id = c.order_id "
        "join {products} as p on p.product_id = l.product_id "
        "group by 1 order by revenue_minor desc, key"
    )
    return marts.rows(
        sql, req.params(), orders="fct_orders", lines="fct_order_items", products="dim_products"
    )

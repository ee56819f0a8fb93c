"""The dashboard overview: a range's sales against the previous period, top products, low stock.

Three small marts answer it, one query each: ``mart_sales_daily`` (one row per tenant-local
day) for the range and the previous period of equal length, ``mart_product_performance`` for
the top products and ``mart_stock_levels`` for low stock. No fact table is read.

Top products are ranked over all counted orders (the product mart has no day grain), so they
do not follow the range; the answer says so in ``top_products_scope``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from warehouse.analytics.breakdowns import top_products
from warehouse.analytics.exact import average_minor, ratio
from warehouse.analytics.periods import Period
from warehouse.marts import TenantMarts

# Answer name -> mart_sales_daily column (summed per period).
TOTALS = {
    "revenue_minor": "total_minor",
    "refunds_minor": "refunds_minor",
    "net_revenue_minor": "net_revenue_minor",
    "orders": "order_count",
    "units": "units",
    "new_customers": "new_customer_count",
}
COMPARED = (*TOTALS, "average_order_value_minor")


def period_totals(marts: TenantMarts, period: Period) -> dict[str, dict[str, int]]:
    """Return the sums of the period and of the previous one, plus customers up to its end."""
    previous = period.previous()
    current = "sales_date >= ?"
    before = "sales_date < ? and sales_date >= ?"
    columns, params = [], []
    for name, column in TOTALS.items():
        columns.append(f"coalesce(sum({column}) filter (where {current}), 0)::bigint as c_{name}")
        columns.append(f"coalesce(sum({column}) filter (where {before}), 0)::bigint as p_{name}")
        params += [period.start, period.start, previous.start]
    row = marts.rows(
        f"select {', '.join(columns)}, coalesce(sum(new_customer_count), 0)::bigint as base "
        "from {sales} where sales_date <= ?",
        [*params, period.end],
        sales="mart_sales_daily",
    )[0]
    return {
        "current": _with_average({name: row[f"c_{name}"] for name in TOTALS}),
        "previous": _with_average({name: row[f"p_{name}"] for name in TOTALS}),
        "customers_to_date": row["base"],
    }


def _with_average(totals: dict[str, Any]) -> dict[str, Any]:
    totals["average_order_value_minor"] = average_minor(totals["revenue_minor"], totals["orders"])
    return totals


def change(current: int | None, previous: int | None) -> dict[str, Any]:
    """Return the absolute and percentage change (None where it is undefined)."""
    if current is None or previous is None:
        return {"absolute": None, "pct": None}
    pct = ratio(Decimal(current - previous) * 100, abs(previous), scale=2)
    return {"absolute": current - previous, "pct": pct}


def low_stock(marts: TenantMarts, limit: int) -> dict[str, Any]:
    """Return how many SKUs are at or below their minimum (and out of stock), lowest first."""
    counts = marts.rows(
        "select count(*) filter (where is_low_stock) as low, "
        "count(*) filter (where is_out_of_stock) as out from {levels}",
        levels="mart_stock_levels",
    )[0]
    items = marts.rows(
        """
        select product_id, variant_id, sku, product_name, variant_name, stock_quantity,
            min_stock_level, is_out_of_stock, days_of_cover
        from {levels}
        where is_low_stock
        order by stock_quantity, sku, product_id, variant_id
        limit ?
        """,
        [limit],
        levels="mart_stock_levels",
    )
    return {"count": counts["low"], "out_of_stock_count": counts["out"], "items": items}


def overview(marts: TenantMarts, period: Period, limit: int) -> dict[str, Any]:
    """Return the overview of ``period`` for the tenant ``marts`` belongs to."""
    totals = period_totals(marts, period)
    current, previous = totals["current"], totals["previous"]
    return {
        "period": period.as_dict(),
        "previous_period": period.previous().as_dict(),
        "totals": current,
        "previous_totals": previous,
        "change": {name: change(current[name], previous[name]) for name in COMPARED},
        "customers_to_date": totals["customers_to_date"],
        "top_products_scope": "all_time",
        "top_products": top_products(marts, limit),
        "low_stock": low_stock(marts, limit),
    }

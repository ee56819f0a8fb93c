"""The reports a tenant can export: each is one published mart plus the filters that apply to it.

A filter either compares a column of the mart itself (``Column``) or keeps the rows whose key is
in a set read from another mart of the same snapshot (``Lookup``: order lines of paid orders,
customers in an RFM segment, products in a category). Lookups are applied to the streamed
rows, not joined in SQL, because DuckDB keeps the file's row order only for scans, filters and
projections - and a byte-identical file after a resume needs that order (see ``query.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DateKind = Literal["instant", "local_date"]
FILTERS = ("status", "category", "segment")

# Rows whose category path is one of the values, or lies below one ("Apparel" takes
# "Apparel > T-Shirts"). The values travel as one VARCHAR[] parameter.
_CATEGORY_SQL = (
    "select distinct p.product_id from {lookup} as p "
    "join unnest(?::varchar[]) as wanted(path) "
    "on p.category_path = wanted.path or starts_with(p.category_path, wanted.path || ' > ')"
)


@dataclass(frozen=True)
class Column:
    """Keep rows whose ``column`` equals one of the requested values."""

    column: str


@dataclass(frozen=True)
class Lookup:
    """Keep rows whose ``key`` is among the keys ``sql`` selects from ``mart`` (one param)."""

    key: str
    mart: str
    sql: str


@dataclass(frozen=True)
class Report:
    """One exportable report: its mart, its date column and the filters it accepts."""

    name: str
    mart: str
    summary: str
    date_column: str | None = None
    date_kind: DateKind = "instant"
    filters: dict[str, Column | Lookup] = field(default_factory=dict)


CATEGORY = Lookup("product_id", "dim_products", _CATEGORY_SQL)
SEGMENT = Lookup(
    "customer_id",
    "mart_customer_rfm",
    "select customer_id from {lookup} where list_contains(?::varchar[], segment)",
)
ORDER_STATUS = Lookup(
    "order_id",
    "fct_orders",
    "select order_id from {lookup} where list_contains(?::varchar[], status)",
)

REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        Report(
            "orders",
            "fct_orders",
            "One row per order.",
            "created_at",
            filters={"status": Column("status")},
        ),
        Report(
            "order_items",
            "fct_order_items",
            "One row per order line.",
            "order_created_at",
            filters={"status": ORDER_STATUS, "category": CATEGORY},
        ),
        Report(
            "customers",
            "dim_customers",
            "One row per customer.",
            "created_at",
            filters={"segment": SEGMENT},
        ),
        Report(
            "products",
            "dim_products",
            "One row per product, variants nested.",
            "created_at",
            filters={"category": CATEGORY},
        ),
        Report(
            "product_performance",
            "mart_product_performance",
            "One row per product: units, revenue, margin, ranks.",
            filters={"category": CATEGORY},
        ),
        Report(
            "sales_daily",
            "mart_sales_daily",
            "One row per tenant-local day with sales.",
            "sales_date",
            date_kind="local_date",
        ),
        Report(
            "customer_rfm",
            "mart_customer_rfm",
            "One row per customer with orders in the RFM window.",
            "last_order_date",
            date_kind="local_date",
            filters={"segment": Column("segment")},
        ),
        Report(
            "stock_levels",
            "mart_stock_levels",
            "One row per SKU (product or variant): level, cover, flags.",
            filters={"category": CATEGORY},
        ),
        Report(
            "refunds",
            "fct_refunds",
            "One row per refund.",
            "created_at",
            filters={"status": Column("status")},
        ),
    )
}


def exportable_columns(names: list[str]) -> list[str]:
    """Return the mart columns a report exports by default: all but lineage (``_batch_id``...)."""
    return [name for name in names if not name.startswith("_")]

"""Compute every mart of the reference from the lake and the tenants export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from tests.integration.marts_reference import (
    core,
    customers,
    funnel,
    inventory,
    payments,
    products,
    raw,
    sales,
)
from tests.integration.marts_reference import ledger as ledger_

# Every mart and its key (the row identity compared between dbt and the reference).
KEYS: dict[str, list[str]] = {
    "fct_orders": ["tenant_id", "order_id"],
    "fct_order_items": ["tenant_id", "order_id", "line_number"],
    "fct_refunds": ["tenant_id", "refund_id"],
    "fct_payments": ["tenant_id", "payment_id"],
    "dim_products": ["tenant_id", "product_id"],
    "dim_customers": ["tenant_id", "customer_id"],
    "mart_sales_daily": ["tenant_id", "sales_date"],
    "mart_sales_hourly": ["tenant_id", "sales_hour"],
    "mart_product_performance": ["tenant_id", "product_id"],
    "mart_category_summary": ["tenant_id", "category_path"],
    "mart_customer_rfm": ["tenant_id", "customer_id"],
    "mart_customer_lifetime": ["tenant_id", "customer_id"],
    "mart_stock_levels": ["tenant_id", "product_id", "variant_id"],
    "mart_stock_movements": ["tenant_id", "product_id", "variant_id", "movement_date"],
    "mart_price_history": ["tenant_id", "price_event_id"],
    "mart_event_funnel": ["tenant_id", "funnel_date"],
}


def reference_marts(lake: Path, tenants_file: Path, as_of: date) -> dict[str, pl.DataFrame]:
    """Return every mart computed independently of dbt."""
    tenants = {t["tenant_id"]: t for t in raw.tenants(tenants_file).iter_rows(named=True)}
    refunds, paid = core.fct_refunds(lake), payments.fct_payments(lake)
    out = {
        "fct_orders": payments.order_money(core.fct_orders(lake), paid, refunds),
        "fct_order_items": core.fct_order_items(lake),
        "fct_refunds": refunds,
        "fct_payments": paid,
        "dim_products": core.dim_products(lake),
        "dim_customers": core.dim_customers(lake),
    }
    by_key = ledger_.build_orders(
        out["fct_orders"], out["fct_order_items"], out["fct_refunds"], tenants
    )
    orders = list(by_key.values())
    refunds = ledger_.counted_refunds(out["fct_refunds"], by_key, tenants)
    stock_events = raw.current(lake, "stock_events")
    performance = products.performance(out["dim_products"], orders)
    out |= {
        "mart_sales_daily": sales.daily(orders, refunds, tenants),
        "mart_sales_hourly": sales.hourly(orders, refunds, tenants),
        "mart_product_performance": performance,
        "mart_category_summary": products.categories(performance, orders, out["dim_products"]),
        "mart_customer_rfm": customers.rfm(orders, tenants, as_of),
        "mart_customer_lifetime": customers.lifetime(out["dim_customers"], orders, tenants, as_of),
        "mart_stock_levels": inventory.levels(
            out["dim_products"], stock_events, orders, tenants, as_of
        ),
        "mart_stock_movements": inventory.movements(stock_events, tenants),
        "mart_price_history": products.price_history(raw.current(lake, "price_events"), tenants),
        "mart_event_funnel": funnel.funnel(raw.current(lake, "events"), tenants),
    }
    return out

"""Reference for mart_sales_daily and mart_sales_hourly (tenant-local buckets)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from tests.integration.marts_reference.calc import quotient
from tests.integration.marts_reference.ledger import Order, Refund, by_tenant


def rollup(orders: list[Order], refunds: list[Refund], tenants: dict[int, dict],
           bucket: Callable, names: list[str]) -> pl.DataFrame:  # fmt: skip
    """Aggregate counted orders and refunds into buckets; ``bucket`` maps a local time to keys."""
    sold = by_tenant(
        [o for o in orders if o.counts], lambda o: (o.tenant_id, *bucket(o.created_local))
    )
    back = by_tenant(refunds, lambda r: (r.tenant_id, *bucket(r.created_local)))
    rows = []
    for key in sorted(set(sold) | set(back)):
        group, refunded = sold.get(key, []), back.get(key, [])
        customers = {o.customer_id for o in group if o.customer_id is not None}
        new = {o.customer_id for o in group if o.first_of_customer}
        total = sum(o.total for o in group)
        refund_total = sum(r.amount for r in refunded)
        rows.append({
            "tenant_id": key[0], **dict(zip(names, key[1:], strict=True)),
            "order_count": len(group), "units": sum(o.units for o in group),
            "customer_count": len(customers), "new_customer_count": len(new),
            "returning_customer_count": len(customers) - len(new),
            "guest_order_count": sum(o.customer_id is None for o in group),
            "high_value_order_count": sum(o.high_value for o in group),
            "refund_count": len(refunded), "currency": tenants[key[0]]["currency"],
            "gross_minor": sum(o.gross for o in group),
            "discounts_minor": sum(o.line_discount + o.order_discount for o in group),
            "tax_minor": sum(o.tax for o in group),
            "shipping_minor": sum(o.shipping for o in group), "total_minor": total,
            "refunds_minor": refund_total, "net_revenue_minor": total - refund_total,
            "average_order_value_minor": quotient(total, len(group)),
        })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


def daily(orders, refunds, tenants) -> pl.DataFrame:
    """One row per tenant and local day."""
    return rollup(orders, refunds, tenants, lambda t: (t.date(),), ["sales_date"])


def hourly(orders, refunds, tenants) -> pl.DataFrame:
    """One row per tenant and local wall-clock hour."""

    def hour(t):
        return t.date(), t.replace(minute=0, second=0, microsecond=0)

    return rollup(orders, refunds, tenants, hour, ["sales_date", "sales_hour"])

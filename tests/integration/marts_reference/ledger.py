"""Orders and refunds as the sales, product and customer marts count them, in Python rows.

An order counts in sales when it was paid (paid, fulfilled, refunded, partially_refunded) and
is in its tenant's currency. Refunds count when succeeded and of such an order, on their own day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

from tests.integration.marts_reference.calc import local

PAID = {"paid", "fulfilled", "refunded", "partially_refunded"}


@dataclass
class Order:
    """One order with its line sums and succeeded refunds, in tenant-local time."""

    tenant_id: int
    order_id: str
    customer_id: str | None
    total: int
    tax: int
    shipping: int
    order_discount: int
    created_at: datetime
    created_local: datetime
    counts: bool
    high_value: bool
    units: int = 0
    gross: int = 0
    line_discount: int = 0
    refunded: int = 0
    first_of_customer: bool = False
    lines: list[dict] = field(default_factory=list)

    @property
    def created_day(self) -> date:
        return self.created_local.date()


@dataclass
class Refund:
    """A refund that counts against sales, in tenant-local time."""

    tenant_id: int
    amount: int
    created_local: datetime


def build_orders(orders: pl.DataFrame, lines: pl.DataFrame, refunds: pl.DataFrame,
                 tenants: dict[int, dict]) -> dict[tuple[int, str], Order]:  # fmt: skip
    """Return every current order keyed by (tenant, order id) with its sums and flags."""
    out: dict[tuple[int, str], Order] = {}
    for o in orders.iter_rows(named=True):
        tenant = tenants[o["tenant_id"]]
        out[(o["tenant_id"], o["order_id"])] = Order(
            o["tenant_id"], o["order_id"], o["customer_id"], o["total_minor"], o["tax_minor"],
            o["shipping_minor"], o["discount_minor"], o["created_at"],
            local(o["created_at"], tenant["timezone"]),
            o["status"] in PAID and o["currency"] == tenant["currency"],
            o["total_minor"] >= tenant["high_value_order_minor"],
        )  # fmt: skip
    for line in lines.iter_rows(named=True):
        order = out[(line["tenant_id"], line["order_id"])]
        order.units += line["quantity"]
        order.gross += line["quantity"] * line["unit_price_minor"]
        order.line_discount += line["discount_minor"]
        order.lines.append(line)
    for r in refunds.filter(pl.col("status") == "succeeded").iter_rows(named=True):
        if (r["tenant_id"], r["order_id"]) in out:
            out[(r["tenant_id"], r["order_id"])].refunded += r["amount_minor"]
    _mark_first_orders(out.values())
    return out


def _mark_first_orders(orders) -> None:
    first: dict[tuple[int, str], Order] = {}
    for order in orders:
        if not order.counts or order.customer_id is None:
            continue
        key = (order.tenant_id, order.customer_id)
        best = first.get(key)
        if best is None or (order.created_at, order.order_id) < (best.created_at, best.order_id):
            first[key] = order
    for order in first.values():
        order.first_of_customer = True


def counted_refunds(refunds: pl.DataFrame, orders: dict[tuple[int, str], Order],
                    tenants: dict[int, dict]) -> list[Refund]:  # fmt: skip
    """Return succeeded refunds of counted orders."""
    out = []
    for r in refunds.filter(pl.col("status") == "succeeded").iter_rows(named=True):
        order = orders.get((r["tenant_id"], r["order_id"]))
        if order is not None and order.counts:
            zone = tenants[r["tenant_id"]]["timezone"]
            out.append(Refund(r["tenant_id"], r["amount_minor"], local(r["created_at"], zone)))
    return out


def by_tenant(items, key) -> dict:
    """Group items into lists by ``key(item)``."""
    groups = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups

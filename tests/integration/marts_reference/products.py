"""Reference for mart_product_performance, mart_category_summary and mart_price_history."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import polars as pl

from tests.integration.marts_reference.calc import local_day, ratio
from tests.integration.marts_reference.ledger import Order


def _ranks(values: dict, group_of) -> dict:
    """Rank keys by value descending within their group; equal values share the lowest rank."""
    groups = defaultdict(list)
    for key, value in values.items():
        groups[group_of(key)].append(value)
    return {key: 1 + sum(v > value for v in groups[group_of(key)]) for key, value in values.items()}


def performance(products: pl.DataFrame, orders: list[Order]) -> pl.DataFrame:
    """One row per current product with its counted sales, margin, refund rate and ranks."""
    sold = defaultdict(lambda: {"units": 0, "revenue": 0, "orders": set(), "refunded": set(),
                                "last": None})  # fmt: skip
    for order in (o for o in orders if o.counts):
        for line in order.lines:
            s = sold[(order.tenant_id, line["product_id"])]
            s["units"] += line["quantity"]
            s["revenue"] += line["quantity"] * line["unit_price_minor"] - line["discount_minor"]
            s["orders"].add(order.order_id)
            if order.refunded > 0:
                s["refunded"].add(order.order_id)
            s["last"] = max(filter(None, [s["last"], order.created_at]))
    catalogue = {(p["tenant_id"], p["product_id"]): p for p in products.iter_rows(named=True)}
    revenue = {k: sold[k]["revenue"] if k in sold else 0 for k in catalogue}
    in_tenant = _ranks(revenue, lambda k: k[0])
    in_category = _ranks(revenue, lambda k: (k[0], catalogue[k]["category_path"]))
    rows = []
    for key, p in catalogue.items():
        s = sold.get(key, {"units": 0, "revenue": 0, "orders": set(), "refunded": set(),
                           "last": None})  # fmt: skip
        cost = None if p["cost_minor"] is None else s["units"] * p["cost_minor"]
        margin = None if cost is None else s["revenue"] - cost
        rows.append({
            "tenant_id": key[0], "product_id": key[1], "sku": p["sku"],
            "product_name": p["product_name"], "category_path": p["category_path"],
            "units_sold": s["units"], "order_count": len(s["orders"]),
            "refunded_order_count": len(s["refunded"]), "currency": p["currency"],
            "revenue_minor": s["revenue"], "cost_of_goods_minor": cost, "margin_minor": margin,
            "margin_rate": None if margin is None else ratio(margin, s["revenue"]),
            "refund_rate": ratio(len(s["refunded"]), len(s["orders"])),
            "revenue_rank_in_tenant": in_tenant[key], "revenue_rank_in_category": in_category[key],
            "is_active": p["is_active"], "has_cost": p["has_cost"], "last_sold_at": s["last"],
        })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


def categories(performance_rows: pl.DataFrame, orders: list[Order],
               products: pl.DataFrame) -> pl.DataFrame:  # fmt: skip
    """One row per tenant and category path, summing its products."""
    path_of = {(p["tenant_id"], p["product_id"]): p["category_path"]
               for p in products.iter_rows(named=True)}  # fmt: skip
    order_sets = defaultdict(set)
    for order in (o for o in orders if o.counts):
        for line in order.lines:
            path = path_of.get((order.tenant_id, line["product_id"]))
            if path is not None:
                order_sets[(order.tenant_id, path)].add(order.order_id)
    groups = defaultdict(list)
    for row in performance_rows.iter_rows(named=True):
        groups[(row["tenant_id"], row["category_path"])].append(row)
    revenue = {k: sum(r["revenue_minor"] for r in rows) for k, rows in groups.items()}
    tenant_revenue = defaultdict(int)
    for (tenant, _), value in revenue.items():
        tenant_revenue[tenant] += value
    ranks = _ranks(revenue, lambda k: k[0])
    rows = []
    for key, members in groups.items():
        costed = sum(r["revenue_minor"] for r in members if r["has_cost"])
        margin = sum(r["margin_minor"] or 0 for r in members)
        rows.append({
            "tenant_id": key[0], "category_path": key[1], "product_count": len(members),
            "active_product_count": sum(r["is_active"] for r in members),
            "sold_product_count": sum(r["units_sold"] > 0 for r in members),
            "units_sold": sum(r["units_sold"] for r in members),
            "order_count": len(order_sets[key]), "currency": members[0]["currency"],
            "revenue_minor": revenue[key], "costed_revenue_minor": costed, "margin_minor": margin,
            "margin_rate": ratio(margin, costed), "revenue_share": ratio(revenue[key],
            tenant_revenue[key[0]]), "revenue_rank_in_tenant": ranks[key],
        })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


def price_history(price_events: pl.DataFrame, tenants: dict[int, dict]) -> pl.DataFrame:
    """One row per price event with the change from the series' previous observation."""
    series = defaultdict(list)
    for e in price_events.iter_rows(named=True):
        series[(e["tenant_id"], e["product_id"], e["variant_id"])].append(e)
    rows = []
    for events in series.values():
        previous = None
        for e in sorted(events, key=lambda e: (e["occurred_at"], e["id"])):
            tenant = tenants[e["tenant_id"]]
            threshold = Decimal(str(tenant["price_anomaly_threshold_pct"]))
            change = None if previous is None else e["price_minor"] - previous
            rows.append({
                "tenant_id": e["tenant_id"], "price_event_id": e["id"],
                "product_id": e["product_id"], "variant_id": e["variant_id"],
                "currency": e["currency"], "price_minor": e["price_minor"],
                "previous_price_minor": previous, "change_minor": change,
                "change_pct": None if change is None else ratio(100 * change, previous, 2),
                "is_anomaly": bool(previous) and abs(change) * 100 >= threshold * previous,
                "occurred_at": e["occurred_at"],
                "price_date": local_day(e["occurred_at"], tenant["timezone"]),
                "anomaly_threshold_pct": threshold, "timezone": tenant["timezone"],
                "_ingested_at": e["_ingested_at"],
            })  # fmt: skip
            previous = e["price_minor"]
    return pl.DataFrame(rows, infer_schema_length=None)

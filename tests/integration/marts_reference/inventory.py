"""Reference for mart_stock_levels and mart_stock_movements: levels replayed event by event."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import polars as pl

from tests.integration.marts_reference.calc import local_day, ratio
from tests.integration.marts_reference.ledger import Order

VELOCITY_DAYS = 30


def replay(stock_events: pl.DataFrame) -> dict[tuple, list[dict]]:
    """Return each SKU's events in order, each with the level before and after it."""
    per_sku = defaultdict(list)
    for e in stock_events.iter_rows(named=True):
        per_sku[(e["tenant_id"], e["product_id"], e["variant_id"])].append(dict(e))
    for events in per_sku.values():
        events.sort(key=lambda e: (e["occurred_at"], e["id"]))
        level = 0
        for e in events:
            e["before"] = level
            level = e["quantity"] if e["kind"] == "set" else level + e["quantity"]
            e["after"] = level
    return per_sku


def _skus(products: pl.DataFrame):
    for p in products.iter_rows(named=True):
        variants = p["variants"] or []
        if not variants:
            yield p, None, p["sku"], None, p["total_stock_quantity"]
        for v in variants:
            yield p, v["id"], v["sku"], v["name"], v["stock_quantity"] or 0


def levels(products: pl.DataFrame, stock_events: pl.DataFrame, orders: list[Order],
           tenants: dict[int, dict], as_of: date) -> pl.DataFrame:  # fmt: skip
    """One row per current SKU with its level, thresholds, velocity and stock-outs."""
    ledger = replay(stock_events)
    recent = defaultdict(int)
    for o in orders:
        if o.counts and as_of - timedelta(VELOCITY_DAYS) < o.created_day <= as_of:
            for line in o.lines:
                recent[(o.tenant_id, line["product_id"], line["variant_id"])] += line["quantity"]
    rows = []
    for p, variant_id, sku, variant_name, catalogue_stock in _skus(products):
        key = (p["tenant_id"], p["product_id"], variant_id)
        events = ledger.get(key, [])
        stock = events[-1]["after"] if events else catalogue_stock
        outs = [e for e in events if e["before"] > 0 and e["after"] <= 0]
        own = p["min_stock_level"] or 0
        minimum = own if own > 0 else tenants[p["tenant_id"]]["low_stock_default"]
        units = recent[key]
        rows.append({
            "tenant_id": key[0], "product_id": key[1], "variant_id": variant_id, "sku": sku,
            "product_name": p["product_name"], "variant_name": variant_name,
            "stock_quantity": stock, "min_stock_level": minimum,
            f"units_sold_{VELOCITY_DAYS}d": units,
            "sales_velocity_per_day": ratio(units, VELOCITY_DAYS),
            "days_of_cover": ratio(max(stock, 0) * VELOCITY_DAYS, units, 1),
            "stockout_count": len(outs), "is_low_stock": stock <= minimum,
            "is_out_of_stock": stock <= 0, "is_from_ledger": bool(events),
            "uses_default_min_level": own <= 0, "as_of_date": as_of,
            "last_stockout_at": outs[-1]["occurred_at"] if outs else None,
            "last_movement_at": events[-1]["occurred_at"] if events else None,
        })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


def movements(stock_events: pl.DataFrame, tenants: dict[int, dict]) -> pl.DataFrame:
    """One row per SKU and tenant-local day with stock events."""
    days = defaultdict(list)
    for key, events in replay(stock_events).items():
        for e in events:
            days[(*key, local_day(e["occurred_at"], tenants[key[0]]["timezone"]))].append(e)
    rows = []
    for (tenant_id, product_id, variant_id, day), events in days.items():
        deltas = [e for e in events if e["kind"] == "delta"]

        def units(reason, sign=1, deltas=deltas):
            return sum(sign * e["quantity"] for e in deltas if e["reason"] in reason)

        rows.append({
            "tenant_id": tenant_id, "product_id": product_id, "variant_id": variant_id,
            "movement_date": day, "event_count": len(events),
            "stock_count_events": len(events) - len(deltas),
            "opening_level": events[0]["before"],
            "units_in": sum(e["quantity"] for e in deltas if e["quantity"] > 0),
            "units_out": sum(-e["quantity"] for e in deltas if e["quantity"] < 0),
            "sold_units": units({"sale"}, -1), "restocked_units": units({"restock"}),
            "returned_units": units({"return"}), "damaged_units": units({"damage"}, -1),
            "adjusted_units": units({"adjustment", "correction"}),
            "closing_level": events[-1]["after"],
            "net_change": events[-1]["after"] - events[0]["before"],
            "timezone": tenants[tenant_id]["timezone"],
            "_ingested_at": max(e["_ingested_at"] for e in events),
        })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)

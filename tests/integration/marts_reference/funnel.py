"""Reference for mart_event_funnel: sessions on the local day of their first event."""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from tests.integration.marts_reference.calc import local_day, ratio

STEPS = ["product_viewed", "product_added_to_cart", "checkout_started", "order_completed"]


def funnel(events: pl.DataFrame, tenants: dict[int, dict]) -> pl.DataFrame:
    """One row per tenant and day with the sessions reaching each step in turn."""
    sessions = defaultdict(list)
    for e in events.iter_rows(named=True):
        sessions[(e["tenant_id"], e["session_id"])].append(e)
    days = defaultdict(lambda: [0] * (len(STEPS) + 1))
    landed = defaultdict(list)
    for (tenant_id, _), session in sessions.items():
        started = min(e["occurred_at"] for e in session)
        day = (tenant_id, local_day(started, tenants[tenant_id]["timezone"]))
        landed[day] += [e["_ingested_at"] for e in session]
        counts = days[day]
        counts[0] += 1
        types = {e["type"] for e in session}
        for depth, step in enumerate(STEPS, start=1):
            if step not in types:
                break
            counts[depth] += 1
    rows = []
    for key, (sessions_, view, cart, checkout, order) in days.items():
        tenant_id, day = key
        rows.append({
            "tenant_id": tenant_id, "funnel_date": day, "session_count": sessions_,
            "product_view_sessions": view, "add_to_cart_sessions": cart,
            "checkout_sessions": checkout, "order_sessions": order,
            "view_to_cart_rate": ratio(cart, view), "cart_to_checkout_rate": ratio(checkout, cart),
            "checkout_to_order_rate": ratio(order, checkout),
            "view_to_order_rate": ratio(order, view),
            "timezone": tenants[tenant_id]["timezone"], "_ingested_at": max(landed[key]),
        })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)

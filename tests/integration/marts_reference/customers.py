"""Reference for mart_customer_rfm and mart_customer_lifetime."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import polars as pl

from tests.integration.marts_reference.calc import quotient
from tests.integration.marts_reference.ledger import Order

# (R, FM) -> segment, as documented in mart_customer_rfm.yml.
SEGMENTS = {
    5: ["New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Champions"],
    3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"],
    1: ["Lost", "Lost", "At Risk", "At Risk", "Cannot Lose Them"],
}


def scores(values: dict, worst_first) -> dict:
    """Quintile score 1..5 by rank position; ties share the lowest rank."""
    ordered = sorted(values.values(), key=worst_first)
    n = len(ordered)
    rank = {}
    for position, value in enumerate(ordered, start=1):
        rank.setdefault(value, position)
    return {key: 1 + (5 * (rank[value] - 1)) // n for key, value in values.items()}


def rfm(orders: list[Order], tenants: dict[int, dict], as_of: date) -> pl.DataFrame:
    """One row per customer with a counted order in their tenant's RFM window."""
    per_tenant = defaultdict(lambda: defaultdict(list))
    for o in orders:
        window = tenants[o.tenant_id]["rfm_window_days"]
        if o.counts and o.customer_id and as_of - timedelta(window) < o.created_day <= as_of:
            per_tenant[o.tenant_id][o.customer_id].append(o)
    rows = []
    for tenant_id, customers in per_tenant.items():
        recency = {c: (as_of - max(o.created_day for o in os)).days for c, os in customers.items()}
        frequency = {c: len(os) for c, os in customers.items()}
        monetary = {c: sum(o.total - o.refunded for o in os) for c, os in customers.items()}
        r = scores(recency, lambda v: -v)
        f, m = scores(frequency, lambda v: v), scores(monetary, lambda v: v)
        for c, os in customers.items():
            fm = (f[c] + m[c] + 1) // 2
            rows.append({
                "tenant_id": tenant_id, "customer_id": c, "recency_days": recency[c],
                "frequency": frequency[c], "currency": tenants[tenant_id]["currency"],
                "monetary_minor": monetary[c], "r_score": r[c], "f_score": f[c],
                "m_score": m[c], "fm_score": fm, "rfm_cell": f"{r[c]}{f[c]}{m[c]}",
                "segment": SEGMENTS[r[c]][fm - 1],
                "last_order_date": max(o.created_day for o in os), "as_of_date": as_of,
                "window_days": tenants[tenant_id]["rfm_window_days"],
            })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


def lifetime(customers: pl.DataFrame, orders: list[Order], tenants: dict[int, dict],
             as_of: date) -> pl.DataFrame:  # fmt: skip
    """One row per current customer over all their counted orders."""
    history = defaultdict(list)
    for o in orders:
        if o.counts and o.customer_id:
            history[(o.tenant_id, o.customer_id)].append(o)
    rows = []
    for c in customers.iter_rows(named=True):
        tenant = tenants[c["tenant_id"]]
        os = history.get((c["tenant_id"], c["customer_id"]), [])
        gross, refunded = sum(o.total for o in os), sum(o.refunded for o in os)
        first = min((o.created_day for o in os), default=None)
        last = max((o.created_day for o in os), default=None)
        rows.append({
            "tenant_id": c["tenant_id"], "customer_id": c["customer_id"], "email": c["email"],
            "cohort_month": first.replace(day=1) if first else None, "order_count": len(os),
            "currency": tenant["currency"], "gross_spend_minor": gross,
            "refunded_minor": refunded, "lifetime_value_minor": gross - refunded,
            "average_order_value_minor": quotient(gross, len(os)),
            "is_vip": bool(os) and gross - refunded >= tenant["vip_lifetime_value_minor"],
            "is_new": bool(os) and (as_of - first).days < tenant["new_customer_days"],
            "is_inactive": bool(os) and (as_of - last).days >= tenant["inactive_customer_days"],
            "first_order_date": first, "last_order_date": last,
            "days_since_last_order": (as_of - last).days if last else None, "as_of_date": as_of,
            "first_order_at": min((o.created_at for o in os), default=None),
            "last_order_at": max((o.created_at for o in os), default=None),
        })  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)

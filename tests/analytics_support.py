"""Expected analytics computed in plain Python from the preset's NDJSON records, and the
credentials the analytics tests call with.

Independent of the SQL under test: it reads ``published.records/<slug>/*.ndjson`` (the data the
marts were built from), keeps the last record per id (an update replaces, as the lake does), and
applies the definitions of dbt_project/README.md in the tenant's time zone.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.factories import Factory
from warehouse.controldb import transaction
from warehouse.controldb.models import Role, Tenant
from warehouse.controlplane.tenant_settings import effective_settings

SLUGS = ("kaffeehaus-berlin", "pacific-outfitters", "tokyo-zakka")
PAID = {"paid", "fulfilled", "refunded", "partially_refunded"}
FUNNEL = ("product_viewed", "product_added_to_cart", "checkout_started", "order_completed")


def read(path: Path) -> list[dict]:
    """Return the current records of one file: the last one per id wins."""
    latest: dict[str, dict] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            latest[record["id"]] = record
    return list(latest.values())


def half_up(total: int, count: int) -> int | None:
    """Return total / count rounded half away from zero (None without a count)."""
    if not count:
        return None
    quotient = (2 * abs(total) + count) // (2 * count)
    return quotient if total >= 0 else -quotient


@dataclass
class Shop:
    """One tenant's records, with the tenant's zone, currency and thresholds."""

    root: Path
    slug: str
    timezone: str = field(init=False)
    currency: str = field(init=False)

    def __post_init__(self) -> None:
        manifest = json.loads((self.root / "manifest.json").read_text())
        tenant = next(t for t in manifest["tenants"] if t["slug"] == self.slug)
        self.timezone, self.currency = tenant["timezone"], tenant["currency"]
        self.settings = effective_settings({})

    def records(self, entity: str) -> list[dict]:
        return read(self.root / self.slug / f"{entity}.ndjson")

    def local(self, stamp: str) -> datetime:
        return datetime.fromisoformat(stamp).astimezone(ZoneInfo(self.timezone))

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()

    @cached_property
    def orders(self) -> list[dict]:
        """Return the counted orders with local day, units, line revenue and refunds."""
        refunded: Counter[str] = Counter()
        for refund in self.records("refunds"):
            if refund["status"] == "succeeded":
                refunded[refund["order_id"]] += refund["amount_minor"]
        counted = []
        for order in self.records("orders"):
            if order["status"] in PAID and order["currency"] == self.currency:
                items = order["items"]
                counted.append({
                    **order, "day": self.local(order["created_at"]).date(),
                    "units": sum(i["quantity"] for i in items), "refunded": refunded[order["id"]],
                })  # fmt: skip
        counted.sort(key=lambda o: (datetime.fromisoformat(o["created_at"]), o["id"]))
        seen: set[str] = set()
        for order in counted:
            customer = order["customer_id"]
            order["first"] = customer is not None and customer not in seen
            seen.add(customer)
        return counted

    def daily(self) -> dict[date, dict[str, int]]:
        """Return mart_sales_daily's sums per local day."""
        days: dict[date, Counter] = defaultdict(Counter)
        for o in self.orders:
            day = days[o["day"]]
            day["orders"] += 1
            day["units"] += o["units"]
            day["revenue_minor"] += o["total_minor"]
            day["new_customers"] += o["first"]
            day["guest_orders"] += o["customer_id"] is None
        ids = {o["id"] for o in self.orders}
        for refund in self.records("refunds"):
            if refund["status"] == "succeeded" and refund["order_id"] in ids:
                days[self.local(refund["created_at"]).date()]["refunds_minor"] += refund[
                    "amount_minor"
                ]
        return {day: dict(values) for day, values in days.items()}

    def customer_days(self) -> dict[date, tuple[set[str], int]]:
        """Return per local day the customers with a counted order and how many were new."""
        days: dict[date, tuple[set[str], int]] = {}
        for o in self.orders:
            customers, new = days.get(o["day"], (set(), 0))
            if o["customer_id"] is not None:
                customers.add(o["customer_id"])
            days[o["day"]] = (customers, new + o["first"])
        return days

    def totals(self, start: date, end: date) -> dict[str, int | None]:
        """Return the overview totals of the inclusive local days start..end."""
        sums: Counter[str] = Counter()
        for day, values in self.daily().items():
            if start <= day <= end:
                sums.update({k: v for k, v in values.items() if isinstance(v, int)})
        names = ("revenue_minor", "refunds_minor", "orders", "units", "new_customers")
        totals = {name: sums[name] for name in names}
        totals["net_revenue_minor"] = totals["revenue_minor"] - totals["refunds_minor"]
        totals["average_order_value_minor"] = half_up(totals["revenue_minor"], totals["orders"])
        return totals

    def product_revenue(self) -> dict[str, dict[str, int]]:
        """Return line revenue, units and orders per product over counted orders."""
        products: dict[str, Counter] = defaultdict(Counter)
        for order in self.orders:
            for product_id in {i["product_id"] for i in order["items"]}:
                products[product_id]["order_count"] += 1
            for item in order["items"]:
                line = item["quantity"] * item["unit_price_minor"] - item["discount_minor"]
                products[item["product_id"]]["revenue_minor"] += line
                products[item["product_id"]]["units_sold"] += item["quantity"]
        return {pid: dict(values) for pid, values in products.items()}

    def top_products(self, limit: int) -> list[tuple[str, int, int]]:
        """Return (product id, revenue, units) of the best sellers by revenue, then id."""
        revenue = self.product_revenue().items()
        ranked = sorted(revenue, key=lambda p: (-p[1]["revenue_minor"], p[0]))
        return [(pid, v["revenue_minor"], v["units_sold"]) for pid, v in ranked[:limit]]

    def stock_levels(self) -> list[dict]:
        """Return every SKU with its level and minimum, as mart_stock_levels defines them."""
        events: dict[tuple, list[dict]] = defaultdict(list)
        for event in self.records("stock_events"):
            events[(event["product_id"], event["variant_id"])].append(event)
        skus = []
        for product in self.records("products"):
            minimum = product["min_stock_level"] or 0
            minimum = minimum if minimum > 0 else self.settings.low_stock_default
            variants = product["variants"] or [None]
            for variant in variants:
                key = (product["id"], variant["id"] if variant else None)
                catalogue = (variant or product)["stock_quantity"] or 0
                level = _level(events.get(key), catalogue)
                sku = variant["sku"] if variant else product["sku"]
                skus.append({"product_id": key[0], "variant_id": key[1], "sku": sku,
                             "stock_quantity": level, "min_stock_level": minimum})  # fmt: skip
        return skus

    def funnel(self) -> dict[date, Counter]:
        """Return sessions per local day of their first event and the funnel steps reached."""
        sessions: dict[str, list[dict]] = defaultdict(list)
        for event in self.records("events"):
            if event["session_id"]:
                sessions[event["session_id"]].append(event)
        days: dict[date, Counter] = defaultdict(Counter)
        names = ("product_view_sessions", "add_to_cart_sessions", "checkout_sessions",
                 "order_sessions")  # fmt: skip
        for events in sessions.values():
            first = min(datetime.fromisoformat(e["occurred_at"]) for e in events)
            day = days[first.astimezone(ZoneInfo(self.timezone)).date()]
            day["session_count"] += 1
            types = {e["type"] for e in events}
            for step, name in zip(FUNNEL, names, strict=True):
                if step not in types:
                    break
                day[name] += 1
        return days

    def customers(self) -> dict[str, dict]:
        """Return per customer with counted orders: first/last day, orders, lifetime value."""
        out: dict[str, dict] = {}
        for order in self.orders:
            if order["customer_id"] is None:
                continue
            row = out.setdefault(order["customer_id"], {"first": order["day"], "orders": 0,
                                                         "value": 0, "days": []})  # fmt: skip
            row["orders"] += 1
            row["value"] += order["total_minor"] - order["refunded"]
            row["days"].append((order["day"], order["total_minor"] - order["refunded"]))
            row["last"] = order["day"]
        return out

    def segments(self, as_of: date) -> Counter[str]:
        """Return RFM segment counts on ``as_of`` (README: scores, FM and the segment grid)."""
        window = as_of - timedelta(days=self.settings.rfm_window_days - 1)
        rows = {}
        for customer, row in self.customers().items():
            inside = [(d, v) for d, v in row["days"] if window <= d <= as_of]
            if inside:
                rows[customer] = ((as_of - max(d for d, _ in inside)).days, len(inside),
                                  sum(v for _, v in inside))  # fmt: skip
        r = _scores({c: -v[0] for c, v in rows.items()})
        f = _scores({c: v[1] for c, v in rows.items()})
        m = _scores({c: v[2] for c, v in rows.items()})
        return Counter(GRID[r[c]][(f[c] + m[c] + 1) // 2 - 1] for c in rows)


GRID = {
    5: ("New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Champions"),
    3: ("About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them"),
    1: ("Lost", "Lost", "At Risk", "At Risk", "Cannot Lose Them"),
}


def _scores(values: dict[str, int]) -> dict[str, int]:
    """Score 1-5 by rank from worst (lowest value) up; ties share the lowest rank."""
    ordered = sorted(values.values())
    n = len(ordered)
    return {c: 1 + 5 * ordered.index(v) // n for c, v in values.items()}


def _level(events: list[dict] | None, catalogue: int) -> int:
    if not events:
        return catalogue
    level = 0
    for event in sorted(events, key=lambda e: (datetime.fromisoformat(e["occurred_at"]), e["id"])):
        level = event["quantity"] if event["kind"] == "set" else level + event["quantity"]
    return level


def tenant_of(served, slug: str) -> Tenant:
    """Return the served control DB's tenant of a preset slug."""
    with transaction(Factory(served.app).sessions) as session:
        return session.get(Tenant, served.tenant_ids[slug])


def key_headers(served, slug: str, *scopes: str) -> dict[str, str]:
    """Return API-key headers for a preset tenant (read scope unless told)."""
    return Factory(served.app).key_headers(tenant_of(served, slug), *(scopes or ("read",)))


def user_headers(served, slug: str, role: Role = Role.ADMIN) -> dict[str, str]:
    """Create a user with ``role`` in a preset tenant and return their bearer headers."""
    make, tenant = Factory(served.app), tenant_of(served, slug)
    return make.bearer(make.user(tenant=tenant, role=role), tenant)

"""Expected analytics figures computed in plain Python from the preset's NDJSON records.

The ``served`` fixture's lake was generated from the same preset and seed as
``served.published.records/<slug>/*.ndjson``, so these records are the lake's data. Nothing here
reads a mart or runs the SQL under test: definitions follow dbt_project/README.md (counted
orders, refunds, stock levels, RFM scoring) and are re-implemented independently.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from flask import Flask

from tests.factories import Factory
from warehouse.controldb import transaction
from warehouse.controldb.models import Role, Tenant
from warehouse.publish import current_snapshot

PAID = {"paid", "fulfilled", "refunded", "partially_refunded"}


@dataclass
class Shop:
    """One tenant's records, each entity keyed by id (the last version of an id wins)."""

    slug: str
    currency: str
    timezone: str
    products: dict[str, dict] = field(default_factory=dict)
    customers: dict[str, dict] = field(default_factory=dict)
    orders: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    stock_events: dict[str, dict] = field(default_factory=dict)

    def local_date(self, stamp: str) -> date:
        """Return the tenant-local day of an RFC 3339 timestamp."""
        return datetime.fromisoformat(stamp).astimezone(ZoneInfo(self.timezone)).date()

    def counted(self) -> list[dict]:
        """Return the orders that count in sales: paid and in the tenant's currency."""
        orders = self.orders.values()
        return [o for o in orders if o["status"] in PAID and o["currency"] == self.currency]

    def refunded(self) -> dict[str, int]:
        """Return succeeded refunds summed per order id."""
        totals: dict[str, int] = defaultdict(int)
        for refund in self.refunds.values():
            if refund["status"] == "succeeded":
                totals[refund["order_id"]] += refund["amount_minor"]
        return totals


def load(records: Path, slug: str) -> Shop:
    """Read one tenant's records folder."""
    tenants = json.loads((records / "manifest.json").read_text())["tenants"]
    meta = next(t for t in tenants if t["slug"] == slug)
    shop = Shop(slug, meta["currency"], meta["timezone"])
    for entity in ("products", "customers", "orders", "refunds", "stock_events"):
        path = records / slug / f"{entity}.ndjson"
        with path.open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        setattr(shop, entity, {row["id"]: row for row in rows})
    return shop


def utc(stamp: str) -> datetime:
    """Return an RFC 3339 timestamp as an aware UTC datetime."""
    return datetime.fromisoformat(stamp).astimezone(UTC)


def average(total: int, count: int) -> int | None:
    """Return total / count rounded half away from zero (None without a count)."""
    if not count:
        return None
    value = (Decimal(total) / Decimal(count)).quantize(Decimal(1), ROUND_HALF_UP)
    return int(value)


def share(numerator: int, denominator: int, places: int = 4) -> float | None:
    """Return a ratio rounded half away from zero, as the API's JSON number."""
    if not denominator:
        return None
    exponent = Decimal(1).scaleb(-places)
    return float((Decimal(numerator) / Decimal(denominator)).quantize(exponent, ROUND_HALF_UP))


def line_revenue(line: dict) -> int:
    """Return a line's revenue: quantity x unit price - line discount."""
    return line["quantity"] * line["unit_price_minor"] - (line.get("discount_minor") or 0)


def category_path(product: dict) -> str:
    """Return 'Category > Subcategory' ('Uncategorized' without a category)."""
    path = product.get("category") or "Uncategorized"
    return f"{path} > {product['subcategory']}" if product.get("subcategory") else path


def stock_levels(shop: Shop) -> dict[tuple[str, str | None], int]:
    """Return each SKU's stock: its events applied in time order, else the catalogue's level."""
    levels: dict[tuple[str, str | None], int] = {}
    for product in shop.products.values():
        variants = product.get("variants") or []
        for variant in variants:
            levels[(product["id"], variant["id"])] = variant.get("stock_quantity") or 0
        if not variants:
            levels[(product["id"], None)] = product.get("stock_quantity") or 0
    events = sorted(shop.stock_events.values(), key=lambda e: (utc(e["occurred_at"]), e["id"]))
    from_events: dict[tuple[str, str | None], int] = {}
    for event in events:
        sku = (event["product_id"], event.get("variant_id"))
        base = 0 if event["kind"] == "set" else from_events.get(sku, 0)
        from_events[sku] = base + event["quantity"]
    return {sku: from_events.get(sku, level) for sku, level in levels.items()}


def skus(shop: Shop) -> dict[tuple[str, str | None], dict[str, Any]]:
    """Return each SKU's sku code, unit price and its product."""
    out = {}
    for product in shop.products.values():
        for variant in product.get("variants") or []:
            own = variant.get("price_minor")
            price = own if own is not None else product["price_minor"]
            out[(product["id"], variant["id"])] = {"sku": variant["sku"], "price": price,
                                                   "product": product}  # fmt: skip
        if not product.get("variants"):
            out[(product["id"], None)] = {"sku": product["sku"], "price": product["price_minor"],
                                          "product": product}  # fmt: skip
    return out


def set_tenant_settings(app: Flask, tenant_id: int, **values: Any) -> None:
    """Override some of a tenant's settings in the control DB (as an admin would)."""
    with transaction(app.extensions["shoplake.sessions"]) as session:
        tenant = session.get(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), **values}


def key_headers(app: Flask, tenant_id: int, *scopes: str) -> dict[str, str]:
    """Return API-key headers for a tenant of the served preset."""
    with transaction(app.extensions["shoplake.sessions"]) as session:
        tenant = session.get(Tenant, tenant_id)
    return Factory(app).key_headers(tenant, *scopes)


def tenant_fixtures(slug: str) -> tuple[Any, Any]:
    """Return the ``shop`` and ``call`` fixtures of a module testing tenant ``slug``.

    ``shop`` is the tenant's records; ``call(url, headers=...)`` GETs through the served app
    with a read key of the tenant by default (``call.client`` is the test client).
    Assign them in the module: ``shop, call = tenant_fixtures(SLUG)``.
    """

    @pytest.fixture
    def shop(served) -> Shop:
        return load(served.published.records, slug)

    @pytest.fixture
    def call(served):
        client = served.app.test_client()
        headers = key_headers(served.app, served.tenant_ids[slug], "read")

        def get(url: str, headers: dict = headers):
            return client.get(url, headers=headers)

        get.client = client  # type: ignore[attr-defined]
        return get

    return shop, call


def viewer_headers(app: Flask, tenant_id: int) -> dict[str, str]:
    """Return bearer headers of a user with the viewer role in the tenant."""
    with transaction(app.extensions["shoplake.sessions"]) as session:
        tenant = session.get(Tenant, tenant_id)
    make = Factory(app)
    return make.bearer(make.user(tenant=tenant, role=Role.VIEWER), tenant)


def republish(var_dir: Path, mart: str, tenant_id: int, keep: str) -> str:
    """Publish a copy of the current snapshot under a new build id, where one tenant's rows of
    ``mart`` are only those matching the SQL condition ``keep``; return the new build id."""
    old = current_snapshot(var_dir)
    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]
    new = old.path.parent / build_id
    shutil.copytree(old.path, new)
    partition = new / mart / f"tenant_id={tenant_id}" / "part-00000.parquet"
    source = partition.with_name("old.parquet")
    partition.rename(source)
    with duckdb.connect() as con:
        con.execute(f"copy (select * from read_parquet('{source}') where {keep}) to '{partition}'")
        rows = con.execute(f"select count(*) from read_parquet('{partition}')").fetchone()[0]
    source.unlink()
    manifest = json.loads((new / "manifest.json").read_text())
    manifest["build_id"] = build_id
    manifest["marts"][mart]["tenants"][str(tenant_id)] = rows
    (new / "manifest.json").write_text(json.dumps(manifest))
    pointer = new.parent.parent / "CURRENT"
    pointer.with_name("CURRENT.tmp").write_text(build_id)
    pointer.with_name("CURRENT.tmp").replace(pointer)
    return build_id


def walk_pages(call, url: str) -> list[dict]:
    """Follow next_cursor from the first page of ``url`` to the last; return every row."""
    rows, cursor = [], None
    while True:
        page = call(url + (f"&cursor={cursor}" if cursor else "")).get_json()
        rows += page["data"]
        if (cursor := page["next_cursor"]) is None:
            return rows

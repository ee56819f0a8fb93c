"""Product analytics endpoints agree with figures computed from the preset's records.

Expected values come from ``served.published.records`` (tests/analytics_records.py), never
from the marts or the SQL under test.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from serving.marts import response_cache
from tests.analytics_records import (
    Shop,
    category_path,
    key_headers,
    line_revenue,
    load,
    republish,
    set_tenant_settings,
    share,
    skus,
    stock_levels,
    tenant_fixtures,
    viewer_headers,
    walk_pages,
)

SLUG, OTHER = "kaffeehaus-berlin", "tokyo-zakka"
ROUTES = [
    "/api/v1/products/analytics/",
    "/api/v1/products/low_stock/",
    "/api/v1/products/top_selling/",
    "/api/v1/products/categories_summary/",
]


shop, call = tenant_fixtures(SLUG)


def product_sales(shop: Shop) -> dict[str, dict]:
    """Units, revenue, orders and refunded orders per catalogue product (counted orders)."""
    refunded = shop.refunded()
    sales = {pid: {"units": 0, "revenue": 0, "orders": set(), "refunded": set()}
             for pid in shop.products}  # fmt: skip
    for order in shop.counted():
        for line in order["items"]:
            if line["product_id"] not in sales:
                continue
            figures = sales[line["product_id"]]
            figures["units"] += line["quantity"]
            figures["revenue"] += line_revenue(line)
            figures["orders"].add(order["id"])
            if refunded.get(order["id"], 0) > 0:
                figures["refunded"].add(order["id"])
    for pid, figures in sales.items():
        cost = shop.products[pid].get("cost_minor")
        figures["margin"] = None if cost is None else figures["revenue"] - figures["units"] * cost
    return sales


def expected_summary(shop: Shop, low_stock_default: int = 10) -> dict:
    sales = product_sales(shop)
    products = shop.products.values()
    costed = [p["id"] for p in products if p.get("cost_minor") is not None]
    costed_revenue = sum(sales[pid]["revenue"] for pid in costed)
    margin = sum(sales[pid]["margin"] for pid in costed)
    levels, units = stock_levels(shop), skus(shop)
    in_stock = {sku: max(level, 0) for sku, level in levels.items()}
    same_currency = {s for s in units if units[s]["product"]["currency"] == shop.currency}
    return {
        "currency": shop.currency,
        "product_count": len(shop.products),
        "active_product_count": sum(1 for p in products if p["is_active"]),
        "inactive_product_count": sum(1 for p in products if not p["is_active"]),
        "sold_product_count": sum(1 for s in sales.values() if s["units"] > 0),
        "costed_product_count": len(costed),
        "units_sold": sum(s["units"] for s in sales.values()),
        "revenue_minor": sum(s["revenue"] for s in sales.values()),
        "costed_revenue_minor": costed_revenue,
        "margin_minor": margin,
        "margin_rate": share(margin, costed_revenue),
        "refund_rate": share(
            sum(len(s["refunded"]) for s in sales.values()),
            sum(len(s["orders"]) for s in sales.values()),
        ),
        "sku_count": len(levels),
        "stock_units": sum(in_stock.values()),
        "stock_value_minor": sum(in_stock[s] * units[s]["price"] for s in same_currency),
        "stock_cost_minor": sum(
            in_stock[s] * units[s]["product"]["cost_minor"]
            for s in same_currency
            if units[s]["product"].get("cost_minor") is not None
        ),
        "low_stock_sku_count": len(expected_low_stock(shop, low_stock_default)),
        "out_of_stock_sku_count": sum(1 for level in levels.values() if level <= 0),
    }


def threshold_of(product: dict, default: int) -> int:
    own = product.get("min_stock_level") or 0
    return own if own > 0 else default


def expected_low_stock(shop: Shop, default: int, override: int | None = None) -> list[tuple]:
    """(stock, sku, threshold) of every low SKU, lowest stock first, then by SKU code."""
    units = skus(shop)
    rows = []
    for key, level in stock_levels(shop).items():
        limit = override if override is not None else threshold_of(units[key]["product"], default)
        if level <= limit:
            rows.append((level, units[key]["sku"], limit))
    return sorted(rows)


def test_catalogue_summary_matches_the_records(call, shop):
    body = call("/api/v1/products/analytics/").get_json()
    assert body.pop("build_id")
    assert body == expected_summary(shop)


def test_low_stock_pages_through_every_low_sku_variants_included(call, shop):
    rows = walk_pages(call, "/api/v1/products/low_stock/?limit=4")
    got = [(r["stock_quantity"], r["sku"], r["min_stock_level"]) for r in rows]
    assert got == expected_low_stock(shop, 10)
    assert any(r["variant_id"] for r in rows), "variants are SKUs of their own"


def test_low_stock_threshold_by_query_and_by_tenant_setting(served, call, shop):
    rows = walk_pages(call, "/api/v1/products/low_stock/?limit=50&threshold=3")
    assert [(r["stock_quantity"], r["sku"], 3) for r in rows] == expected_low_stock(shop, 10, 3)
    # A changed setting applies at once (it is part of the cache key), without a build.
    set_tenant_settings(served.app, served.tenant_ids[SLUG], low_stock_default=40)
    rows = walk_pages(call, "/api/v1/products/low_stock/?limit=50")
    got = [(r["stock_quantity"], r["sku"], r["min_stock_level"]) for r in rows]
    assert got == expected_low_stock(shop, 40)
    summary = call("/api/v1/products/analytics/").get_json()
    assert summary["low_stock_sku_count"] == len(got)


def test_top_selling_ranks_by_each_metric_in_and_across_categories(call, shop):
    sales = product_sales(shop)
    columns = {"revenue": "revenue_minor", "units": "units_sold", "margin": "margin_minor"}
    for by, category in [(by, category) for by in columns for category in (None, "Apparel")]:
        key = by  # product_sales() names its figures after the metrics
        candidates = [
            (-sales[pid][key], pid) for pid, p in shop.products.items()
            if sales[pid]["units"] > 0 and sales[pid][key] is not None
            and (category is None or category_path(p).split(" > ")[0] == category)
        ]  # fmt: skip
        expected = [(pid, -value) for value, pid in sorted(candidates)[:5]]
        url = f"/api/v1/products/top_selling/?by={by}&limit=5"
        body = call(url + (f"&category={category}" if category else "")).get_json()
        assert [(r["product_id"], r[columns[by]]) for r in body["data"]] == expected, url
        assert [r["position"] for r in body["data"]] == list(range(1, len(expected) + 1))


def test_categories_summary_matches_the_records(call, shop):
    sales = product_sales(shop)
    paths: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    orders: dict[str, set] = defaultdict(set)
    for pid, product in shop.products.items():
        figures, path = sales[pid], category_path(product)
        row = paths[path]
        row["product_count"] += 1
        row["active_product_count"] += product["is_active"]
        row["sold_product_count"] += figures["units"] > 0
        row["units_sold"] += figures["units"]
        row["revenue_minor"] += figures["revenue"]
        row["costed_revenue_minor"] += figures["revenue"] if figures["margin"] is not None else 0
        row["margin_minor"] += figures["margin"] or 0
        orders[path] |= figures["orders"]
    total = sum(row["revenue_minor"] for row in paths.values())
    expected = sorted(
        ({"category_path": path, **row, "order_count": len(orders[path]),
          "margin_rate": share(row["margin_minor"], row["costed_revenue_minor"]),
          "revenue_share": share(row["revenue_minor"], total)} for path, row in paths.items()),
        key=lambda r: (-r["revenue_minor"], r["category_path"]),
    )  # fmt: skip
    body = call("/api/v1/products/categories_summary/").get_json()
    assert [{k: v for k, v in r.items() if k != "revenue_rank"} for r in body["data"]] == expected


def test_fixed_paths_win_over_a_product_id(served):
    adapter = served.app.url_map.bind("localhost")
    for path, endpoint in [
        ("/api/v1/products/analytics/", "product_analytics.catalogue_analytics"),
        ("/api/v1/products/low_stock/", "product_analytics.low_stock"),
        ("/api/v1/products/top_selling/", "product_analytics.top_selling"),
        ("/api/v1/products/categories_summary/", "product_analytics.categories_summary"),
        ("/api/v1/products/p-1/", "products.get_product"),
    ]:
        assert adapter.match(path, method="GET")[0] == endpoint


def test_a_tenant_sees_only_its_own_figures(served, call):
    other = served.tenant_ids[OTHER]
    headers = key_headers(served.app, other, "read")
    body = call("/api/v1/products/analytics/", headers).get_json()
    assert body.pop("build_id")
    assert body == expected_summary(load(served.published.records, OTHER))
    own = served.tenant_ids[SLUG]
    refused = call(f"/api/v1/tenants/{own}/products/analytics/", headers)
    assert refused.status_code == 403
    assert call(f"/api/v1/tenants/{other}/products/analytics/", headers).get_json() == {
        **body,
        "build_id": served.published.snapshot.build_id,
    }


def test_viewers_may_read_and_keys_without_marts_read_are_refused(served, call):
    tenant = served.tenant_ids[SLUG]
    viewer = viewer_headers(served.app, tenant)
    no_marts = [key_headers(served.app, tenant, "write"), key_headers(served.app, tenant, "ingest")]
    for route in ROUTES:
        assert call(route, viewer).status_code == 200, route
        for headers in no_marts:
            refused = call(route, headers)
            assert refused.status_code == 403, route
            assert refused.mimetype == "application/problem+json"
        assert call(route, {}).status_code == 401


@pytest.mark.parametrize("url, field", [
    ("/api/v1/products/top_selling/?by=price", "by"),  # not a metric
    ("/api/v1/products/top_selling/?limit=0", "limit"),  # below 1
    ("/api/v1/products/top_selling/?limit=101", "limit"),  # above 100
    ("/api/v1/products/low_stock/?threshold=-1", "threshold"),  # negative
    ("/api/v1/products/low_stock/?threshold=few", "threshold"),  # not a number
    ("/api/v1/products/low_stock/?colour=red", "colour"),  # unknown parameter
])  # fmt: skip
def test_bad_query_values_are_422_naming_the_field(bare, url, field):
    response = bare(url)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_a_tampered_cursor_is_400(bare):
    response = bare("/api/v1/products/low_stock/?cursor=WyJ2IiwxXQ.forged")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "cursor"


def test_answers_are_cached_per_snapshot(served, call):
    first = call("/api/v1/products/categories_summary/").get_json()
    with served.app.app_context():
        hits = response_cache().hits
    assert call("/api/v1/products/categories_summary/").get_json() == first
    with served.app.app_context():
        assert response_cache().hits == hits + 1
    dropped = first["data"][0]["category_path"]
    build_id = republish(
        served.var_dir, "mart_category_summary", served.tenant_ids[SLUG],
        f"category_path <> '{dropped}'",
    )  # fmt: skip
    fresh = call("/api/v1/products/categories_summary/").get_json()
    assert fresh["build_id"] == build_id != first["build_id"]
    assert fresh["data"] == first["data"][1:]


def test_mart_answers_are_503_before_the_first_build(client, make):
    headers = make.key_headers(make.tenant("unbuilt"), "read")
    for route in [*ROUTES, "/api/v1/orders/analytics/", "/api/v1/customers/segments/"]:
        response = client.get(route, headers=headers)
        assert response.status_code == 503, route
        assert response.get_json()["errors"][0]["field"] == "marts"
    # The order lists read records (raw zone), not marts: they answer before any build.
    assert client.get("/api/v1/orders/pending/", headers=headers).get_json()["data"] == []

"""Sales, product, customer and funnel analytics, and events tracking, under /api/v1/analytics/.

Expected values come from the preset's NDJSON records (tests/analytics_support.py); day
buckets are the tenant's calendar days.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from serving.schemas.ingest import IngestResponse
from tests.analytics_support import SLUGS, Shop, key_headers, user_headers
from warehouse.controldb.models import Role

BERLIN, PACIFIC, TOKYO = SLUGS
OCTOBER = {"start_date": "2026-10-01", "end_date": "2026-10-31"}


def get(served, slug, path, headers=None, **params):
    response = served.app.test_client().get(
        f"/api/v1/analytics/{path}",
        query_string=params,
        headers=headers or key_headers(served, slug),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def rate(numerator, denominator):
    if not denominator:
        return None
    return float(
        (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    )


def days(start: date, end: date):
    return [start + timedelta(n) for n in range((end - start).days + 1)]


def test_daily_sales_match_the_records_and_fill_gaps(served):
    for slug in SLUGS:
        check_daily_sales(served, slug)


def check_daily_sales(served, slug):
    shop = Shop(served.published.records, slug)
    daily = shop.daily()
    body = get(served, slug, "sales/", **OCTOBER)
    assert [b["bucket"] for b in body["buckets"]] == [
        d.isoformat() for d in days(date(2026, 10, 1), date(2026, 10, 31))
    ]
    for bucket in body["buckets"]:
        day = daily.get(date.fromisoformat(bucket["bucket"]), {})
        assert bucket["order_count"] == day.get("orders", 0)
        assert bucket["units"] == day.get("units", 0)
        assert bucket["total_minor"] == day.get("revenue_minor", 0)
        assert bucket["refunds_minor"] == day.get("refunds_minor", 0)
        assert bucket["net_revenue_minor"] == bucket["total_minor"] - bucket["refunds_minor"]
        assert bucket["new_customer_count"] == day.get("new_customers", 0)
    totals = shop.totals(date(2026, 10, 1), date(2026, 10, 31))
    assert body["totals"]["total_minor"] == totals["revenue_minor"]
    assert body["totals"]["order_count"] == totals["orders"]
    assert body["totals"]["average_order_value_minor"] == totals["average_order_value_minor"]
    assert body["interval"] == "day" and body["currency"] == shop.currency


def test_weekly_and_monthly_buckets_sum_the_days_they_cover(served):
    shop = Shop(served.published.records, PACIFIC)
    daily = shop.daily()
    weeks = get(served, PACIFIC, "sales/", interval="week", **OCTOBER)["buckets"]
    assert weeks[0] == {
        **weeks[0],
        "bucket": "2026-09-28",
        "start_date": "2026-10-01",
        "end_date": "2026-10-04",
    }
    assert weeks[-1]["end_date"] == "2026-10-31" and len(weeks) == 5
    for week in weeks:
        span = days(date.fromisoformat(week["start_date"]), date.fromisoformat(week["end_date"]))
        assert date.fromisoformat(week["bucket"]).weekday() == 0
        assert week["total_minor"] == sum(daily.get(d, {}).get("revenue_minor", 0) for d in span)
    months = get(served, PACIFIC, "sales/", interval="month", start_date="2026-06-15",
                 end_date="2026-10-31")["buckets"]  # fmt: skip
    assert [m["bucket"] for m in months] == [f"2026-{m:02d}-01" for m in range(6, 11)]
    assert months[0]["start_date"] == "2026-06-15"
    for month in months:
        expected = sum(v.get("orders", 0) for d, v in daily.items()
                       if month["start_date"] <= d.isoformat() <= month["end_date"])  # fmt: skip
        assert month["order_count"] == expected


def test_products_top_sellers_and_category_split_match_the_records(served):
    shop = Shop(served.published.records, TOKYO)
    body = get(served, TOKYO, "products/", limit=3)
    assert [
        (p["product_id"], p["revenue_minor"], p["units_sold"]) for p in body["top_products"]
    ] == shop.top_products(3)
    revenue = shop.product_revenue()
    assert body["summary"]["revenue_minor"] == sum(v["revenue_minor"] for v in revenue.values())
    assert body["summary"]["units_sold"] == sum(v["units_sold"] for v in revenue.values())
    assert body["summary"]["sold_product_count"] == len(revenue)
    paths: dict[str, Counter] = defaultdict(Counter)
    for product in shop.records("products"):
        path = product["category"] or "Uncategorized"
        path += f" > {product['subcategory']}" if product["subcategory"] else ""
        paths[path]["product_count"] += 1
        paths[path]["revenue_minor"] += revenue.get(product["id"], {}).get("revenue_minor", 0)
    categories = {c["category_path"]: c for c in body["categories"]}
    assert set(categories) == set(paths)
    total = sum(v["revenue_minor"] for v in paths.values())
    for path, expected in paths.items():
        assert categories[path]["revenue_minor"] == expected["revenue_minor"]
        assert categories[path]["product_count"] == expected["product_count"]
        assert categories[path]["revenue_share"] == rate(expected["revenue_minor"], total)
    assert body["scope"] == "all_time"


def test_customers_new_vs_returning_cohorts_flags_and_segments(served):
    shop = Shop(served.published.records, BERLIN)
    body = get(served, BERLIN, "customers/", start_date="2026-06-01", end_date="2026-10-31")
    by_day = shop.customer_days()
    for day in body["new_vs_returning"]["days"]:
        customers, new = by_day.get(date.fromisoformat(day["date"]), (set(), 0))
        assert (day["customer_count"], day["new_customer_count"]) == (len(customers), new)
        assert day["returning_customer_count"] == len(customers) - new
    assert len(body["new_vs_returning"]["days"]) == 153
    known = {c["id"] for c in shop.records("customers")}
    buyers = {c: v for c, v in shop.customers().items() if c in known}
    cohorts: dict[str, Counter] = defaultdict(Counter)
    for row in buyers.values():
        month = row["first"].replace(day=1)
        if date(2026, 6, 1) <= month <= date(2026, 10, 31):
            cohorts[month.isoformat()].update(customers=1, orders=row["orders"], value=row["value"])
    got = {
        c["cohort_month"]: (c["customers"], c["orders"], c["lifetime_value_minor"])
        for c in body["cohorts"]
    }
    assert got == {m: (v["customers"], v["orders"], v["value"]) for m, v in cohorts.items()}
    as_of = served.published.snapshot.created_at.astimezone(ZoneInfo(shop.timezone)).date()
    settings = shop.settings
    assert body["flags"] == {
        "customers": len(known),
        "with_orders": len(buyers),
        "vip": sum(v["value"] >= settings.vip_lifetime_value_minor for v in buyers.values()),
        "new": sum((as_of - v["first"]).days < settings.new_customer_days for v in buyers.values()),
        "inactive": sum(
            (as_of - v["last"]).days >= settings.inactive_customer_days for v in buyers.values()
        ),
    }
    assert {s["segment"]: s["customers"] for s in body["segments"]} == shop.segments(as_of)


def test_funnel_by_day_and_period_rates_match_the_events(served):
    shop = Shop(served.published.records, PACIFIC)
    funnel = shop.funnel()
    body = get(served, PACIFIC, "funnel/", **OCTOBER)
    steps = (
        "session_count",
        "product_view_sessions",
        "add_to_cart_sessions",
        "checkout_sessions",
        "order_sessions",
    )
    assert len(body["days"]) == 31
    for day in body["days"]:
        expected = funnel.get(date.fromisoformat(day["date"]), Counter())
        assert [day[s] for s in steps] == [expected[s] for s in steps]
    totals = Counter()
    for day in days(date(2026, 10, 1), date(2026, 10, 31)):
        totals.update(funnel.get(day, Counter()))
    assert [body["totals"][s] for s in steps] == [totals[s] for s in steps]
    assert body["totals"]["view_to_cart_rate"] == rate(
        totals["add_to_cart_sessions"], totals["product_view_sessions"]
    )
    assert body["totals"]["view_to_order_rate"] == rate(
        totals["order_sessions"], totals["product_view_sessions"]
    )


def test_series_refuse_bad_ranges_naming_the_field(served):
    client = served.app.test_client()
    headers = key_headers(served, BERLIN)
    cases = [
        ({"start_date": "2026-10-31", "end_date": "2026-10-01"}, "end_date"),
        ({"end_date": "31.10.2026"}, "end_date"),
        ({"start_date": "2019-01-01", "end_date": "2026-10-31"}, "end_date"),
    ]
    for path in ("sales/", "customers/", "funnel/"):
        for params, field in cases:
            url = f"/api/v1/analytics/{path}"
            response = client.get(url, query_string=params, headers=headers)
            assert response.status_code == 422, (path, params, response.get_data(as_text=True))
            assert [e["field"] for e in response.get_json()["errors"]] == [field]
    bad = client.get("/api/v1/analytics/sales/", query_string={"interval": "year"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "interval"


def test_series_are_per_tenant_and_need_marts_read(served):
    berlin = get(served, BERLIN, "sales/", **OCTOBER)["totals"]
    pacific = get(served, PACIFIC, "sales/", **OCTOBER)["totals"]
    assert berlin != pacific
    client = served.app.test_client()
    for path in ("sales/", "products/", "customers/", "funnel/", "realtime/"):
        url = f"/api/v1/analytics/{path}"
        assert client.get(url, headers=key_headers(served, BERLIN, "ingest")).status_code == 403
        foreign = {**key_headers(served, PACIFIC), "X-Tenant-ID": str(served.tenant_ids[BERLIN])}
        assert client.get(url, headers=foreign).status_code == 403


EVENTS = [
    {"id": "evt-live-1", "type": "product_viewed", "occurred_at": "2026-11-20T10:00:00Z",
     "session_id": "s-live", "product_id": "prod-0000001"},
    {"id": "evt-live-2", "type": "not an event type", "occurred_at": "yesterday"},
]  # fmt: skip


def test_events_are_tracked_through_the_ingest_path(served):
    client = served.app.test_client()
    headers = {**key_headers(served, BERLIN, "ingest"), "Idempotency-Key": "storefront-1"}
    body = "\n".join(json.dumps(e) for e in EVENTS)
    first = client.post(
        "/api/v1/analytics/events/", data=body, headers=headers, content_type="application/x-ndjson"
    )
    assert first.status_code == 200, first.get_data(as_text=True)
    result = first.get_json()
    assert (result["rows_received"], result["rows_inserted"], result["rows_failed"]) == (2, 1, 1)
    assert {e["row"] for e in result["errors"]} == {2}
    assert set(result) == set(IngestResponse.model_fields)
    # A retry, on either URL, replays the stored answer and lands nothing new.
    for url in ("/api/v1/analytics/events/", "/api/v1/ingest/event/"):
        again = client.post(url, data=body, headers=headers, content_type="application/x-ndjson")
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json() == result
    changed = client.post("/api/v1/analytics/events/", data=body + "\n", headers=headers,
                          content_type="application/x-ndjson")  # fmt: skip
    assert changed.status_code == 422
    lake = served.settings.lake_root / "raw" / "events" / f"tenant_id={served.tenant_ids[BERLIN]}"
    landed = [p for p in lake.rglob("*.parquet") if result["batch_ids"][0] in p.name]
    assert len(landed) == 1


def test_events_accept_a_json_array_and_need_ingest_permission(served):
    client = served.app.test_client()
    url = "/api/v1/analytics/events/"
    ok = client.post(url, json=EVENTS[:1], headers=key_headers(served, PACIFIC, "ingest"))
    assert ok.status_code == 200 and ok.get_json()["rows_inserted"] == 1
    viewer = user_headers(served, PACIFIC, Role.VIEWER)
    refused = client.post(url, json=EVENTS[:1], headers=viewer)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert (
        client.post(url, json=EVENTS[:1], headers=key_headers(served, PACIFIC, "read")).status_code
        == 403
    )
    bad_type = client.post(
        url, data="x", headers=key_headers(served, PACIFIC, "ingest"), content_type="text/plain"
    )
    assert bad_type.status_code == 415

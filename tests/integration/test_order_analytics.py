"""Order analytics endpoints agree with the preset's records; the lists see CRUD writes at once.

Expected values come from ``served.published.records`` (tests/analytics_records.py), never
from the marts or the SQL under test.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from serving.marts import response_cache
from tests.analytics_records import (
    Shop,
    average,
    key_headers,
    load,
    set_tenant_settings,
    tenant_fixtures,
    utc,
    viewer_headers,
    walk_pages,
)
from warehouse.contracts.entities import ORDER_STATUSES

SLUG, OTHER = "kaffeehaus-berlin", "pacific-outfitters"
ROUTES = [
    "/api/v1/orders/analytics/",
    "/api/v1/orders/recent/",
    "/api/v1/orders/pending/",
    "/api/v1/orders/high_value/",
]


shop, call = tenant_fixtures(SLUG)


def expected_analytics(shop: Shop, start: date, end: date) -> dict:
    """Orders by status and the sums of counted orders placed in [start, end] (local days)."""

    def inside(stamp: str) -> bool:
        return start <= shop.local_date(stamp) <= end

    placed = [o for o in shop.orders.values() if inside(o["created_at"])]
    counted = shop.counted()
    ids = {o["id"] for o in counted}
    firsts = {}
    for order in sorted(counted, key=lambda o: (utc(o["created_at"]), o["id"])):
        if order["customer_id"] is not None:
            firsts.setdefault(order["customer_id"], order["id"])
    in_range = [o for o in counted if inside(o["created_at"])]
    refunds = [r for r in shop.refunds.values() if r["status"] == "succeeded"
               and r["order_id"] in ids and inside(r["created_at"])]  # fmt: skip
    lines = [line for o in in_range for line in o["items"]]
    total = sum(o["total_minor"] for o in in_range)
    refunded = sum(r["amount_minor"] for r in refunds)
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "timezone": shop.timezone,
        "currency": shop.currency,
        "orders_by_status": {s: Counter(o["status"] for o in placed)[s] for s in ORDER_STATUSES},
        "order_count": len(in_range),
        "units": sum(line["quantity"] for line in lines),
        "new_customer_count": sum(1 for o in in_range if firsts.get(o["customer_id"]) == o["id"]),
        "guest_order_count": sum(1 for o in in_range if o["customer_id"] is None),
        "gross_minor": sum(line["quantity"] * line["unit_price_minor"] for line in lines),
        "discounts_minor": sum(line["discount_minor"] or 0 for line in lines)
        + sum(o["discount_minor"] for o in in_range),
        "tax_minor": sum(o["tax_minor"] for o in in_range),
        "shipping_minor": sum(o["shipping_minor"] for o in in_range),
        "total_minor": total,
        "refund_count": len(refunds),
        "refunds_minor": refunded,
        "net_revenue_minor": total - refunded,
        "average_order_value_minor": average(total, len(in_range)),
    }


def ordered(orders, key, reverse=True) -> list[str]:
    """Ids sorted by (key, id), as the lists order them (ties broken by id, same direction)."""
    return [o["id"] for o in sorted(orders, key=lambda o: (key(o), o["id"]), reverse=reverse)]


def walk(call, url: str) -> list[str]:
    """Follow next_cursor to the last page and return every order id."""
    return [order["id"] for order in walk_pages(call, url)]


def test_analytics_over_a_range_matches_the_records(call, shop):
    for start, end in [
        (date(2026, 6, 1), date(2026, 8, 31)),  # a quarter
        (date(2026, 5, 1), date(2026, 10, 31)),  # every order of the preset
        (date(2026, 7, 15), date(2026, 7, 15)),  # one day
    ]:
        body = call(f"/api/v1/orders/analytics/?start_date={start}&end_date={end}").get_json()
        assert body.pop("build_id") and body.pop("data_through")
        assert body == expected_analytics(shop, start, end)


def test_analytics_defaults_to_the_last_30_local_days(call, shop):
    before = datetime.now(ZoneInfo(shop.timezone)).date()
    body = call("/api/v1/orders/analytics/").get_json()
    end = date.fromisoformat(body["end_date"])
    assert before <= end <= datetime.now(ZoneInfo(shop.timezone)).date()
    assert date.fromisoformat(body["start_date"]) == end - timedelta(days=29)


def test_recent_lists_newest_first_across_pages(call, shop):
    expected = ordered(shop.orders.values(), lambda o: utc(o["created_at"]))
    assert walk(call, "/api/v1/orders/recent/?limit=40") == expected
    paid = [o for o in shop.orders.values() if o["status"] in {"paid", "cancelled"}]
    got = walk(call, "/api/v1/orders/recent/?limit=40&status=paid&status=cancelled")
    assert got == ordered(paid, lambda o: utc(o["created_at"]))


def test_high_value_uses_the_setting_or_the_query(served, call, shop):
    def expected(threshold: int) -> list[str]:
        orders = [o for o in shop.orders.values() if o["total_minor"] >= threshold]
        return ordered(orders, lambda o: o["total_minor"])

    assert walk(call, "/api/v1/orders/high_value/?limit=7") == expected(50_000)
    assert walk(call, "/api/v1/orders/high_value/?limit=7&min_total_minor=80000") == expected(
        80_000
    )
    set_tenant_settings(served.app, served.tenant_ids[SLUG], high_value_order_minor=70_000)
    assert walk(call, "/api/v1/orders/high_value/?limit=7") == expected(70_000)


def order_body(order_id: str, status: str = "pending", total: int = 123_456) -> dict:
    return {
        "id": order_id, "order_number": order_id, "status": status,
        "subtotal_minor": total, "total_minor": total,
        "items": [{"product_id": "prod-0000001", "sku": "APP-000001", "name": "Tee",
                   "quantity": 1, "unit_price_minor": total}],
    }  # fmt: skip


def test_a_crud_order_shows_in_the_lists_at_once(served, call, shop):
    writer = key_headers(served.app, served.tenant_ids[SLUG], "write")
    pending = [o for o in shop.orders.values() if o["status"] == "pending"]
    assert walk(call, "/api/v1/orders/pending/?limit=10") == ordered(
        pending, lambda o: utc(o["created_at"])
    )
    created = call.client.post("/api/v1/orders/", json=order_body("ord-new"), headers=writer)
    assert created.status_code == 201
    for route in ("pending", "recent", "high_value"):
        first = call(f"/api/v1/orders/{route}/?limit=1").get_json()["data"]
        assert [o["id"] for o in first] == ["ord-new"], route
    paid = call.client.post(
        "/api/v1/orders/ord-new/update_status/", json={"status": "paid"}, headers=writer
    )
    assert paid.status_code == 200
    assert "ord-new" not in walk(call, "/api/v1/orders/pending/?limit=50")
    assert call.client.delete("/api/v1/orders/ord-new/", headers=writer).status_code == 204
    assert "ord-new" not in walk(call, "/api/v1/orders/recent/?limit=500")


def test_a_tenant_sees_only_its_own_orders(served, call):
    other = load(served.published.records, OTHER)
    headers = key_headers(served.app, served.tenant_ids[OTHER], "read")
    ids = [o["id"] for o in call("/api/v1/orders/recent/?limit=1000", headers).get_json()["data"]]
    assert ids == ordered(other.orders.values(), lambda o: utc(o["created_at"]))
    start, end = date(2026, 5, 1), date(2026, 10, 31)
    body = call(f"/api/v1/orders/analytics/?start_date={start}&end_date={end}", headers)
    figures = body.get_json()
    assert figures.pop("build_id") and figures.pop("data_through")
    assert figures == expected_analytics(other, start, end)
    own = served.tenant_ids[SLUG]
    assert call(f"/api/v1/tenants/{own}/orders/recent/", headers).status_code == 403


def test_viewers_read_analytics_but_not_order_lists(served, call):
    # Order lists are business records (customer ids, amounts): data:read, which viewers lack.
    tenant = served.tenant_ids[SLUG]
    viewer = viewer_headers(served.app, tenant)
    write = key_headers(served.app, tenant, "write")
    ingest = key_headers(served.app, tenant, "ingest")
    assert call(ROUTES[0], viewer).status_code == 200
    for route in ROUTES[1:]:
        assert call(route, viewer).status_code == 403, route
    for route in ROUTES:
        for headers in (write, ingest):  # neither scope reads marts or records
            assert call(route, headers).status_code == 403, route
        assert call(route, {}).status_code == 401


@pytest.mark.parametrize("url, field", [
    ("/api/v1/orders/analytics/?start_date=2026-13-01", "start_date"),  # no 13th month
    ("/api/v1/orders/analytics/?end_date=yesterday", "end_date"),  # not a date
    ("/api/v1/orders/analytics/?start_date=2026-07-02&end_date=2026-07-01", "start_date"),
    ("/api/v1/orders/analytics/?start_date=2000-01-01&end_date=2026-07-01", "end_date"),  # span
    ("/api/v1/orders/high_value/?min_total_minor=-5", "min_total_minor"),  # negative
    ("/api/v1/orders/recent/?status=lost", "status.0"),  # not a status
    ("/api/v1/orders/pending/?limit=5000", "limit"),  # above 1000
])  # fmt: skip
def test_bad_query_values_are_422_naming_the_field(bare, url, field):
    response = bare(url)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_a_cursor_of_one_list_is_refused_by_another(call):
    cursor = call("/api/v1/orders/recent/?limit=1").get_json()["next_cursor"]
    response = call(f"/api/v1/orders/pending/?cursor={cursor}")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "cursor"


def test_analytics_answers_are_cached(served, call):
    url = "/api/v1/orders/analytics/?start_date=2026-06-01&end_date=2026-06-30"
    first = call(url).get_json()
    with served.app.app_context():
        hits = response_cache().hits
    assert call(url).get_json() == first
    with served.app.app_context():
        assert response_cache().hits == hits + 1

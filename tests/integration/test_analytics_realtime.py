"""GET /api/v1/analytics/realtime/: today so far, the published snapshot plus the raw tail.

Read-your-write: orders created, changed and deleted through CRUD, and events tracked through
``POST /api/v1/analytics/events/``, show on the very next GET, before any build. The same
service, pointed at a past day of the preset, agrees with the NDJSON records.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.analytics_support import PAID, SLUGS, Shop, key_headers
from tests.integration.test_order_search import settle
from warehouse.analytics.realtime import realtime
from warehouse.entities.sources import Store

URL = "/api/v1/analytics/realtime/"
BERLIN, PACIFIC = SLUGS[0], SLUGS[1]
PAST = datetime(2026, 10, 28, 22, 30, tzinfo=UTC)  # 23:30 in Berlin, a day of the preset


def now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def order(order_id: str, created_at: str, quantity: int = 2, status: str = "paid") -> dict:
    return {
        "id": order_id, "order_number": order_id, "status": status, "customer_id": "cus-0000001",
        "subtotal_minor": 1500 * quantity, "total_minor": 1500 * quantity, "created_at": created_at,
        "items": [{"product_id": "prod-0000001", "sku": "APP-000001", "name": "Tee",
                   "quantity": quantity, "unit_price_minor": 1500}],
    }  # fmt: skip


def metrics(client, headers) -> dict:
    response = client.get(URL, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"  # never cached on the way
    return response.get_json()


def expected_day(shop: Shop, day: date) -> dict:
    """Return the day's figures from the records (orders placed that local day)."""
    placed = [o for o in shop.records("orders") if shop.local(o["created_at"]).date() == day]
    counted = [o for o in placed if o["status"] in PAID and o["currency"] == shop.currency]
    last = max((datetime.fromisoformat(o["created_at"]) for o in counted), default=None)
    return {
        "orders": len(counted),
        "revenue_minor": sum(o["total_minor"] for o in counted),
        "units": sum(i["quantity"] for o in counted for i in o["items"]),
        "unique_customers": len({o["customer_id"] for o in counted} - {None}),
        "last_order_at": last.astimezone(UTC) if last else None,
        "orders_placed": len(placed),
    }


@pytest.fixture
def berlin(served):
    return served.app.test_client(), key_headers(served, BERLIN, "read", "write", "ingest")


@pytest.fixture
def settled(served, berlin):
    """Berlin, read as a shop in its steady state: published orders come from the snapshot."""
    settle(served)
    return berlin


def test_today_matches_the_records_before_any_write(served, berlin):
    client, headers = berlin
    shop = Shop(served.published.records, BERLIN)
    body = metrics(client, headers)
    assert body["date"] == datetime.now(ZoneInfo(shop.timezone)).date().isoformat()
    expected = expected_day(shop, date.fromisoformat(body["date"]))
    expected["last_order_at"] = expected["last_order_at"] and expected["last_order_at"].isoformat()
    assert {k: body[k] for k in expected} == expected
    assert (body["timezone"], body["currency"]) == (shop.timezone, shop.currency)
    source = body["source"]
    assert source["snapshot"]["build_id"] == served.published.snapshot.build_id
    assert source["orders_base"] in {"snapshot", "current"} and source["orders_base_files"] >= 1


def test_crud_writes_and_tracked_events_show_on_the_next_get(served, berlin):
    client, headers = berlin
    before = metrics(client, headers)
    created_at = now_text()
    assert (
        client.post("/api/v1/orders/", json=order("rt-1", created_at), headers=headers).status_code
        == 201
    )
    after = metrics(client, headers)
    assert after["orders"] == before["orders"] + 1
    assert after["revenue_minor"] == before["revenue_minor"] + 3000
    assert after["units"] == before["units"] + 2
    assert after["unique_customers"] >= max(before["unique_customers"], 1)
    assert datetime.fromisoformat(after["last_order_at"]) == datetime.fromisoformat(created_at)
    assert after["orders_by_status"].get("paid", 0) == before["orders_by_status"].get("paid", 0) + 1
    assert after["source"]["tail_files"] > before["source"]["tail_files"]

    event = {
        "id": "evt-rt-1",
        "type": "product_viewed",
        "occurred_at": now_text(),
        "session_id": "s1",
    }
    tracked = client.post("/api/v1/analytics/events/", json=[event], headers=headers)
    assert tracked.status_code == 200 and tracked.get_json()["rows_inserted"] == 1
    seen = metrics(client, headers)["events_by_type"]
    assert seen.get("product_viewed", 0) == before["events_by_type"].get("product_viewed", 0) + 1

    # paid -> cancelled: still placed today, no longer counted.
    assert (
        client.patch(
            "/api/v1/orders/rt-1/", json={"status": "cancelled"}, headers=headers
        ).status_code
        == 200
    )
    cancelled = metrics(client, headers)
    assert (cancelled["orders"], cancelled["revenue_minor"]) == (
        before["orders"],
        before["revenue_minor"],
    )
    assert cancelled["orders_placed"] == before["orders_placed"] + 1
    assert (
        cancelled["orders_by_status"]["cancelled"]
        == before["orders_by_status"].get("cancelled", 0) + 1
    )

    assert client.delete("/api/v1/orders/rt-1/", headers=headers).status_code == 204
    deleted = metrics(client, headers)
    assert deleted["orders_placed"] == before["orders_placed"]
    assert deleted["orders_by_status"] == before["orders_by_status"]


def test_a_published_order_moved_into_today_replaces_its_snapshot_row(served, settled):
    client, headers = settled
    shop = Shop(served.published.records, BERLIN)
    published = next(o for o in shop.records("orders") if o["status"] == "fulfilled")
    before = metrics(client, headers)
    moved = client.patch(
        f"/api/v1/orders/{published['id']}/", json={"created_at": now_text()}, headers=headers
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    after = metrics(client, headers)
    assert after["orders"] == before["orders"] + 1
    assert after["revenue_minor"] == before["revenue_minor"] + published["total_minor"]
    assert after["units"] == before["units"] + sum(i["quantity"] for i in published["items"])
    assert client.delete(f"/api/v1/orders/{published['id']}/", headers=headers).status_code == 204
    assert metrics(client, headers)["orders"] == before["orders"]


def past_day(served) -> tuple[Shop, Store, date]:
    """Return Berlin's records, its store and the local day of :data:`PAST`."""
    shop = Shop(served.published.records, BERLIN)
    store = Store(served.settings.lake_root, served.settings.var_dir, served.tenant_ids[BERLIN])
    return shop, store, PAST.astimezone(ZoneInfo(shop.timezone)).date()


def paid_order_on(shop: Shop, day: date) -> dict:
    return next(o for o in shop.records("orders")
                if shop.local(o["created_at"]).date() == day and o["status"] in PAID)  # fmt: skip


def test_a_past_day_from_the_service_matches_the_records_and_follows_deletes(served, berlin):
    client, headers = berlin
    shop, store, day = past_day(served)
    expected = expected_day(shop, day)
    assert expected["orders"] >= 1
    body = realtime(store, shop.timezone, shop.currency, now=PAST)
    assert body["date"] == day
    assert {k: body[k] for k in expected} == expected
    victim = paid_order_on(shop, day)
    assert client.delete(f"/api/v1/orders/{victim['id']}/", headers=headers).status_code == 204
    after = realtime(store, shop.timezone, shop.currency, now=PAST)
    assert after["orders"] == expected["orders"] - 1
    assert after["revenue_minor"] == expected["revenue_minor"] - victim["total_minor"]


def test_a_published_order_moved_out_of_the_day_no_longer_counts(served, settled):
    client, headers = settled
    shop, store, day = past_day(served)
    expected = expected_day(shop, day)
    moved = paid_order_on(shop, day)
    change = {"created_at": "2026-10-01T12:00:00+00:00"}
    response = client.patch(f"/api/v1/orders/{moved['id']}/", json=change, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    after = realtime(store, shop.timezone, shop.currency, now=PAST)
    assert after["orders"] == expected["orders"] - 1
    assert after["revenue_minor"] == expected["revenue_minor"] - moved["total_minor"]


def test_another_tenant_never_sees_the_write(served, berlin):
    client, headers = berlin
    pacific = key_headers(served, PACIFIC)
    before = metrics(client, pacific)
    assert (
        client.post(
            "/api/v1/orders/", json=order("rt-iso", now_text()), headers=headers
        ).status_code
        == 201
    )
    after = metrics(client, pacific)
    assert (after["orders_placed"], after["revenue_minor"]) == (
        before["orders_placed"],
        before["revenue_minor"],
    )
    assert after["currency"] == "USD"
    foreign = {**pacific, "X-Tenant-ID": str(served.tenant_ids[BERLIN])}
    assert client.get(URL, headers=foreign).status_code == 403


def test_realtime_needs_marts_read_and_refuses_parameters(served):
    client = served.app.test_client()
    assert client.get(URL, headers=key_headers(served, BERLIN, "ingest")).status_code == 403
    bad = client.get(URL, query_string={"date": "2026-10-01"}, headers=key_headers(served, BERLIN))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "date"

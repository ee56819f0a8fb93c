"""Price anomalies: streamed listing (NDJSON or JSON array), review, and the rate limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from serving import close_app, create_app
from tests.integration.test_price_events import anomalies, at, land_product, post
from warehouse.controldb import transaction
from warehouse.controldb.models import PriceAnomaly

URL = "/api/v1/products/p1/price-anomalies/"


@pytest.fixture
def shop(app, make):
    tenant = make.tenant("reviewed", settings={"price_anomaly_threshold_pct": 10.0})
    land_product(app, tenant, "p1", price_minor=1000)
    return tenant, make.key_headers(tenant, "read", "write")


@pytest.fixture
def flagged(client, shop):
    """Three anomalies of p1: prices swinging by 100 % and more."""
    _tenant, headers = shop
    for minute, price in enumerate((3000, 1000, 5000), start=1):
        assert post(client, headers, "p1", f"e{minute}", price, occurred_at=at(minute)).json[
            "anomaly"
        ]
    return headers


def test_json_array_lists_newest_first_and_honours_limit(client, flagged):
    listed = anomalies(client, flagged)
    assert [a["event_id"] for a in listed] == ["e3", "e2", "e1"]
    assert [a["price_minor"] for a in anomalies(client, flagged, query="?limit=2")] == [5000, 1000]


def test_ndjson_when_the_client_asks_for_it(client, flagged):
    response = client.get(URL, headers={**flagged, "Accept": "application/x-ndjson"})
    assert response.mimetype == "application/x-ndjson"
    lines = response.get_data(as_text=True).splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == ["e3", "e2", "e1"]
    as_json = client.get(
        URL, headers={**flagged, "Accept": "application/json, application/x-ndjson;q=0.5"}
    )
    assert as_json.mimetype == "application/json"


def test_the_array_is_streamed_in_chunks(client, flagged):
    response = client.get(URL, headers=flagged, buffered=False)
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) == 5 and chunks[0] == b"[" and chunks[-1] == b"]"  # bracket, 3 rows, bracket
    assert len(json.loads(b"".join(chunks))) == 3


def test_since_filters_on_detection_time(app, client, flagged, shop):
    tenant, _headers = shop
    with transaction(app.extensions["shoplake.sessions"]) as session:
        oldest = session.query(PriceAnomaly).filter_by(tenant_id=tenant.id, event_id="e1").one()
        oldest.detected_at = datetime(2020, 1, 1, tzinfo=UTC)
    recent = anomalies(client, flagged, query="?since=2021-01-01T00:00:00Z")
    assert [a["event_id"] for a in recent] == ["e3", "e2"]
    naive = client.get(f"{URL}?since=2021-01-01T00:00:00", headers=flagged)
    assert naive.status_code == 422 and naive.json["errors"][0]["field"] == "since"


def test_review_marks_and_reopens_an_anomaly(client, flagged):
    target = anomalies(client, flagged)[1]
    url = f"{URL}{target['id']}/"
    reviewed = client.patch(
        url, json={"status": "reviewed", "note": "supplier sale"}, headers=flagged
    )
    assert reviewed.status_code == 200, reviewed.get_json()
    assert reviewed.json["status"] == "reviewed" and reviewed.json["note"] == "supplier sale"
    assert reviewed.json["reviewed_by"].startswith("key:") and reviewed.json["reviewed_at"]
    assert [a["id"] for a in anomalies(client, flagged, query="?status=open")] == [
        a["id"] for a in anomalies(client, flagged) if a["id"] != target["id"]
    ]
    reopened = client.patch(url, json={"status": "open"}, headers=flagged)
    assert reopened.json["reviewed_at"] is None and reopened.json["note"] == "supplier sale"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("p1/price-anomalies/999999/", {"status": "reviewed"}, 404),  # no such anomaly
        ("other/price-anomalies/{id}/", {"status": "reviewed"}, 404),  # anomaly of another product
        ("p1/price-anomalies/{id}/", {"status": "ignored"}, 422),  # not a review status
    ],
)
def test_review_refusals(client, flagged, path, body, status):
    anomaly_id = anomalies(client, flagged)[0]["id"]
    url = "/api/v1/products/" + path.format(id=anomaly_id)
    assert client.patch(url, json=body, headers=flagged).status_code == status


def test_review_needs_data_write(make, client, flagged, shop):
    tenant, _headers = shop
    anomaly_id = anomalies(client, flagged)[0]["id"]
    read_only = make.key_headers(tenant, "read")
    response = client.patch(f"{URL}{anomaly_id}/", json={"status": "reviewed"}, headers=read_only)
    assert response.status_code == 403
    assert anomalies(client, read_only)[0]["status"] == "open"


@pytest.fixture
def limited(settings, make):
    app = create_app(
        settings.replace(
            ratelimit_price_event_product="2/hour", ratelimit_price_event_tenant="3/hour"
        )
    )
    tenant = make.tenant("limited")
    for product_id in ("p1", "p2", "p3"):
        land_product(app, tenant, product_id)
    yield app.test_client(), make.key_headers(tenant, "write"), make
    close_app(app)


def test_price_events_are_limited_per_product_then_per_tenant(limited):
    client, headers, make = limited
    assert [post(client, headers, "p1", f"a{i}", 1000).status_code for i in range(2)] == [201, 201]
    per_product = post(client, headers, "p1", "a3", 1000)
    assert per_product.status_code == 429
    assert per_product.headers["X-RateLimit-Scope"] == "price-event-product"
    assert int(per_product.headers["Retry-After"]) > 0
    assert post(client, headers, "p2", "b1", 1000).status_code == 201  # the tenant's third
    per_tenant = post(client, headers, "p3", "c1", 1000)
    assert per_tenant.status_code == 429
    assert per_tenant.headers["X-RateLimit-Scope"] == "price-event-tenant"

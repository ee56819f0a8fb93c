"""Price events: comparison with the previous known price, anomalies, idempotency, isolation."""

from __future__ import annotations

import pytest

from warehouse.contracts import CONTRACTS, validate_records
from warehouse.lake import batch_id_for, land_batch, read_table

TS = "2026-03-01T10:00:00+00:00"


def land_product(
    app, tenant, product_id, price_minor=1000, currency="EUR", variants=(), op="upsert"
):
    """Land a catalogue product (or its delete) straight into the tenant's raw zone."""
    root = app.config["SHOPLAKE"].lake_root
    batch = batch_id_for(tenant.id, f"seed:{product_id}:{op}", 0)
    if op == "delete":
        tables = CONTRACTS["product"].delete_tables([product_id])
        land_batch(root, tenant.id, batch, tables, source="api", op="delete")
        return
    record = {
        "id": product_id, "sku": f"sku-{product_id}", "name": product_id,
        "price_minor": price_minor, "currency": currency, "created_at": TS, "updated_at": TS,
        "variants": list(variants),
    }  # fmt: skip
    result = validate_records("product", [record])
    assert not result.errors, result.errors
    land_batch(root, tenant.id, batch, result.tables, source="api")


@pytest.fixture
def shop(app, make):
    tenant = make.tenant("pricey", settings={"price_anomaly_threshold_pct": 25.0})
    land_product(
        app,
        tenant,
        "p1",
        variants=[{"id": "v1", "sku": "s-v1", "price_minor": 400}, {"id": "v2", "sku": "s-v2"}],
    )
    return tenant, make.key_headers(tenant, "read", "write")


def post(
    client, headers, product_id, event_id, price_minor, currency="EUR", occurred_at=None, **extra
):
    body = {
        "price_minor": price_minor,
        "currency": currency,
        "occurred_at": occurred_at or at(0),
        **extra,
    }
    if event_id is not None:
        body["id"] = event_id
    return client.post(f"/api/v1/products/{product_id}/price-event/", json=body, headers=headers)


def at(minute: int) -> str:
    return f"2026-03-02T10:{minute:02d}:00+00:00"


def anomalies(client, headers, product_id="p1", query=""):
    response = client.get(f"/api/v1/products/{product_id}/price-anomalies/{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.json


def test_first_event_is_compared_with_the_catalogue_then_with_the_last_event(client, shop):
    _tenant, headers = shop
    first = post(client, headers, "p1", "e1", 1200, occurred_at=at(1))
    assert first.status_code == 201, first.get_json()
    assert first.json["status"] == "applied"
    assert first.json["previous"] == {
        "price_minor": 1000,
        "currency": "EUR",
        "occurred_at": "2026-03-01T10:00:00Z",
        "source": "catalog",
    }
    assert first.json["change_pct"] == 20.0 and first.json["anomaly"] is None
    second = post(client, headers, "p1", "e2", 600, occurred_at=at(2))
    assert (
        second.json["previous"]["price_minor"] == 1200
        and second.json["previous"]["source"] == "price_event"
    )
    anomaly = second.json["anomaly"]
    assert anomaly["reason"] == "threshold" and anomaly["change_pct"] == -50.0
    assert (anomaly["previous_price_minor"], anomaly["price_minor"], anomaly["status"]) == (
        1200,
        600,
        "open",
    )
    assert [a["event_id"] for a in anomalies(client, headers)] == ["e2"]


@pytest.mark.parametrize(
    ("price", "flagged"),
    [
        (1250, True),  # +25 %: exactly the threshold counts
        (750, True),  # -25 %
        (1249, False),  # +24.9 %
        (751, False),  # -24.9 %
    ],
)
def test_threshold_is_inclusive_and_exact(client, shop, price, flagged):
    _tenant, headers = shop
    response = post(client, headers, "p1", "e1", price)
    assert (response.json["anomaly"] is not None) is flagged


def test_variants_compare_with_their_own_price(client, shop):
    _tenant, headers = shop
    own = post(client, headers, "p1", "e1", 500, variant_id="v1")  # variant price 400
    assert (
        own.json["previous"]["price_minor"] == 400 and own.json["anomaly"]["reason"] == "threshold"
    )
    inherited = post(client, headers, "p1", "e2", 1100, variant_id="v2")  # the product's 1000
    assert inherited.json["previous"]["price_minor"] == 1000 and inherited.json["anomaly"] is None
    unknown = post(client, headers, "p1", "e3", 1100, variant_id="nope")
    assert unknown.status_code == 422
    assert unknown.json["errors"] == [
        {"field": "variant_id", "reason": "not a variant of this product"}
    ]
    assert [a["variant_id"] for a in anomalies(client, headers, query="?variant_id=v1")] == ["v1"]


def test_currency_switch_and_leaving_zero_are_flagged(app, client, shop):
    tenant, headers = shop
    switched = post(client, headers, "p1", "e1", 1000, currency="USD")
    assert switched.json["anomaly"]["reason"] == "currency" and switched.json["change_pct"] is None
    land_product(app, tenant, "free", price_minor=0)
    leaving = post(client, headers, "free", "e2", 1)
    assert leaving.json["anomaly"]["reason"] == "from_zero"


def test_an_older_event_is_kept_but_changes_nothing(app, client, shop):
    tenant, headers = shop
    post(client, headers, "p1", "new", 1100, occurred_at=at(30))
    stale = post(client, headers, "p1", "old", 5000, occurred_at=at(10))
    assert stale.status_code == 201
    assert stale.json["status"] == "stale" and stale.json["anomaly"] is None
    after = post(client, headers, "p1", "newer", 1150, occurred_at=at(40))
    assert after.json["previous"]["price_minor"] == 1100
    landed = read_table(app.config["SHOPLAKE"].lake_root, "price_events", tenant.id)
    assert sorted(landed.column("id").to_pylist()) == ["new", "newer", "old"]
    assert set(landed.column("_source").to_pylist()) == {"webhook"}


def test_a_repeated_event_is_answered_once_and_lands_once(app, client, shop):
    tenant, headers = shop
    first = post(client, headers, "p1", "e1", 9000)
    again = post(client, headers, "p1", "e1", 9000)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    changed = post(client, headers, "p1", "e1", 9001)
    assert changed.status_code == 422
    assert changed.json["errors"] == [{"field": "id", "reason": "already used with other content"}]
    assert len(anomalies(client, headers)) == 1
    landed = read_table(app.config["SHOPLAKE"].lake_root, "price_events", tenant.id)
    assert landed.column("id").to_pylist() == ["e1"]


def test_without_an_id_the_idempotency_key_names_the_event(client, shop):
    _tenant, headers = shop
    keyed = {**headers, "Idempotency-Key": "hook-7"}
    first = post(client, keyed, "p1", None, 2000)
    again = post(client, keyed, "p1", None, 2000)
    assert first.json["id"].startswith("pe_") and again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    missing = post(client, headers, "p1", None, 2000)
    assert missing.status_code == 400
    assert missing.json["errors"][0]["field"] == "id"


def test_a_repeat_after_a_crash_is_recognised_as_a_duplicate(client, shop, monkeypatch):
    from ingestion import idempotency

    _tenant, headers = shop
    monkeypatch.setattr(idempotency, "finish", lambda *a, **k: None)  # the answer was never stored
    first = post(client, headers, "p1", "e1", 9000)
    again = post(client, headers, "p1", "e1", 9000)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert again.json["anomaly"]["id"] == first.json["anomaly"]["id"]
    assert len(anomalies(client, headers)) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "EURO"}, "currency"),  # not an ISO 4217 code
        ({"currency": "eur"}, "currency"),  # codes are upper case
        ({"price_minor": -1}, "price_minor"),  # prices are not negative
        ({"occurred_at": "2026-03-02 10:00"}, "occurred_at"),  # RFC 3339 with an offset only
        ({"price_minor": "10"}, "price_minor"),  # strict JSON types
        ({"discount": 5}, "discount"),  # unknown fields are refused
    ],
)
def test_invalid_events_are_refused_with_the_field(app, client, shop, overrides, field):
    tenant, headers = shop
    body = {"id": "bad", "price_minor": 100, "currency": "EUR", "occurred_at": at(0), **overrides}
    response = client.post("/api/v1/products/p1/price-event/", json=body, headers=headers)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json["errors"]]
    landed = read_table(app.config["SHOPLAKE"].lake_root, "price_events", tenant.id)
    assert landed.num_rows == 0


def test_unknown_and_deleted_products_are_not_found(app, client, shop):
    tenant, headers = shop
    assert post(client, headers, "ghost", "e1", 100).status_code == 404
    land_product(app, tenant, "gone")
    land_product(app, tenant, "gone", op="delete")
    assert post(client, headers, "gone", "e2", 100).status_code == 404


def test_other_tenants_see_nothing_of_a_product(app, make, client, shop):
    _tenant, headers = shop
    post(client, headers, "p1", "e1", 5000)
    rival = make.tenant("rival")
    rival_headers = make.key_headers(rival, "read", "write")
    assert post(client, rival_headers, "p1", "e9", 1).status_code == 404
    assert (
        client.get("/api/v1/products/p1/price-anomalies/", headers=rival_headers).status_code == 404
    )
    anomaly_id = anomalies(client, headers)[0]["id"]
    patch = client.patch(
        f"/api/v1/products/p1/price-anomalies/{anomaly_id}/",
        json={"status": "reviewed"},
        headers=rival_headers,
    )
    assert patch.status_code == 404
    land_product(app, rival, "p1")  # the rival's own p1 has no anomalies
    assert anomalies(client, rival_headers) == []
    assert anomalies(client, headers)[0]["status"] == "open"


def test_price_events_need_data_write(make, client, shop):
    tenant, _headers = shop
    read_only = make.key_headers(tenant, "read")
    assert post(client, read_only, "p1", "e1", 100).status_code == 403
    assert post(client, {}, "p1", "e1", 100).status_code == 401
    ingest_only = make.key_headers(tenant, "ingest")
    assert (
        client.get("/api/v1/products/p1/price-anomalies/", headers=ingest_only).status_code == 403
    )

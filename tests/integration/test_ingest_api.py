"""HTTP bulk ingest: every accepted format lands, bad rows are reported, retries land nothing."""

import gzip
import io
import json

import pytest

from ingestion import idempotency
from ingestion.service import IngestSpec, ingest
from warehouse.lake import read_table

TS = "2026-03-01T10:00:00+01:00"


def customer(i, **overrides):
    return {
        "id": f"c{i}",
        "email": f"c{i}@shop.example",
        "first_name": f"N{i}",
        "created_at": TS,
        "updated_at": TS,
        **overrides,
    }


def ndjson(records):
    return b"\n".join(json.dumps(r).encode() for r in records) + b"\n"


@pytest.fixture
def shop(make):
    tenant = make.tenant("acme", currency="EUR", timezone="Europe/Berlin")
    return tenant, make.key_headers(tenant, "ingest")


def landed_ids(app, tenant, entity="customers"):
    table = read_table(app.config["SHOPLAKE"].lake_root, entity, tenant.id)
    return sorted(table.column("id").to_pylist()) if table.num_rows else []


def post(client, headers, body, content_type="application/x-ndjson", entity="customer", **extra):
    return client.post(
        f"/api/v1/ingest/{entity}/",
        data=body,
        headers={**headers, "Content-Type": content_type, **extra},
    )


RECORDS = [customer(i) for i in range(5)]


@pytest.mark.parametrize(
    ("content_type", "body", "extra"),
    [
        ("application/x-ndjson", ndjson(RECORDS), {}),  # NDJSON
        ("application/json", json.dumps(RECORDS).encode(), {}),  # a JSON array
        ("application/json", json.dumps({"records": RECORDS}).encode(), {}),  # wrapped array
        ("application/x-ndjson", gzip.compress(ndjson(RECORDS)), {"Content-Encoding": "gzip"}),
        ("application/gzip", gzip.compress(ndjson(RECORDS)), {}),  # gzip file of NDJSON
    ],
)
def test_every_format_lands(app, client, shop, content_type, body, extra):
    tenant, headers = shop
    response = post(client, headers, body, content_type, **extra)
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["rows_received"], result["rows_inserted"], result["rows_failed"]) == (5, 5, 0)
    assert len(result["batch_ids"]) == 1 and result["processing_ms"] >= 0
    assert landed_ids(app, tenant) == [f"c{i}" for i in range(5)]


@pytest.mark.parametrize("filename", ["customers.ndjson", "customers.ndjson.gz", "customers.json"])
def test_multipart_file_upload(app, client, shop, filename):
    tenant, headers = shop
    data = json.dumps(RECORDS).encode() if filename.endswith(".json") else ndjson(RECORDS)
    data = gzip.compress(data) if filename.endswith(".gz") else data
    response = client.post(
        "/api/v1/ingest/customer/",
        headers=headers,
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rows_inserted"] == 5
    assert len(landed_ids(app, tenant)) == 5


def test_good_rows_land_and_each_bad_row_is_reported(app, client, shop):
    tenant, headers = shop
    rows = [
        customer(1),
        customer(2, email=7),
        customer(3),
        customer(4, created_at="yesterday"),
        {"id": "c5"},
        customer(6, shoe_size=44),
    ]
    body = ndjson(rows) + b"{not json\n" + b'{"id": "\xff\xfe"}\n'
    result = post(client, headers, body).get_json()
    assert result["rows_received"] == 8
    assert result["rows_inserted"] == 2 and result["rows_failed"] == 6
    errors = {(e["row"], e["field"]) for e in result["errors"]}
    assert {(2, "email"), (4, "created_at"), (6, "shoe_size")} <= errors
    assert {e["row"] for e in result["errors"]} == {2, 4, 5, 6, 7, 8}
    assert landed_ids(app, tenant) == ["c1", "c3"]


def test_all_rows_invalid_is_422_with_the_report(client, shop):
    _tenant, headers = shop
    response = post(client, headers, ndjson([{"id": 1}, {"id": 2}]))
    assert response.status_code == 422
    assert response.get_json()["rows_failed"] == 2


def test_replay_with_same_key_returns_first_response_and_lands_nothing(app, client, shop):
    tenant, headers = shop
    first = post(client, headers, ndjson(RECORDS), **{"Idempotency-Key": "push-1"})
    files = sorted(app.config["SHOPLAKE"].lake_root.rglob("*.parquet"))
    again = post(client, headers, ndjson(RECORDS), **{"Idempotency-Key": "push-1"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert sorted(app.config["SHOPLAKE"].lake_root.rglob("*.parquet")) == files
    assert landed_ids(app, tenant) == [f"c{i}" for i in range(5)]


def test_same_key_with_a_different_body_is_refused(client, shop):
    _tenant, headers = shop
    post(client, headers, ndjson(RECORDS), **{"Idempotency-Key": "push-2"})
    response = post(client, headers, ndjson(RECORDS[:2]), **{"Idempotency-Key": "push-2"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "Idempotency-Key"


def test_keys_are_per_tenant(app, client, make, shop):
    tenant, headers = shop
    other = make.tenant("other")
    post(client, headers, ndjson(RECORDS), **{"Idempotency-Key": "shared"})
    response = post(
        client,
        make.key_headers(other, "ingest"),
        ndjson(RECORDS[:1]),
        **{"Idempotency-Key": "shared"},
    )
    assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    assert landed_ids(app, other) == ["c0"]


def test_a_key_never_writes_into_another_tenant(app, client, make, shop):
    tenant, headers = shop
    victim = make.tenant("victim")
    for extra in ({"X-Tenant-ID": str(victim.id)}, {"X-Tenant-ID": "victim"}):
        assert post(client, headers, ndjson(RECORDS), **extra).status_code == 403
    assert (
        client.post(
            f"/api/v1/tenants/{victim.id}/ingest/customer/",
            data=ndjson(RECORDS),
            headers={**headers, "Content-Type": "application/x-ndjson"},
        ).status_code
        == 403
    )
    smuggled = post(client, headers, ndjson([customer(9, tenant_id=victim.id)])).get_json()
    assert smuggled["rows_failed"] == 1 and smuggled["errors"][0]["field"] == "tenant_id"
    assert landed_ids(app, victim) == []
    assert not (
        app.config["SHOPLAKE"].lake_root / "raw" / "customers" / f"tenant_id={victim.id}"
    ).exists()


def test_a_key_without_ingest_scope_is_refused(client, make):
    tenant = make.tenant()
    response = post(client, make.key_headers(tenant, "read"), ndjson(RECORDS))
    assert response.status_code == 403


def test_unknown_entity_is_404(client, shop):
    _tenant, headers = shop
    assert post(client, headers, ndjson(RECORDS), entity="spaceship").status_code == 404


def test_unsupported_content_type_is_415(client, shop):
    _tenant, headers = shop
    response = post(client, headers, b"id,email\n1,a@b.c\n", content_type="text/csv")
    assert response.status_code == 415


def test_orders_land_with_their_items(app, client, shop):
    tenant, headers = shop
    order = {
        "id": "o1",
        "order_number": "1001",
        "customer_id": "c1",
        "status": "paid",
        "currency": "EUR",
        "subtotal_minor": 2500,
        "discount_minor": 500,
        "tax_minor": 380,
        "shipping_minor": 490,
        "total_minor": 2870,
        "created_at": TS,
        "updated_at": TS,
        "items": [
            {
                "product_id": "p1",
                "sku": "S1",
                "name": "Mug",
                "quantity": 2,
                "unit_price_minor": 1000,
            },
            {
                "product_id": "p2",
                "sku": "S2",
                "name": "Tea",
                "quantity": 1,
                "unit_price_minor": 600,
                "discount_minor": 100,
            },
        ],
    }
    result = post(client, headers, ndjson([order]), entity="order").get_json()
    assert result["rows_inserted"] == 1, result
    lake = app.config["SHOPLAKE"].lake_root
    items = read_table(lake, "order_items", tenant.id).to_pylist()
    assert sorted((i["order_id"], i["line_number"], i["quantity"]) for i in items) == [
        ("o1", 1, 2),
        ("o1", 2, 1),
    ]


def test_retry_of_an_unfinished_request_with_another_body_is_refused(app, client, shop):
    tenant, headers = shop
    settings = app.config["SHOPLAKE"]
    # The first attempt landed its batch but died before its key was marked finished.
    idempotency.start(app.extensions["shoplake.sessions"], tenant.id, "ingest:customer", "k")
    spec = IngestSpec(
        settings.lake_root,
        tenant.id,
        "customer",
        "ndjson",
        False,
        "k",
        "api",
        settings.max_ingest_bytes,
    )
    ingest(spec, [ndjson(RECORDS)])
    conflict = post(client, headers, ndjson(RECORDS[:2]), **{"Idempotency-Key": "k"})
    assert conflict.status_code == 409
    assert conflict.get_json()["errors"][0]["field"] == "Idempotency-Key"
    same = post(client, headers, ndjson(RECORDS), **{"Idempotency-Key": "k"})
    assert same.status_code == 200 and same.get_json()["rows_inserted"] == 5
    assert landed_ids(app, tenant) == [f"c{i}" for i in range(5)]

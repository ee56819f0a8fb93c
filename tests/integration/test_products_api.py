"""Products CRUD over HTTP: every route, SKU uniqueness, bulk, idempotency, access, isolation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from warehouse.controldb.models import Role
from warehouse.entities import reader

URL = "/api/v1/products/"


@pytest.fixture
def shop(make):
    tenant = make.tenant("acme", currency="EUR")
    return tenant, make.key_headers(tenant, "read", "write")


def new(client, headers, **fields):
    body = {"sku": "SKU-1", "name": "Mug", "price_minor": 1250, **fields}
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def errors(response) -> dict[str, str]:
    assert response.mimetype == "application/problem+json"
    return {e["field"]: e["reason"] for e in response.get_json()["errors"]}


def test_create_fills_server_fields_and_reads_back(client, shop):
    _tenant, headers = shop
    before = datetime.now(UTC)
    created = new(client, headers)
    assert created["id"].startswith("prod_") and created["currency"] == "EUR"  # tenant's
    assert (created["stock_quantity"], created["min_stock_level"], created["is_active"]) == (
        0, 0, True,
    )  # fmt: skip
    assert created["variants"] == [] and created["tags"] == [] and created["images"] == []
    stamped = datetime.fromisoformat(created["created_at"])
    assert created["updated_at"] == created["created_at"] and before <= stamped
    shown = client.get(f"{URL}{created['id']}/", headers=headers)
    assert shown.status_code == 200 and shown.get_json() == created


def test_create_with_own_id_variants_and_timestamps(client, shop):
    _tenant, headers = shop
    variants = [{"id": "v1", "sku": "MUG-RED", "attributes": {"color": "red"}, "price_minor": 1300}]
    stamp = "2026-01-02T03:04:05+01:00"
    created = new(client, headers, id="mug", variants=variants, currency="USD",
                  created_at=stamp, updated_at=stamp)  # fmt: skip
    assert created["id"] == "mug" and created["currency"] == "USD"
    assert created["variants"] == [{**variants[0], "name": None, "stock_quantity": None}]
    assert created["created_at"] == "2026-01-02T02:04:05Z"
    assert client.post(URL, json={"id": "mug", "sku": "X", "name": "n", "price_minor": 1},
                       headers=headers).status_code == 409  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"price_minor": -1}, "price_minor"),  # the contract's rule
        ({"currency": "eur"}, "currency"),  # ISO 4217, upper case
        ({"price_minor": "5"}, "price_minor"),  # no coercion
        ({"colour": "red"}, "colour"),  # unknown field
        ({"created_at": "yesterday"}, "created_at"),
        ({"variants": [{"id": "v", "sku": "SKU-1"}]}, "variants.0.sku"),  # repeats its own SKU
    ],
)
def test_create_refuses_invalid_records(client, shop, fields, field):
    _tenant, headers = shop
    response = client.post(URL, json={"sku": "SKU-1", "name": "Mug", "price_minor": 1, **fields},
                           headers=headers)  # fmt: skip
    assert response.status_code == 422 and field in errors(response)
    assert client.get(URL, headers=headers).get_json()["data"] == []


def test_skus_are_unique_in_the_tenant_including_variants(client, make, shop):
    _tenant, headers = shop
    first = new(client, headers, sku="A", variants=[{"id": "v", "sku": "A-RED"}])
    clash = client.post(URL, json={"sku": "A", "name": "n", "price_minor": 1}, headers=headers)
    assert clash.status_code == 409 and first["id"] in errors(clash)["sku"]
    variant_clash = client.post(
        URL,
        json={"sku": "B", "name": "n", "price_minor": 1, "variants": [{"id": "x", "sku": "A-RED"}]},
        headers=headers,
    )
    assert variant_clash.status_code == 409 and "variants.0.sku" in errors(variant_clash)
    second = new(client, headers, sku="B")
    taking = client.patch(f"{URL}{second['id']}/", json={"sku": "A-RED"}, headers=headers)
    assert taking.status_code == 409
    assert client.delete(f"{URL}{first['id']}/", headers=headers).status_code == 204
    assert client.patch(f"{URL}{second['id']}/", json={"sku": "A-RED"},
                        headers=headers).status_code == 200  # fmt: skip
    other = make.tenant("other")
    new(client, make.key_headers(other, "read", "write"), sku="A-RED")  # per tenant only


def test_replace_keeps_created_at_and_moves_updated_at(client, shop):
    _tenant, headers = shop
    created = new(client, headers, description="old", tags=["a"])
    url = f"{URL}{created['id']}/"
    replaced = client.put(url, json={"sku": "SKU-1", "name": "Cup", "price_minor": 900},
                          headers=headers)  # fmt: skip
    body = replaced.get_json()
    assert replaced.status_code == 200 and body["name"] == "Cup" and body["price_minor"] == 900
    assert body["description"] is None and body["tags"] == []  # full replace
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"] > created["updated_at"]  # same format and zone: text order
    assert client.get(url, headers=headers).get_json() == body
    mismatch = client.put(url, json={"id": "else", "sku": "S", "name": "n", "price_minor": 1},
                          headers=headers)  # fmt: skip
    assert mismatch.status_code == 422 and "id" in errors(mismatch)
    missing = client.put(f"{URL}nope/", json={"sku": "S", "name": "n", "price_minor": 1},
                         headers=headers)  # fmt: skip
    assert missing.status_code == 404


def test_patch_merges_fields(client, shop):
    _tenant, headers = shop
    created = new(client, headers, description="d", category="Kitchen",
                  variants=[{"id": "v1", "sku": "V1"}, {"id": "v2", "sku": "V2"}])  # fmt: skip
    url = f"{URL}{created['id']}/"
    patch = {"name": "Big mug", "description": None, "variants": [{"id": "v3", "sku": "V3"}]}
    patched = client.patch(url, json=patch, headers=headers)
    body = patched.get_json()
    assert patched.status_code == 200
    assert (body["name"], body["description"], body["category"]) == ("Big mug", None, "Kitchen")
    assert [v["sku"] for v in body["variants"]] == ["V3"]
    assert client.get(url, headers=headers).get_json() == body
    assert new(client, headers, sku="V1")  # the dropped variant SKU is free again
    assert client.patch(f"{URL}nope/", json={"name": "x"}, headers=headers).status_code == 404
    renamed = client.patch(url, json={"id": "other"}, headers=headers)
    assert renamed.status_code == 422 and "id" in errors(renamed)
    cleared = client.patch(url, json={"sku": None}, headers=headers)
    assert cleared.status_code == 422 and errors(cleared)["sku"] == "required"


def test_delete(client, shop):
    _tenant, headers = shop
    created = new(client, headers)
    url = f"{URL}{created['id']}/"
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    assert client.get(URL, headers=headers).get_json()["data"] == []


def test_list_filters_sort_and_cursor_pages(client, shop):
    _tenant, headers = shop
    items = [
        {"id": f"p{i}", "sku": f"S{i}", "name": f"{'Tea' if i % 2 else 'Coffee'} {i}",
         "price_minor": 100 * (i % 3), "category": "Cups" if i < 4 else "Pots",
         "is_active": i != 5, "tags": ["new"] if i > 4 else []}
        for i in range(1, 8)
    ]  # fmt: skip
    bulk = client.post(f"{URL}bulk/", json={"create": items}, headers=headers)
    assert bulk.get_json()["succeeded"] == 7

    def ids(query: str) -> list[str]:
        found, url = [], f"{URL}?limit=2&{query}"
        while url:
            page = client.get(url, headers=headers).get_json()
            found += [p["id"] for p in page["data"]]
            url = page["next_cursor"] and f"{URL}?limit=2&{query}&cursor={page['next_cursor']}"
        return found

    # Descending sorts order ties by id descending too (the whole key is reversed).
    by_price = sorted(items, key=lambda p: (p["price_minor"], p["id"]), reverse=True)
    assert ids("sort=-price_minor") == [p["id"] for p in by_price]
    assert ids("category=Pots&is_active=true") == ["p4", "p6", "p7"]
    assert ids("q=tea&sort=-id") == ["p7", "p5", "p3", "p1"]
    assert ids("tag=new&min_price_minor=100") == [
        p["id"] for p in items if "new" in p["tags"] and p["price_minor"] >= 100
    ]
    assert ids("sku=S3") == ["p3"] and ids("id=p2&id=p6&id=zz") == ["p2", "p6"]
    first = client.get(f"{URL}?limit=2&sort=name", headers=headers).get_json()
    tampered = client.get(f"{URL}?cursor={first['next_cursor']}x&sort=name", headers=headers)
    assert tampered.status_code == 400 and "cursor" in errors(tampered)
    other_sort = client.get(f"{URL}?cursor={first['next_cursor']}&sort=sku", headers=headers)
    assert other_sort.status_code == 400  # a cursor is signed for its listing and sort
    assert client.get(f"{URL}?sort=cost_minor", headers=headers).status_code == 422


def test_bulk_reports_each_item(client, shop):
    _tenant, headers = shop
    keep = new(client, headers, id="keep", sku="K")
    gone = new(client, headers, id="gone", sku="G")
    body = {
        "create": [
            {"id": "n1", "sku": "N1", "name": "new", "price_minor": 5},
            {"id": "n2", "sku": "N2", "name": "bad", "price_minor": -5},
            {"id": "n3", "sku": "K", "name": "clash", "price_minor": 5},
        ],
        "update": [{"id": keep["id"], "name": "renamed"}, {"id": "missing", "name": "x"}],
        "delete": [gone["id"], "missing-too"],
    }
    response = client.post(f"{URL}bulk/", json=body, headers=headers)
    result = response.get_json()
    assert response.status_code == 200 and (result["succeeded"], result["failed"]) == (3, 4)
    statuses = [(r["op"], r["index"], r["id"], r["status"]) for r in result["results"]]
    assert statuses == [
        ("create", 0, "n1", 201), ("create", 1, "n2", 422), ("create", 2, "n3", 409),
        ("update", 0, "keep", 200), ("update", 1, "missing", 404),
        ("delete", 0, "gone", 204), ("delete", 1, "missing-too", 404),
    ]  # fmt: skip
    assert result["results"][1]["errors"][0]["field"] == "price_minor"
    listed = client.get(URL, headers=headers).get_json()["data"]
    assert {p["id"]: p["name"] for p in listed} == {"keep": "renamed", "n1": "new"}
    too_many = {"delete": [f"x{i}" for i in range(1001)]}
    assert client.post(f"{URL}bulk/", json=too_many, headers=headers).status_code == 422
    assert client.post(f"{URL}bulk/", json={}, headers=headers).status_code == 422


def test_idempotency_key_replays_the_first_answer(client, shop):
    _tenant, headers = shop
    keyed = {**headers, "Idempotency-Key": "create-mug-1"}
    first = client.post(URL, json={"sku": "M", "name": "Mug", "price_minor": 1}, headers=keyed)
    again = client.post(URL, json={"sku": "M", "name": "Mug", "price_minor": 1}, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get(URL, headers=headers).get_json()["data"]) == 1
    changed = client.post(URL, json={"sku": "M", "name": "Cup", "price_minor": 1}, headers=keyed)
    assert changed.status_code == 422 and "Idempotency-Key" in errors(changed)
    blank = client.post(URL, json={"sku": "Z", "name": "n", "price_minor": 1},
                        headers={**headers, "Idempotency-Key": " "})  # fmt: skip
    assert blank.status_code == 400


def test_a_retry_after_landing_finds_its_record(app, client, shop, monkeypatch):
    """The process died after landing, before the answer was stored: the retry lands nothing."""
    _tenant, headers = shop
    keyed = {**headers, "Idempotency-Key": "crash-1"}
    from ingestion import idempotency

    monkeypatch.setattr(idempotency, "finish", lambda *args, **kwargs: None)
    first = client.post(URL, json={"sku": "C", "name": "n", "price_minor": 1}, headers=keyed)
    again = client.post(URL, json={"sku": "C", "name": "n", "price_minor": 1}, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert len(client.get(URL, headers=headers).get_json()["data"]) == 1


def test_a_bulk_retry_after_landing_reports_what_landed(client, shop, monkeypatch):
    _tenant, headers = shop
    new(client, headers, id="old", sku="OLD")
    keyed = {**headers, "Idempotency-Key": "bulk-crash-1"}
    from ingestion import idempotency

    monkeypatch.setattr(idempotency, "finish", lambda *args, **kwargs: None)
    body = {"create": [{"id": "b1", "sku": "B1", "name": "n", "price_minor": 1},
                       {"id": "b2", "sku": "B2", "name": "n", "price_minor": -1}],
            "delete": ["old"]}  # fmt: skip
    first = client.post(f"{URL}bulk/", json=body, headers=keyed).get_json()
    again = client.post(f"{URL}bulk/", json=body, headers=keyed).get_json()
    assert [r["status"] for r in first["results"]] == [201, 422, 204]
    # What landed is reported as done; what did not is not applied now either.
    assert [r["status"] for r in again["results"]] == [201, 409, 204]
    assert [p["id"] for p in client.get(URL, headers=headers).get_json()["data"]] == ["b1"]


def test_access_is_checked(client, make, shop):
    tenant, _headers = shop
    created = new(client, make.key_headers(tenant, "read", "write"))
    reader_key = make.key_headers(tenant, "read")
    assert client.get(URL, headers=reader_key).status_code == 200
    assert client.post(URL, json={"sku": "S", "name": "n", "price_minor": 1},
                       headers=reader_key).status_code == 403  # fmt: skip
    assert client.delete(f"{URL}{created['id']}/", headers=reader_key).status_code == 403
    assert client.get(URL).status_code == 401
    viewer = make.user(tenant=tenant, role=Role.VIEWER)
    assert client.get(URL, headers=make.bearer(viewer, tenant)).status_code == 403
    manager = make.user(tenant=tenant, role=Role.MANAGER)
    assert client.patch(f"{URL}{created['id']}/", json={"name": "m"},
                        headers=make.bearer(manager, tenant)).status_code == 200  # fmt: skip


def test_another_tenant_cannot_read_or_change_a_product(app, client, make, shop, monkeypatch):
    tenant_a, headers_a = shop
    created = new(client, headers_a, id="secret")
    tenant_b = make.tenant("rival")
    headers_b = make.key_headers(tenant_b, "read", "write")
    new(client, headers_b, id="own", sku="OWN")
    statements: list[tuple[str, dict]] = []
    real_run = reader.run
    monkeypatch.setattr(
        reader, "run", lambda sql, params: statements.append((sql, params)) or real_run(sql, params)
    )
    url = f"{URL}secret/"
    assert client.get(url, headers=headers_b).status_code == 404
    assert client.put(url, json={"sku": "X", "name": "n", "price_minor": 1},
                      headers=headers_b).status_code == 404  # fmt: skip
    assert client.patch(url, json={"name": "stolen"}, headers=headers_b).status_code == 404
    assert client.delete(url, headers=headers_b).status_code == 404
    listed = client.get(f"{URL}?id=secret&id=own", headers=headers_b).get_json()["data"]
    assert [p["id"] for p in listed] == ["own"]
    # Taking A's SKU is fine in B: uniqueness is per tenant.
    assert client.post(URL, json={"sku": "SKU-1", "name": "n", "price_minor": 1},
                       headers=headers_b).status_code == 201  # fmt: skip
    paths = [p for _sql, params in statements for v in params.values() if isinstance(v, list)
             for p in v if "/" in p]  # fmt: skip
    assert paths and all(f"/tenant_id={tenant_b.id}/" in p for p in paths)
    assert not any("tenant_id=" in sql for sql, _params in statements)  # paths are parameters
    assert client.get(url, headers=headers_a).get_json() == created
    assert tenant_a.id != tenant_b.id


def test_tenant_path_form_and_legacy_alias(client, shop):
    tenant, headers = shop
    created = new(client, headers)
    scoped = client.get(f"/api/v1/tenants/{tenant.id}/products/{created['id']}/", headers=headers)
    assert scoped.status_code == 200 and scoped.get_json()["id"] == created["id"]
    assert client.get(f"/api/products/{created['id']}/", headers=headers).status_code == 200


def test_updated_at_strictly_increases_on_quick_updates(client, shop):
    _tenant, headers = shop
    created = new(client, headers)
    stamps = [datetime.fromisoformat(created["updated_at"])]
    for i in range(3):
        body = client.patch(f"{URL}{created['id']}/", json={"price_minor": i},
                            headers=headers).get_json()  # fmt: skip
        stamps.append(datetime.fromisoformat(body["updated_at"]))
    assert all(b - a >= timedelta(microseconds=1) for a, b in zip(stamps, stamps[1:], strict=False))


def test_concurrent_creates_of_one_sku_admit_exactly_one(app, shop):
    _tenant, headers = shop
    codes: list[int] = []

    def attempt(i: int) -> None:
        body = {"id": f"racer{i}", "sku": "RACE", "name": "n", "price_minor": 1}
        codes.append(app.test_client().post(URL, json=body, headers=headers).status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201, 409, 409, 409]
    listed = app.test_client().get(f"{URL}?sku=RACE", headers=headers).get_json()["data"]
    assert len(listed) == 1

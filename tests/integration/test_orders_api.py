"""Orders over HTTP: CRUD with items, the status machine and history, refunds, the tiny preset."""

from __future__ import annotations

import threading

import pyarrow.compute as pc
import pytest

from ingestion.generator import generate, tenant_definitions
from warehouse.controldb.models import Role
from warehouse.entities import reader
from warehouse.entities.sources import Store
from warehouse.lake import read_table

URL = "/api/v1/orders/"


@pytest.fixture
def shop(make):
    tenant = make.tenant("acme", currency="EUR")
    return tenant, make.key_headers(tenant, "read", "write")


def order_body(lines=((2, 500, 0), (1, 300, 100)), **fields):
    items = [
        {"product_id": f"p{n}", "sku": f"SKU-{n}", "name": f"Item {n}", "quantity": q,
         "unit_price_minor": price, "discount_minor": discount}
        for n, (q, price, discount) in enumerate(lines, start=1)
    ]  # fmt: skip
    subtotal = sum(q * price - discount for q, price, discount in lines)
    extra = fields.get("tax_minor", 0) + fields.get("shipping_minor", 0)
    body = {"order_number": "N-1", "status": "pending", "subtotal_minor": subtotal,
            "total_minor": subtotal + extra, "items": items}  # fmt: skip
    return {**body, **fields}


def new(client, headers, **fields):
    response = client.post(URL, json=order_body(**fields), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fields_of(response) -> dict[str, str]:
    assert response.mimetype == "application/problem+json", response.get_json()
    return {e["field"]: e["reason"] for e in response.get_json()["errors"]}


def status(client, headers, order_id, target):
    return client.post(f"{URL}{order_id}/update_status/", json={"status": target}, headers=headers)


def refund(client, headers, order_id, amount, **fields):
    body = {"amount_minor": amount, **fields}
    return client.post(f"{URL}{order_id}/create_refund/", json=body, headers=headers)


def test_create_with_items_and_read_back(client, shop):
    _tenant, headers = shop
    customer = client.post("/api/v1/customers/", json={"id": "c1", "email": "a@b.co"},
                           headers=headers).get_json()  # fmt: skip
    created = new(client, headers, customer_id=customer["id"],
                  payment={"provider": "stripe", "reference": "pi_1"})  # fmt: skip
    assert created["id"].startswith("ord_") and created["currency"] == "EUR"
    assert created["subtotal_minor"] == created["total_minor"] == 2 * 500 + 300 - 100
    assert [(i["line_number"], i["sku"]) for i in created["items"]] == [(1, "SKU-1"), (2, "SKU-2")]
    assert created["payment"] == {"provider": "stripe", "status": None, "reference": "pi_1"}
    assert client.get(f"{URL}{created['id']}/", headers=headers).get_json() == created


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subtotal_minor": 1}, "subtotal_minor"),  # not the sum of the lines
        ({"total_minor": 1}, "total_minor"),  # not subtotal - discount + tax + shipping
        ({"items": []}, "items"),  # at least one line
        ({"customer_id": "nobody"}, "customer_id"),  # must exist
        ({"status": "lost"}, "status"),
    ],
)
def test_create_refuses_invalid_orders(client, shop, change, field):
    _tenant, headers = shop
    response = client.post(URL, json={**order_body(), **change}, headers=headers)
    assert response.status_code == 422 and field in fields_of(response)


def test_patch_replaces_lines_and_put_replaces_the_order(client, shop):
    _tenant, headers = shop
    created = new(client, headers)
    url = f"{URL}{created['id']}/"
    one_line = order_body(lines=((3, 200, 0),))
    patch = {k: one_line[k] for k in ("items", "subtotal_minor", "total_minor")}
    patched = client.patch(url, json=patch, headers=headers).get_json()
    assert [(i["line_number"], i["quantity"]) for i in patched["items"]] == [(1, 3)]
    assert patched["total_minor"] == 600 and patched["order_number"] == "N-1"
    unbalanced = client.patch(url, json={"items": one_line["items"], "total_minor": 5},
                              headers=headers)  # fmt: skip
    assert unbalanced.status_code == 422
    replaced = client.put(url, json=order_body(order_number="N-2", tax_minor=19),
                          headers=headers).get_json()  # fmt: skip
    assert replaced["order_number"] == "N-2" and replaced["tax_minor"] == 19
    assert replaced["total_minor"] == 1200 + 19 and len(replaced["items"]) == 2
    assert client.get(url, headers=headers).get_json() == replaced
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    assert client.get(f"{url}status_history/", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("path", "target", "code"),
    [
        ((), "paid", 200),
        ((), "cancelled", 200),
        ((), "fulfilled", 409),  # must be paid first
        ((), "pending", 409),  # already pending
        (("paid",), "fulfilled", 200),
        (("paid",), "pending", 409),  # no way back
        (("paid",), "refunded", 409),  # only through create_refund
        (("cancelled",), "paid", 409),  # final
        (("paid", "fulfilled"), "cancelled", 409),
    ],
)
def test_update_status_follows_the_state_machine(client, shop, path, target, code):
    _tenant, headers = shop
    order_id = new(client, headers)["id"]
    for step in path:
        assert status(client, headers, order_id, step).status_code == 200
    response = status(client, headers, order_id, target)
    assert response.status_code == code
    if code == 200:
        assert response.get_json()["status"] == target
    else:
        assert "status" in fields_of(response)
    expected = target if code == 200 else (path[-1] if path else "pending")
    assert client.get(f"{URL}{order_id}/", headers=headers).get_json()["status"] == expected


def test_patch_status_changes_follow_the_machine_too(client, shop):
    _tenant, headers = shop
    url = f"{URL}{new(client, headers)['id']}/"
    assert client.patch(url, json={"status": "fulfilled"}, headers=headers).status_code == 409
    assert client.patch(url, json={"status": "paid"}, headers=headers).status_code == 200
    assert client.patch(url, json={"status": "paid", "order_number": "N-9"},
                        headers=headers).status_code == 200  # same status: an edit  # fmt: skip


def test_status_history_reads_every_change(client, shop):
    _tenant, headers = shop
    order_id = new(client, headers)["id"]
    status(client, headers, order_id, "paid")
    client.patch(f"{URL}{order_id}/", json={"order_number": "N-7"}, headers=headers)
    status(client, headers, order_id, "fulfilled")
    refund(client, headers, order_id, 100)
    history = client.get(f"{URL}{order_id}/status_history/", headers=headers).get_json()
    assert history["order_id"] == order_id
    assert [h["status"] for h in history["data"]] == [
        "pending", "paid", "fulfilled", "partially_refunded",
    ]  # fmt: skip
    assert all(h["source"] == "crud" for h in history["data"])
    times = [h["recorded_at"] for h in history["data"]]
    assert times == sorted(times)
    assert client.get(f"{URL}nope/status_history/", headers=headers).status_code == 404


def test_refunds_never_exceed_what_is_left(app, client, shop):
    tenant, headers = shop
    order_id = new(client, headers)["id"]  # total 1200
    assert refund(client, headers, order_id, 100).status_code == 409  # pending: not refundable
    status(client, headers, order_id, "paid")
    first = refund(client, headers, order_id, 500, reason="damaged")
    body = first.get_json()
    assert first.status_code == 201 and body["order"]["status"] == "partially_refunded"
    assert body["refund"]["amount_minor"] == 500 and body["refund"]["currency"] == "EUR"
    assert body["refund"]["status"] == "succeeded" and body["refund"]["reason"] == "damaged"
    pending = refund(client, headers, order_id, 200, status="pending").get_json()
    assert pending["order"]["status"] == "partially_refunded"  # only succeeded ones count
    too_much = refund(client, headers, order_id, 701)
    assert too_much.status_code == 422 and "(700)" in fields_of(too_much)["amount_minor"]
    wrong_currency = refund(client, headers, order_id, 1, currency="USD")
    assert wrong_currency.status_code == 422 and "currency" in fields_of(wrong_currency)
    rest = refund(client, headers, order_id, 700)
    assert rest.status_code == 201 and rest.get_json()["order"]["status"] == "refunded"
    assert refund(client, headers, order_id, 1).status_code == 409  # refunded is final
    assert refund(client, headers, "nope", 1).status_code == 404
    settings = app.config["SHOPLAKE"]
    store = Store(settings.lake_root, settings.var_dir, tenant.id)
    landed = reader.select(store, "refunds", lambda q: "select * from refunds")
    assert sorted((r["amount_minor"], r["status"]) for r in landed) == [
        (200, "pending"), (500, "succeeded"), (700, "succeeded"),
    ]  # fmt: skip


def test_refund_ids_and_keys(client, make, shop):
    tenant, headers = shop
    order_id = new(client, headers, status="paid")["id"]
    keyed = {**headers, "Idempotency-Key": "refund-1"}
    first = refund(client, keyed, order_id, 100)
    again = refund(client, keyed, order_id, 100)
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["order"]["status"] == "partially_refunded"
    own_id = refund(client, headers, order_id, 100, id="r-own")
    assert own_id.status_code == 201 and own_id.get_json()["refund"]["id"] == "r-own"
    assert refund(client, headers, order_id, 100, id="r-own").status_code == 409
    analyst = make.user(tenant=tenant, role=Role.ANALYST)
    assert refund(client, make.bearer(analyst, tenant), order_id, 1).status_code == 403


def test_concurrent_refunds_cannot_overdraw(app, shop):
    _tenant, headers = shop
    order_id = new(app.test_client(), headers, status="paid")["id"]  # total 1200
    codes: list[int] = []

    def attempt() -> None:
        codes.append(refund(app.test_client(), headers, order_id, 500).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201, 201, 422, 422]  # 500 + 500 <= 1200 < 1500


def test_list_filters_and_sorts(client, shop):
    _tenant, headers = shop
    client.post("/api/v1/customers/", json={"id": "c1", "email": "a@b.co"}, headers=headers)
    specs = [("pending", None, "2026-01-01"), ("paid", "c1", "2026-01-02"),
             ("paid", None, "2026-01-03"), ("cancelled", "c1", "2026-01-04")]  # fmt: skip
    made = [
        new(client, headers, id=f"o{i}", status=state, customer_id=customer,
            created_at=f"{day}T00:00:00Z", shipping_minor=i * 10)
        for i, (state, customer, day) in enumerate(specs)
    ]  # fmt: skip

    def ids(query: str) -> list[str]:
        found, url = [], f"{URL}?limit=1&{query}"
        while url:
            page = client.get(url, headers=headers).get_json()
            found += [o["id"] for o in page["data"]]
            url = page["next_cursor"] and f"{URL}?limit=1&{query}&cursor={page['next_cursor']}"
        return found

    assert ids("") == ["o3", "o2", "o1", "o0"]  # newest first by default
    assert ids("status=paid&status=cancelled&sort=id") == ["o1", "o2", "o3"]
    assert ids("customer_id=c1&sort=created_at") == ["o1", "o3"]
    assert ids("created_after=2026-01-02T00:00:00Z&created_before=2026-01-04T00:00:00Z") == [
        "o2", "o1",
    ]  # fmt: skip
    totals = {o["id"]: o["total_minor"] for o in made}
    assert ids("min_total_minor=1210&max_total_minor=1220&sort=total_minor") == [
        i for i in sorted(totals, key=totals.get) if 1210 <= totals[i] <= 1220
    ]
    page = client.get(f"{URL}?status=paid&sort=id", headers=headers).get_json()
    assert [len(o["items"]) for o in page["data"]] == [2, 2]
    assert client.get(f"{URL}?status=lost", headers=headers).status_code == 422


def test_bulk_orders(client, shop):
    _tenant, headers = shop
    new(client, headers, id="keep")
    body = {
        "create": [order_body(id="a"), order_body(id="b", total_minor=1)],
        "update": [{"id": "keep", "status": "paid"}],
        "delete": ["keep-not"],
    }
    result = client.post(f"{URL}bulk/", json=body, headers=headers).get_json()
    assert [r["status"] for r in result["results"]] == [201, 422, 200, 404]
    listed = {o["id"]: o["status"] for o in client.get(URL, headers=headers).get_json()["data"]}
    assert listed == {"a": "pending", "keep": "paid"}


def test_another_tenant_cannot_act_on_an_order(client, make, shop):
    _tenant, headers = shop
    order_id = new(client, headers, id="o-a", status="paid")["id"]
    rival = make.tenant("rival")
    rival_headers = make.key_headers(rival, "read", "write")
    assert status(client, rival_headers, order_id, "fulfilled").status_code == 404
    assert refund(client, rival_headers, order_id, 1).status_code == 404
    assert client.get(f"{URL}{order_id}/status_history/", headers=rival_headers).status_code == 404
    assert client.get(f"{URL}{order_id}/", headers=rival_headers).status_code == 404
    shown = client.get(f"{URL}{order_id}/", headers=headers).get_json()
    assert shown["status"] == "paid"


@pytest.fixture
def tiny(make, app):
    """The tiny preset landed in this app's lake for its first two shops: (lake, tenants)."""
    lake = app.config["SHOPLAKE"].lake_root
    tenants = [make.tenant(t.slug, currency=t.currency) for t in tenant_definitions("tiny", 2)]
    ids = {t.slug: t.id for t in tenants}
    generate("tiny", lake, fmt="parquet", tenant_ids=ids, tenants=2, progress=False)
    return lake, tenants


def test_tiny_preset_listing_matches_the_raw_records(client, make, tiny):
    lake, (tenant, _other) = tiny
    raw = read_table(lake, "orders", tenant.id, columns=["id", "status", "created_at"])
    pairs = zip(raw["created_at"].to_pylist(), raw["id"].to_pylist(), strict=True)
    expected = [order_id for _created, order_id in sorted(pairs, reverse=True)]
    headers = make.key_headers(tenant, "read")
    seen, url = [], f"{URL}?limit=120"
    while url:
        page = client.get(url, headers=headers).get_json()
        seen += [o["id"] for o in page["data"]]
        url = page["next_cursor"] and f"{URL}?limit=120&cursor={page['next_cursor']}"
    assert seen == expected and len(seen) == 300
    paid = raw.filter(pc.equal(raw["status"], "paid"))
    listed = client.get(f"{URL}?status=paid&limit=1000", headers=headers).get_json()["data"]
    assert sorted(o["id"] for o in listed) == sorted(paid["id"].to_pylist())
    items = read_table(lake, "order_items", tenant.id, columns=["order_id"])
    in_paid = pc.sum(pc.is_in(items["order_id"], paid["id"])).as_py()
    assert sum(len(o["items"]) for o in listed) == in_paid

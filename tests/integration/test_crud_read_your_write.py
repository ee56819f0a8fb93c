"""Read-your-write: every CRUD write is visible on the very next GET, before and after a build.

Three bases are exercised: the raw zone alone (nothing built yet), the lake's compacted current
state, and a published mart snapshot (a stand-in build with the dbt marts' names and types).
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from tests.entities_support import publish_stand_in
from warehouse.entities.sources import Store, resolve
from warehouse.entities.specs import CUSTOMERS, ORDERS, PRODUCTS, family
from warehouse.lake import compact
from warehouse.publish import current_snapshot, mart_glob


@pytest.fixture
def shop(make, app):
    tenant = make.tenant("acme", currency="EUR")
    settings = app.config["SHOPLAKE"]
    store = Store(settings.lake_root, settings.var_dir, tenant.id)
    return store, make.key_headers(tenant, "read", "write")


def order(order_id: str, quantity: int = 1) -> dict:
    return {
        "id": order_id, "order_number": order_id, "status": "pending", "customer_id": "c1",
        "subtotal_minor": 300 * quantity, "total_minor": 300 * quantity,
        "items": [{"product_id": "p1", "sku": "P1", "name": "Tea", "quantity": quantity,
                   "unit_price_minor": 300}],
    }  # fmt: skip


def seed(client, headers) -> None:
    for url, body in [
        ("/api/v1/products/", {"id": "p1", "sku": "P1", "name": "Tea", "price_minor": 300}),
        ("/api/v1/customers/", {"id": "c1", "email": "c1@example.com"}),
        ("/api/v1/orders/", order("o1")),
    ]:
        assert client.post(url, json=body, headers=headers).status_code == 201


def round_trip(client, headers, suffix: str) -> None:
    """Create, update and delete one record of each resource, reading after every write."""
    cases = [
        ("/api/v1/products/", {"id": f"p-{suffix}", "sku": f"S-{suffix}", "name": "New",
                               "price_minor": 1}, {"name": "Changed"}),
        ("/api/v1/customers/", {"id": f"c-{suffix}", "email": f"{suffix}@example.com"},
         {"first_name": "Changed"}),
        ("/api/v1/orders/", order(f"o-{suffix}"), {"order_number": "Changed"}),
    ]  # fmt: skip
    for url, body, patch in cases:
        record_url = f"{url}{body['id']}/"
        created = client.post(url, json=body, headers=headers).get_json()
        assert client.get(record_url, headers=headers).get_json() == created
        assert body["id"] in listed(client, headers, url)
        updated = client.patch(record_url, json=patch, headers=headers).get_json()
        assert client.get(record_url, headers=headers).get_json() == updated
        assert all(updated[k] == v for k, v in patch.items())
        assert client.delete(record_url, headers=headers).status_code == 204
        assert client.get(record_url, headers=headers).status_code == 404
        assert body["id"] not in listed(client, headers, url)


def listed(client, headers, url) -> list[str]:
    return [r["id"] for r in client.get(f"{url}?limit=1000", headers=headers).get_json()["data"]]


def kinds(store: Store) -> dict[str, str]:
    return {
        spec.name: resolve(store, family(spec))[spec.name].kind
        for spec in (PRODUCTS, CUSTOMERS, ORDERS)
    }


def change_seeded_records(client, headers) -> None:
    """Change records that the base already holds: the tail must win over it."""
    product = client.patch("/api/v1/products/p1/", json={"name": "Green tea"}, headers=headers)
    assert product.get_json()["name"] == "Green tea"
    assert client.get("/api/v1/products/p1/", headers=headers).get_json()["name"] == "Green tea"
    paid = client.post("/api/v1/orders/o1/update_status/", json={"status": "paid"},
                       headers=headers)  # fmt: skip
    assert paid.status_code == 200
    shown = client.get("/api/v1/orders/o1/", headers=headers).get_json()
    assert shown["status"] == "paid" and len(shown["items"]) == 1
    assert client.delete("/api/v1/customers/c1/", headers=headers).status_code == 204
    assert client.get("/api/v1/customers/c1/", headers=headers).status_code == 404


def test_before_any_build(client, shop):
    store, headers = shop
    seed(client, headers)
    assert set(kinds(store).values()) == {"raw"}
    round_trip(client, headers, "raw")
    change_seeded_records(client, headers)


def test_over_the_compacted_current_state(client, shop):
    store, headers = shop
    seed(client, headers)
    compact(store.lake_root, min_files=1)
    assert set(kinds(store).values()) == {"current"}
    round_trip(client, headers, "current")
    change_seeded_records(client, headers)


def test_over_a_published_snapshot(client, shop):
    store, headers = shop
    seed(client, headers)
    publish_stand_in(store.lake_root, store.var_dir)
    assert set(kinds(store).values()) == {"snapshot"}
    round_trip(client, headers, "snapshot")
    change_seeded_records(client, headers)
    # The snapshot itself still holds the old versions: the answers came from the raw tail.
    snapshot = current_snapshot(store.var_dir)
    table = pq.read_table(mart_glob(snapshot, "dim_products", store.tenant_id).rsplit("/", 1)[0])
    assert table.column("product_name").to_pylist() == ["Tea"]


def test_with_the_marts_as_dbt_builds_them_today(client, shop):
    """dim_products has no stock_quantity and fct_orders no payment: those read the lake."""
    store, headers = shop
    seed(client, headers)
    publish_stand_in(
        store.lake_root,
        store.var_dir,
        drop={"dim_products": ["stock_quantity"], "fct_orders": ["payment_provider"]},
    )
    assert kinds(store) == {"products": "raw", "customers": "snapshot", "orders": "raw"}
    round_trip(client, headers, "dbt")
    assert client.get("/api/v1/products/p1/", headers=headers).get_json()["stock_quantity"] == 0

"""A payment made and refunded through the API reaches the marts after a build."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from pipelines.build import run_build
from tests.stripe_standin import Shop, StripeStandin, event
from warehouse.publish import mart_glob

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def standin():
    with StripeStandin() as server:
        yield server


@pytest.fixture
def settings(settings, standin):
    return settings.replace(stripe_api_base=standin.url, stripe_max_network_retries=0)


def mart(snapshot, name: str, tenant_id: int, columns: str) -> list[tuple]:
    glob = mart_glob(snapshot, name, tenant_id)
    return duckdb.sql(f"select {columns} from read_parquet('{glob}') order by all").fetchall()


def test_payment_and_refunds_made_through_the_api_appear_in_the_marts(
    client, make, standin, settings
):
    shop = Shop(client, make, standin)
    product = {
        "id": "p1", "sku": "S1", "name": "Shirt", "price_minor": 3000, "currency": "USD",
        "created_at": "2024-05-01T09:00:00Z", "updated_at": "2024-05-01T09:00:00Z",
    }  # fmt: skip
    customer = {
        "id": "c1", "email": "ada@example.com",
        "created_at": "2024-05-01T09:00:00Z", "updated_at": "2024-05-01T09:00:00Z",
    }  # fmt: skip
    for entity, record in (("product", product), ("customer", customer)):
        landed = client.post(f"/api/v1/ingest/{entity}/", json=[record], headers=shop.headers)
        assert landed.status_code == 200
    shop.order(
        "o1", 3000, "USD", status="paid", customer_id="c1"
    )  # the tenant's currency: counts in sales
    paid = standin.pay(shop.intent("o1").get_json()["id"])
    shop.deliver(event("payment_intent.succeeded", paid))
    first = shop.refund(paid["id"], amount_minor=1200).get_json()
    second = shop.refund(paid["id"], amount_minor=300).get_json()
    result = run_build(settings, full_refresh=True, instance=dg.DagsterInstance.ephemeral())
    assert result.checks_failed == []
    tenant_id = shop.tenant.id
    refunds = mart(
        result.snapshot, "fct_refunds", tenant_id, "refund_id, order_id, amount_minor, is_succeeded"
    )
    assert refunds == sorted(
        [
            (first["provider_refund_id"], "o1", 1200, True),
            (second["provider_refund_id"], "o1", 300, True),
        ]
    )
    daily = mart(result.snapshot, "mart_sales_daily", tenant_id, "sum(refunds_minor)")
    assert daily == [(1500,)]

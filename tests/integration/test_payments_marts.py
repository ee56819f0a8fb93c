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


def mart(snapshot, name: str, tenant_id: int, columns: str, where: str = "true") -> list[tuple]:
    glob = mart_glob(snapshot, name, tenant_id)
    query = f"select {columns} from read_parquet('{glob}') where {where} order by all"
    return duckdb.sql(query).fetchall()


def ingest_catalogue(client, shop: Shop) -> None:
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


def pay(shop: Shop, standin: StripeStandin, order_id: str, total_minor: int) -> dict:
    """Ingest a paid order in the tenant's currency, take its payment; return the intent."""
    shop.order(order_id, total_minor, "USD", status="paid", customer_id="c1")
    paid = standin.pay(shop.intent(order_id).get_json()["id"])
    assert shop.deliver(event("payment_intent.succeeded", paid)).status_code == 200
    return paid


def test_payments_made_and_refunded_through_the_api_appear_in_the_marts(
    client, make, standin, settings
):
    # One build (the slow part) for every check: o1 paid then refunded in part twice, o2 paid
    # then refunded in full.
    shop = Shop(client, make, standin)
    ingest_catalogue(client, shop)
    o1, o2 = pay(shop, standin, "o1", 3000), pay(shop, standin, "o2", 2000)
    refunds = [shop.refund(o1["id"], amount_minor=amount).get_json() for amount in (1200, 300)]
    refunds.append(shop.refund(o2["id"]).get_json())  # no amount: all that is left
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_build(settings, full_refresh=True, instance=instance)
    assert result.checks_failed == []
    built = (shop.tenant.id, result.snapshot, {"o1": o1["id"], "o2": o2["id"]}, refunds)
    check_refunds_counted_once(built)
    check_stripe_payments(built)
    check_orders_money(built)


def check_refunds_counted_once(built) -> None:
    tenant_id, snapshot, _intents, (first, second, full) = built
    columns = "refund_id, order_id, amount_minor, is_succeeded"
    assert mart(snapshot, "fct_refunds", tenant_id, columns) == sorted(
        [
            (first["provider_refund_id"], "o1", 1200, True),
            (second["provider_refund_id"], "o1", 300, True),
            (full["provider_refund_id"], "o2", 2000, True),
        ]
    )
    # Counted once: the payments' own refunded totals are not added to the refund ledger.
    assert mart(snapshot, "mart_sales_daily", tenant_id, "sum(refunds_minor)") == [(3500,)]


def check_stripe_payments(built) -> None:
    tenant_id, snapshot, intents, _refunds = built
    columns = (
        "payment_id, order_id, status, provider, currency, amount_minor, "
        "amount_captured_minor, amount_refunded_minor"
    )
    rows = mart(snapshot, "fct_payments", tenant_id, columns, "payment_source = 'stripe'")
    assert rows == sorted(
        [
            (intents["o1"], "o1", "succeeded", "stripe", "USD", 3000, 3000, 1500),
            (intents["o2"], "o2", "succeeded", "stripe", "USD", 2000, 2000, 2000),
        ]
    )


def check_orders_money(built) -> None:
    tenant_id, snapshot, _intents, _refunds = built
    columns = (
        "order_id, status, financial_status, stripe_payment_count, amount_paid_minor, "
        "amount_refunded_minor"
    )
    assert mart(snapshot, "fct_orders", tenant_id, columns) == [
        ("o1", "paid", "partially_refunded", 1, 3000, 1500),
        ("o2", "paid", "refunded", 1, 2000, 2000),
    ]

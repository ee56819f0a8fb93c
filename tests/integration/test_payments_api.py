"""Payments API: intents priced from the order, reads with history, refunds bounded by capture."""

from __future__ import annotations

import pytest

from tests.stripe_standin import Shop, StripeStandin
from warehouse.controldb.models import Role
from warehouse.lake import read_table


@pytest.fixture(scope="module")
def standin():
    with StripeStandin() as server:
        yield server


@pytest.fixture
def settings(settings, standin):
    # No library retries: a failure test then fails at once instead of backing off.
    return settings.replace(stripe_api_base=standin.url, stripe_max_network_retries=0)


@pytest.fixture
def shop(client, make, standin) -> Shop:
    return Shop(client, make, standin)


def test_intent_takes_amount_and_currency_from_the_order(shop, standin):
    shop.order("o1", 4321, "JPY")
    reply = shop.intent("o1")
    assert reply.status_code == 201
    body = reply.get_json()
    assert (body["amount_minor"], body["currency"], body["status"]) == (4321, "JPY", "pending")
    assert body["client_secret"].startswith(body["id"])
    sent = standin.requests[-1]
    assert sent["params"]["amount"] == "4321" and sent["params"]["currency"] == "jpy"
    assert sent["params"]["metadata"] == {
        "shoplake_tenant_id": str(shop.tenant.id),
        "shoplake_order_id": "o1",
    }
    assert sent["headers"]["idempotency-key"].startswith("shoplake-")


def test_intent_uses_the_latest_version_of_the_order(shop):
    shop.order("o1", 1000)
    shop.order("o1", 1500)
    assert shop.intent("o1").get_json()["amount_minor"] == 1500


def test_intent_for_an_order_with_an_open_payment_returns_that_payment(shop, standin):
    shop.order("o1")
    first = shop.intent("o1")
    created = len(standin.intents)
    again = shop.intent("o1")
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["client_secret"]
    assert len(standin.intents) == created


def test_paid_order_cannot_be_paid_again(shop):
    intent = shop.paid_intent("o1")
    reply = shop.intent("o1")
    assert reply.status_code == 409
    assert intent["id"] in reply.get_json()["detail"]


@pytest.mark.parametrize(
    ("order", "status", "field"),
    [
        (None, 404, "order_id"),  # no such order
        ({"status": "cancelled"}, 409, "order_id"),  # cancelled orders are not paid
        ({"total_minor": 0, "subtotal_minor": 0}, 422, "order_id"),  # nothing to pay
    ],
)
def test_unpayable_orders_are_refused(shop, order, status, field):
    if order is not None:
        record = {"status": order.get("status", "pending")}
        if "total_minor" in order:
            shop.order("o1", 0, status=record["status"])
        else:
            shop.order("o1", 2500, status=record["status"])
    reply = shop.intent("o1")
    assert reply.status_code == status
    assert reply.get_json()["errors"][0]["field"] == field


def test_deleted_order_cannot_be_paid(shop, settings):
    from warehouse.contracts import CONTRACTS
    from warehouse.lake import batch_id_for, land_batch

    shop.order("o1")
    tables = CONTRACTS["order"].delete_tables(["o1"])
    batch = batch_id_for(shop.tenant.id, "delete-o1", 0)
    land_batch(settings.lake_root, shop.tenant.id, batch, tables, source="crud", op="delete")
    assert shop.intent("o1").status_code == 404


def test_payment_methods_must_be_enabled(shop, standin):
    shop.order("o1")
    assert shop.intent("o1", payment_methods=["ideal"]).status_code == 422
    assert shop.intent("o1", payment_methods=["no_such_method"]).status_code == 422
    shop.client.patch(
        "/api/v1/payments/settings/",
        json={"payment_methods": ["card", "ideal"]},
        headers=shop.headers,
    )
    assert shop.intent("o1", payment_methods=["ideal"]).status_code == 201
    assert standin.requests[-1]["params"]["payment_method_types"] == ["ideal"]


def test_intent_without_stripe_configured_is_a_conflict(client, make):
    tenant = make.tenant()
    headers = make.bearer(make.user(tenant=tenant), tenant)
    reply = client.post("/api/v1/payments/intents/", json={"order_id": "o1"}, headers=headers)
    assert reply.status_code == 409
    assert reply.get_json()["errors"][0]["field"] == "secret_key"


def test_partial_refunds_add_up_and_never_exceed_the_capture(shop):
    intent = shop.paid_intent("o1", 3000)
    assert shop.refund(intent["id"], amount_minor=1000).status_code == 201
    assert shop.refund(intent["id"], amount_minor=1500).status_code == 201
    too_much = shop.refund(intent["id"], amount_minor=501)
    assert too_much.status_code == 422
    error = too_much.get_json()["errors"][0]
    assert error["field"] == "amount_minor" and "at most 500" in error["reason"]
    rest = shop.refund(intent["id"])  # no amount: all that is left
    assert rest.status_code == 201 and rest.get_json()["amount_minor"] == 500
    assert shop.refund(intent["id"], amount_minor=1).status_code == 409
    payment = shop.client.get(f"/api/v1/payments/{intent['id']}/", headers=shop.headers)
    body = payment.get_json()
    assert body["amount_refunded_minor"] == 3000 and body["refund_status"] == "refunded"
    assert body["amount_refundable_minor"] == 0
    assert [r["amount_minor"] for r in body["refunds"]] == [1000, 1500, 500]


def test_unpaid_payment_cannot_be_refunded(shop):
    shop.order("o1")
    payment_id = shop.intent("o1").get_json()["id"]
    reply = shop.refund(payment_id, amount_minor=100)
    assert reply.status_code == 409
    assert reply.get_json()["errors"][0]["field"] == "payment_id"


def test_refund_idempotency_key_returns_the_first_refund(shop, standin):
    intent = shop.paid_intent("o1", 3000)
    key = {"Idempotency-Key": "refund-1"}
    first = shop.refund(intent["id"], headers=key, amount_minor=700)
    again = shop.refund(intent["id"], headers=key, amount_minor=700)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    refunds = [r for r in standin.refunds.values() if r["payment_intent"] == intent["id"]]
    assert len(refunds) == 1
    other = shop.refund(intent["id"], headers=key, amount_minor=800)
    assert other.status_code == 422


def test_refund_refused_by_stripe_releases_its_reservation(shop, standin):
    intent = shop.paid_intent("o1", 3000)
    # Someone refunds 2000 straight in Stripe's dashboard; shoplake has not heard yet.
    standin.answer(
        "POST",
        "/v1/refunds",
        {"authorization": f"Bearer {shop.secret_key}"},
        f"payment_intent={intent['id']}&amount=2000",
    )
    reply = shop.refund(intent["id"], amount_minor=1500)
    assert reply.status_code == 422
    assert reply.get_json()["provider_code"] == "amount_too_large"
    detail = shop.client.get(f"/api/v1/payments/{intent['id']}/", headers=shop.headers)
    assert [r["status"] for r in detail.get_json()["refunds"]] == ["failed"]
    assert shop.refund(intent["id"], amount_minor=1000).status_code == 201


def test_unreachable_stripe_keeps_the_reservation_until_a_retry_settles_it(shop, standin):
    intent = shop.paid_intent("o1", 3000)
    key = {"Idempotency-Key": "refund-x"}
    standin.unreachable.add("/v1/refunds")
    try:
        reply = shop.refund(intent["id"], headers=key, amount_minor=3000)
    finally:
        standin.unreachable.clear()
    assert reply.status_code == 502
    assert "secret" not in reply.get_data(as_text=True).lower()
    # The amount stays reserved: another refund cannot take it meanwhile.
    assert shop.refund(intent["id"], amount_minor=1).status_code == 409
    retried = shop.refund(intent["id"], headers=key, amount_minor=3000)
    assert retried.status_code == 200 and retried.get_json()["status"] == "succeeded"


def test_refunds_land_for_the_marts(shop, settings):
    intent = shop.paid_intent("o1", 3000)
    refund = shop.refund(intent["id"], amount_minor=1200).get_json()
    rows = read_table(settings.lake_root, "refunds", shop.tenant.id).to_pylist()
    assert [(r["id"], r["order_id"], r["amount_minor"], r["status"]) for r in rows] == [
        (refund["provider_refund_id"], "o1", 1200, "succeeded")
    ]
    payments = read_table(settings.lake_root, "payments", shop.tenant.id).to_pylist()
    latest = max(payments, key=lambda r: (r["_ingested_at"], r["_batch_id"]))
    assert (latest["status"], latest["amount_captured_minor"]) == ("succeeded", 3000)
    assert latest["amount_refunded_minor"] == 1200 and latest["_source"] == "crud"


def test_list_and_read_payments_with_history(shop):
    first = shop.paid_intent("o1", 1000)
    shop.order("o2", 2000)
    second = shop.intent("o2").get_json()
    shop.refund(first["id"], amount_minor=400)
    page = shop.client.get("/api/v1/payments/?limit=1", headers=shop.headers).get_json()
    assert [p["id"] for p in page["data"]] == [second["id"]] and page["next_cursor"]
    rest = shop.client.get(
        f"/api/v1/payments/?limit=1&cursor={page['next_cursor']}", headers=shop.headers
    ).get_json()
    assert [p["id"] for p in rest["data"]] == [first["id"]]
    paid = shop.client.get("/api/v1/payments/?status=succeeded", headers=shop.headers)
    assert [p["id"] for p in paid.get_json()["data"]] == [first["id"]]
    by_order = shop.client.get("/api/v1/payments/?order_id=o2", headers=shop.headers)
    assert [p["id"] for p in by_order.get_json()["data"]] == [second["id"]]
    detail = shop.client.get(f"/api/v1/payments/{first['id']}/", headers=shop.headers).get_json()
    assert [h["type"] for h in detail["history"]] == ["payment_intent.created", "refund.created"]
    assert "client_secret" not in detail
    refunds = shop.client.get(f"/api/v1/payments/{first['id']}/refunds/", headers=shop.headers)
    assert [r["amount_minor"] for r in refunds.get_json()["data"]] == [400]


def test_another_tenants_payment_is_not_found(client, make, standin):
    owner, other = Shop(client, make, standin), Shop(client, make, standin)
    intent = owner.paid_intent("o1")
    assert client.get(f"/api/v1/payments/{intent['id']}/", headers=other.headers).status_code == 404
    assert other.refund(intent["id"], amount_minor=1).status_code == 404
    assert client.get("/api/v1/payments/", headers=other.headers).get_json()["data"] == []


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        (Role.VIEWER, "get", "/api/v1/payments/", 403),  # no data:read
        (Role.ANALYST, "get", "/api/v1/payments/", 200),  # data:read
        (Role.ANALYST, "post", "/api/v1/payments/intents/", 403),  # no refunds:create
        (Role.ANALYST, "post", "/api/v1/payments/pi_x/refunds/", 403),
        (Role.MANAGER, "patch", "/api/v1/payments/settings/", 403),  # no tenant:manage
    ],
)
def test_permissions(client, make, role, method, path, status):
    tenant = make.tenant()
    headers = make.bearer(make.user(tenant=tenant, role=role), tenant)
    reply = getattr(client, method)(path, json={"order_id": "o1"}, headers=headers)
    assert reply.status_code == status


def test_payments_need_authentication(client):
    assert client.get("/api/v1/payments/").status_code == 401
    assert client.post("/api/v1/payments/intents/", json={"order_id": "o"}).status_code == 401


def test_concurrent_refunds_never_exceed_the_capture(app, shop, standin):
    from concurrent.futures import ThreadPoolExecutor

    intent = shop.paid_intent("o1", 3000)
    shop.refund(intent["id"], amount_minor=1)  # settles the payment as succeeded first

    def refund(_: int) -> int:
        reply = app.test_client().post(
            f"/api/v1/payments/{intent['id']}/refunds/",
            json={"amount_minor": 1000},
            headers=shop.headers,
        )
        return reply.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = sorted(pool.map(refund, range(6)))
    assert codes.count(201) == 2 and set(codes) <= {201, 409, 422}
    refunded = [r for r in standin.refunds.values() if r["payment_intent"] == intent["id"]]
    assert sum(r["amount"] for r in refunded) == 2001

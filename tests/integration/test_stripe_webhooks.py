"""Stripe webhooks: real signature checks, once-only landing, out-of-order delivery."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.stripe_standin import (
    Shop,
    StripeStandin,
    dispute_object,
    event,
    refund_object,
    signature_header,
)
from warehouse.lake import read_table


@pytest.fixture(scope="module")
def standin():
    with StripeStandin() as server:
        yield server


@pytest.fixture
def settings(settings, standin):
    return settings.replace(stripe_api_base=standin.url, stripe_max_network_retries=0)


@pytest.fixture
def shop(client, make, standin) -> Shop:
    return Shop(client, make, standin)


def lake_rows(settings, entity: str, tenant_id: int) -> list[dict]:
    return read_table(settings.lake_root, entity, tenant_id).to_pylist()


def payment(shop: Shop, payment_id: str) -> dict:
    return shop.client.get(f"/api/v1/payments/{payment_id}/", headers=shop.headers).get_json()


def test_valid_event_is_applied_and_landed(shop, settings):
    shop.order("o1", 2500)
    intent_id = shop.intent("o1").get_json()["id"]
    paid = shop.standin.pay(intent_id)
    delivered = shop.deliver(event("payment_intent.succeeded", paid))
    assert delivered.status_code == 200
    assert delivered.get_json()["outcome"] == "applied"
    body = payment(shop, intent_id)
    assert (body["status"], body["amount_captured_minor"]) == ("succeeded", 2500)
    assert body["history"][-1]["source"] == "webhook"
    events = lake_rows(settings, "payment_events", shop.tenant.id)
    assert [(e["type"], e["outcome"], e["_source"]) for e in events] == [
        ("payment_intent.succeeded", "applied", "webhook")
    ]


@pytest.mark.parametrize(
    "tamper",
    [
        "body",  # the body changed after signing
        "secret",  # signed with a secret that is not the tenant's
        "stale",  # signed six minutes ago: past the 300 s tolerance
        "missing",  # no Stripe-Signature header at all
    ],
)
def test_bad_signatures_are_refused_and_change_nothing(shop, settings, tamper, caplog):
    shop.order("o1")
    intent_id = shop.intent("o1").get_json()["id"]
    evt = event("payment_intent.succeeded", shop.standin.pay(intent_id))
    payload = json.dumps(evt)
    caplog.set_level(logging.INFO)
    if tamper == "body":
        reply = shop.deliver(evt, body=payload.replace('"succeeded"', '"canceled"'))
    elif tamper == "secret":
        reply = shop.deliver(evt, secret="whsec_not_the_tenants_secret_0000")
    elif tamper == "stale":
        reply = shop.deliver(evt, timestamp=int(time.time()) - 360)
    else:
        reply = shop.client.post(
            f"/api/v1/webhooks/stripe/{shop.tenant.slug}/",
            data=payload,
            content_type="application/json",
        )
    assert reply.status_code == 400
    assert reply.get_json()["errors"][0]["field"] == "Stripe-Signature"
    assert payment(shop, intent_id)["status"] == "pending"
    assert lake_rows(settings, "payment_events", shop.tenant.id) == []
    rejected = [r for r in caplog.records if r.getMessage() == "stripe webhook rejected"]
    assert len(rejected) == 1 and rejected[0].tenant_slug == shop.tenant.slug
    assert intent_id not in caplog.text  # the payload is never logged


def test_another_tenants_secret_fails_verification(client, make, standin, settings):
    victim, attacker = Shop(client, make, standin), Shop(client, make, standin)
    victim.order("o1")
    intent_id = victim.intent("o1").get_json()["id"]
    evt = event("payment_intent.succeeded", standin.pay(intent_id))
    # Signed with the attacker tenant's own (valid) secret, sent to the victim's URL.
    assert victim.deliver(evt, secret=attacker.webhook_secret).status_code == 400
    assert payment(victim, intent_id)["status"] == "pending"
    # And the victim's event sent to the attacker's URL finds nothing of the attacker's.
    assert attacker.deliver(evt).get_json()["outcome"] == "unmatched"
    assert lake_rows(settings, "payments", attacker.tenant.id) == []


def test_unknown_tenant_and_unconfigured_tenant_are_refused(client, make, shop):
    evt = event("payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    for slug in ("no-such-shop", make.tenant().slug):
        reply = client.post(
            f"/api/v1/webhooks/stripe/{slug}/",
            data=json.dumps(evt),
            content_type="application/json",
            headers={"Stripe-Signature": "t=1,v1=00"},
        )
        assert reply.status_code == 400


def test_replayed_event_lands_once(shop, settings):
    shop.order("o1")
    intent_id = shop.intent("o1").get_json()["id"]
    evt = event("payment_intent.succeeded", shop.standin.pay(intent_id))
    outcomes = [shop.deliver(evt).get_json()["outcome"] for _ in range(10)]
    assert outcomes == ["applied"] + ["duplicate"] * 9
    assert len(lake_rows(settings, "payment_events", shop.tenant.id)) == 1
    webhook_versions = [
        r for r in lake_rows(settings, "payments", shop.tenant.id) if r["_source"] == "webhook"
    ]
    assert len(webhook_versions) == 1
    assert len([h for h in payment(shop, intent_id)["history"] if h["source"] == "webhook"]) == 1


def test_older_event_never_overwrites_newer_state(shop, settings):
    shop.order("o1")
    intent_id = shop.intent("o1").get_json()["id"]
    paid = shop.standin.pay(intent_id)
    now = int(time.time())
    failed = {
        **paid,
        "status": "requires_payment_method",
        "amount_received": 0,
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
    }
    newer = shop.deliver(event("payment_intent.succeeded", paid, created=now))
    older = shop.deliver(event("payment_intent.payment_failed", failed, created=now - 30))
    assert (newer.get_json()["outcome"], older.get_json()["outcome"]) == ("applied", "stale")
    assert payment(shop, intent_id)["status"] == "succeeded"
    versions = lake_rows(settings, "payments", shop.tenant.id)
    latest = max(versions, key=lambda r: (r["_ingested_at"], r["_batch_id"], r["_seq"]))
    assert latest["status"] == "succeeded"
    events = {
        e["type"]: e["outcome"] for e in lake_rows(settings, "payment_events", shop.tenant.id)
    }
    assert events == {
        "payment_intent.succeeded": "applied",
        "payment_intent.payment_failed": "stale",
    }


def test_in_order_failure_then_success(shop):
    shop.order("o1")
    intent_id = shop.intent("o1").get_json()["id"]
    pending = shop.standin.intents[intent_id]
    created = pending["created"]
    failed = {
        **{k: v for k, v in pending.items() if not k.startswith("_")},
        "last_payment_error": {"code": "card_declined"},
    }
    shop.deliver(event("payment_intent.payment_failed", failed, created=created + 1))
    body = payment(shop, intent_id)
    assert (body["status"], body["failure_code"]) == ("failed", "card_declined")
    paid = shop.standin.pay(intent_id)
    shop.deliver(event("payment_intent.succeeded", paid, created=created + 2))
    assert payment(shop, intent_id)["status"] == "succeeded"


def test_refund_events_out_of_order(shop, settings):
    paid = shop.paid_intent("o1", 3000)
    shop.deliver(event("payment_intent.succeeded", paid))
    now = int(time.time())
    pending = refund_object("re_dash", paid, 1000, "pending", now - 20)
    succeeded = refund_object("re_dash", paid, 1000, "succeeded", now - 20)
    shop.deliver(event("charge.refund.updated", succeeded, created=now - 10))
    late = shop.deliver(event("refund.created", pending, created=now - 20))
    assert late.get_json()["outcome"] == "stale"
    body = payment(shop, paid["id"])
    assert [(r["provider_refund_id"], r["status"]) for r in body["refunds"]] == [
        ("re_dash", "succeeded")
    ]
    assert body["amount_refunded_minor"] == 1000 and body["refund_status"] == "partially_refunded"
    # A refund made in Stripe's dashboard counts against what the API may still refund.
    assert shop.refund(paid["id"], amount_minor=2001).status_code == 422
    refunds = lake_rows(settings, "refunds", shop.tenant.id)
    assert [(r["id"], r["status"], r["_source"]) for r in refunds] == [
        ("re_dash", "succeeded", "webhook")
    ]


def test_refund_that_fails_after_succeeding_gives_the_amount_back(shop):
    paid = shop.paid_intent("o1", 3000)
    refund = shop.refund(paid["id"], amount_minor=3000).get_json()
    stripe_refund = shop.standin.refunds[refund["provider_refund_id"]]
    failed = {**stripe_refund, "status": "failed", "failure_reason": "lost_or_stolen_card"}
    assert shop.deliver(event("refund.failed", failed)).get_json()["outcome"] == "applied"
    body = payment(shop, paid["id"])
    assert body["amount_refunded_minor"] == 0 and body["amount_refundable_minor"] == 3000


def test_charge_refunded_with_embedded_refunds(shop):
    paid = shop.paid_intent("o1", 3000)
    shop.deliver(event("payment_intent.succeeded", paid))
    charge = {
        "id": paid["latest_charge"],
        "object": "charge",
        "payment_intent": paid["id"],
        "amount_refunded": 3000,
        "refunds": {
            "object": "list",
            "data": [refund_object("re_full", paid, 3000, "succeeded", int(time.time()))],
        },
    }
    assert shop.deliver(event("charge.refunded", charge)).get_json()["outcome"] == "applied"
    assert payment(shop, paid["id"])["refund_status"] == "refunded"


def test_dispute_closed_before_created_stays_closed(shop, settings):
    paid = shop.paid_intent("o1", 3000)
    shop.deliver(event("payment_intent.succeeded", paid))
    now = int(time.time())
    closed = dispute_object("dp_1", paid, "won", now - 100)
    opened = dispute_object("dp_1", paid, "needs_response", now - 100)
    assert shop.deliver(event("charge.dispute.closed", closed, created=now)).status_code == 200
    late = shop.deliver(event("charge.dispute.created", opened, created=now - 100))
    assert late.get_json()["outcome"] == "stale"
    assert [d["status"] for d in payment(shop, paid["id"])["disputes"]] == ["won"]
    disputes = lake_rows(settings, "disputes", shop.tenant.id)
    assert [(d["id"], d["payment_id"], d["order_id"], d["status"]) for d in disputes] == [
        ("dp_1", paid["id"], "o1", "won")
    ]


def test_intent_created_outside_the_api_is_taken_on_from_its_metadata(shop, settings):
    shop.order("o9", 1200)
    outside = {
        "id": "pi_outside",
        "object": "payment_intent",
        "amount": 1200,
        "amount_received": 1200,
        "currency": "eur",
        "status": "succeeded",
        "created": int(time.time()),
        "latest_charge": "ch_outside",
        "metadata": {"shoplake_order_id": "o9"},
    }
    assert shop.deliver(event("payment_intent.succeeded", outside)).get_json()["outcome"] == (
        "applied"
    )
    assert payment(shop, "pi_outside")["order_id"] == "o9"
    foreign = {
        **outside,
        "id": "pi_foreign",
        "metadata": {"shoplake_order_id": "o9", "shoplake_tenant_id": str(shop.tenant.id + 1000)},
    }
    assert shop.deliver(event("payment_intent.succeeded", foreign)).get_json()["outcome"] == (
        "unmatched"
    )


def test_unhandled_event_types_are_acknowledged_and_ignored(shop, settings):
    reply = shop.deliver(event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert reply.status_code == 200 and reply.get_json()["outcome"] == "ignored"
    assert lake_rows(settings, "payment_events", shop.tenant.id) == []


def test_signed_payload_that_is_not_an_event_is_refused(shop):
    reply = shop.deliver({"id": "evt_1", "object": "event"}, body=None)
    assert reply.status_code == 400


def test_webhooks_have_their_own_budget_per_tenant(client, make, standin, settings, app):
    one, two = Shop(client, make, standin), Shop(client, make, standin)
    app.config["SHOPLAKE"] = settings.replace(ratelimit_webhooks="2/minute")
    ignored = {"id": "cus_1", "object": "customer"}
    codes = [one.deliver(event("customer.created", ignored)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert two.deliver(event("customer.created", ignored)).status_code == 200


def test_concurrent_deliveries_of_one_event_land_once(app, shop, settings):
    from concurrent.futures import ThreadPoolExecutor

    shop.order("o1")
    intent_id = shop.intent("o1").get_json()["id"]
    evt = event("payment_intent.succeeded", shop.standin.pay(intent_id))
    payload = json.dumps(evt)
    header = {"Stripe-Signature": signature_header(payload, shop.webhook_secret)}

    def deliver(_: int) -> str:
        reply = app.test_client().post(
            f"/api/v1/webhooks/stripe/{shop.tenant.slug}/",
            data=payload,
            content_type="application/json",
            headers=header,
        )
        return reply.get_json()["outcome"]

    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = sorted(pool.map(deliver, range(5)))
    assert outcomes == ["applied"] + ["duplicate"] * 4
    assert len(lake_rows(settings, "payment_events", shop.tenant.id)) == 1

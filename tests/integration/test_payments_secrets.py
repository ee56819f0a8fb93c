"""Payment provider secrets: sealed at rest, bound to their tenant, never shown or logged."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from tests.stripe_standin import Shop, StripeStandin, event
from warehouse.config import DEFAULT_PAYMENTS_KEY, SettingsError, load_settings
from warehouse.controldb import transaction
from warehouse.controldb.models import PaymentProvider
from warehouse.logs import JsonFormatter
from warehouse.payments.crypto import SecretBox, SecretUnreadable


@pytest.fixture(scope="module")
def standin():
    with StripeStandin() as server:
        yield server


@pytest.fixture
def settings(settings, standin):
    return settings.replace(stripe_api_base=standin.url, stripe_max_network_retries=0)


def stored(app, tenant_id: int) -> PaymentProvider:
    with transaction(app.extensions["shoplake.sessions"]) as session:
        query = select(PaymentProvider).where(PaymentProvider.tenant_id == tenant_id)
        return session.scalar(query)


def test_settings_show_what_is_set_but_never_the_secrets(client, make, standin):
    shop = Shop(client, make, standin)
    reply = client.get("/api/v1/payments/settings/", headers=shop.headers)
    body = reply.get_json()
    assert body["secret_key_set"] and body["webhook_secret_set"] and body["mode"] == "test"
    assert body["webhook_path"] == f"/api/v1/webhooks/stripe/{shop.tenant.slug}/"
    text = reply.get_data(as_text=True)
    assert shop.secret_key not in text and shop.webhook_secret not in text
    assert shop.secret_key[-6:] not in text  # not even a tail


def test_secrets_are_sealed_at_rest(app, client, make, standin):
    shop = Shop(client, make, standin)
    row = stored(app, shop.tenant.id)
    assert shop.secret_key not in row.secret_key_encrypted
    assert shop.webhook_secret not in row.webhook_secret_encrypted
    assert row.secret_key_encrypted.startswith("v1.")


def test_a_sealed_secret_copied_to_another_tenant_does_not_open(app, client, make, standin):
    victim, thief = Shop(client, make, standin), Shop(client, make, standin)
    sealed = stored(app, victim.tenant.id).secret_key_encrypted
    with transaction(app.extensions["shoplake.sessions"]) as session:
        session.get(PaymentProvider, stored(app, thief.tenant.id).id).secret_key_encrypted = sealed
    thief.order("o1")
    reply = thief.intent("o1")
    assert reply.status_code == 409
    assert reply.get_json()["errors"][0]["field"] == "secret_key"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secret_key", "pk_test_publishable_not_secret"),  # a publishable key
        ("secret_key", "sk_test_short"),  # too short to be real
        ("webhook_secret", "not-a-signing-secret"),
    ],
)
def test_malformed_secrets_are_refused_without_echoing_them(client, make, field, value):
    tenant = make.tenant()
    headers = make.bearer(make.user(tenant=tenant), tenant)
    reply = client.patch("/api/v1/payments/settings/", json={field: value}, headers=headers)
    assert reply.status_code == 422
    assert reply.get_json()["errors"][0]["field"] == field
    assert value not in reply.get_data(as_text=True)


def test_only_tenant_managers_set_secrets(client, make):
    tenant = make.tenant()
    manager = make.bearer(make.user(tenant=tenant, role="manager"), tenant)
    key = {"X-API-Key": make.api_key(tenant, ("read", "write", "ingest"))}
    for headers in (manager, key):
        reply = client.patch(
            "/api/v1/payments/settings/",
            json={"secret_key": "sk_test_" + "a" * 24},
            headers=headers,
        )
        assert reply.status_code == 403
    assert client.patch("/api/v1/payments/settings/", json={}).status_code == 401


def test_secrets_never_reach_a_log_line_or_a_response(client, make, standin, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    shop = Shop(client, make, standin)
    shop.order("o1", 2000)
    created = shop.intent("o1")
    client_secret = created.get_json()["client_secret"]
    paid = standin.pay(created.get_json()["id"])
    replies = [
        shop.deliver(event("payment_intent.succeeded", paid)),
        shop.deliver(event("payment_intent.succeeded", paid), secret="whsec_wrong_secret_00000"),
        shop.refund(paid["id"], amount_minor=500),
        client.get(f"/api/v1/payments/{paid['id']}/", headers=shop.headers),
        client.get("/api/v1/payments/", headers=shop.headers),
        client.get("/api/v1/payments/settings/", headers=shop.headers),
        client.patch(
            "/api/v1/payments/settings/", json={"secret_key": "sk_live_x"}, headers=shop.headers
        ),
    ]
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    logged += capsys.readouterr().err
    assert "stripe" in logged  # the calls were logged at all
    for secret in (shop.secret_key, shop.webhook_secret, client_secret):
        assert secret not in logged
        assert all(secret not in reply.get_data(as_text=True) for reply in replies)


def test_production_refuses_the_default_or_a_short_payments_key():
    base = {"SHOPLAKE_ENV": "production", "SHOPLAKE_SECRET_KEY": "x" * 40}
    for key in (DEFAULT_PAYMENTS_KEY, "short", f"{'y' * 40},{DEFAULT_PAYMENTS_KEY}"):
        with pytest.raises(SettingsError, match="SHOPLAKE_PAYMENTS_ENCRYPTION_KEY"):
            load_settings(environ={**base, "SHOPLAKE_PAYMENTS_ENCRYPTION_KEY": key})
    settings = load_settings(environ={**base, "SHOPLAKE_PAYMENTS_ENCRYPTION_KEY": "z" * 40})
    assert settings.is_production


def test_keys_rotate_old_secrets_still_open_and_strangers_do_not():
    old = SecretBox(["old-key-" + "o" * 32])
    sealed = old.seal("sk_test_value", "tenant:1:stripe:secret_key")
    rotated = SecretBox.from_setting(f"{'n' * 40},old-key-{'o' * 32}")
    assert rotated.open(sealed, "tenant:1:stripe:secret_key") == "sk_test_value"
    assert rotated.seal("v", "c").split(".")[1] != sealed.split(".")[1]
    with pytest.raises(SecretUnreadable):
        SecretBox(["n" * 40]).open(sealed, "tenant:1:stripe:secret_key")
    with pytest.raises(SecretUnreadable):
        old.open(sealed, "tenant:2:stripe:secret_key")
    with pytest.raises(SecretUnreadable):
        old.open(sealed[:-2] + "AA", "tenant:1:stripe:secret_key")

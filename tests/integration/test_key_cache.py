"""The per-worker cache of verified API keys: what it saves, and when a change is seen.

A second app on the same control DB stands for another worker (or node): changes it commits
reach the first app's cache only through the cache time, which the tests move on a fake clock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from serving.app import close_app, create_app
from tests.factories import Factory
from warehouse.config import load_settings
from warehouse.controldb import transaction
from warehouse.controldb.models import ApiKey, Tenant, utcnow
from warehouse.controlplane import apikeys

TTL = 5.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app):
    fake = FakeClock()
    app.extensions["shoplake.key_cache"].clock = fake
    return fake


@pytest.fixture
def other_worker(settings):
    """Another app on the same control DB, with its own cache."""
    other = create_app(settings)
    yield Factory(other)
    close_app(other)


def tenant_url(tenant: Tenant) -> str:
    return f"/api/v1/tenants/{tenant.id}/"


def revoke(make: Factory, secret: str) -> None:
    with transaction(make.sessions) as session:
        key = apikeys.verify_key(session, secret)
        apikeys.revoke_key(session, key.tenant_id, key.id)


def test_a_repeated_request_runs_no_control_db_query(app, client, make):
    tenant = make.tenant()
    headers = make.key_headers(tenant, "read")
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200
    statements: list[str] = []
    engine = app.extensions["shoplake.engine"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(tenant_url(tenant), headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert not [s for s in statements if "api_keys" in s or "FROM tenants" in s], statements


def test_a_key_revoked_by_another_worker_is_refused_once_the_cache_time_passes(
    client, make, other_worker, clock
):
    tenant = make.tenant()
    secret = make.api_key(tenant, ("read",))
    headers = {"X-API-Key": secret}
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200
    revoke(other_worker, secret)
    clock.now += TTL - 0.1
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200  # the window
    clock.now += 0.1
    assert client.get(tenant_url(tenant), headers=headers).status_code == 401


def test_a_tenant_suspended_by_another_worker_is_refused_once_the_cache_time_passes(
    client, make, other_worker, clock
):
    tenant = make.tenant()
    headers = make.key_headers(tenant, "read")
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200
    other_worker.tenant_status(tenant, "suspended")
    clock.now += TTL
    assert client.get(tenant_url(tenant), headers=headers).status_code == 403


def test_a_change_committed_by_this_worker_is_seen_at_once(client, make, clock):
    tenant = make.tenant()
    secret = make.api_key(tenant, ("read",))
    headers = {"X-API-Key": secret}
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200
    make.tenant_status(tenant, "suspended")  # through this app's sessions
    assert client.get(tenant_url(tenant), headers=headers).status_code == 403
    make.tenant_status(tenant, "active")
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200
    revoke(make, secret)
    assert client.get(tenant_url(tenant), headers=headers).status_code == 401


def test_a_rolled_back_change_leaves_the_cache_alone(app, client, make, clock):
    tenant = make.tenant()
    headers = make.key_headers(tenant, "read")
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200
    cache = app.extensions["shoplake.key_cache"]
    with pytest.raises(RuntimeError), transaction(make.sessions) as session:
        session.get(Tenant, tenant.id).status = "suspended"
        session.flush()
        raise RuntimeError("abandon the change")
    assert cache.get(apikeys.digest(headers["X-API-Key"])) is not None
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200


def test_a_cached_key_is_refused_the_moment_it_expires(client, make, monkeypatch):
    tenant = make.tenant()
    expires = utcnow() + timedelta(minutes=10)
    headers = {"X-API-Key": make.api_key(tenant, ("read",), expires_at=expires)}
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200
    monkeypatch.setattr("serving.auth.authenticate.utcnow", lambda: expires)
    assert client.get(tenant_url(tenant), headers=headers).status_code == 401


def test_a_cached_key_still_cannot_name_another_tenant(client, make):
    tenant, other = make.tenant(), make.tenant()
    headers = make.key_headers(tenant, "read")
    assert client.get(tenant_url(tenant), headers=headers).status_code == 200
    path_form = f"/api/v1/tenants/{other.id}/products/"
    assert client.get(path_form, headers=headers).status_code == 403
    named = {**headers, "X-Tenant-ID": str(other.id)}
    assert client.get("/api/v1/products/", headers=named).status_code == 403


def test_a_wrong_secret_with_a_cached_keys_prefix_is_refused(client, make):
    tenant = make.tenant()
    secret = make.api_key(tenant, ("read",))
    assert client.get(tenant_url(tenant), headers={"X-API-Key": secret}).status_code == 200
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    assert client.get(tenant_url(tenant), headers={"X-API-Key": forged}).status_code == 401


def test_last_use_is_still_recorded(client, make):
    tenant = make.tenant()
    secret = make.api_key(tenant, ("read",))
    assert client.get(tenant_url(tenant), headers={"X-API-Key": secret}).status_code == 200
    with transaction(make.sessions) as session:
        key = session.get(ApiKey, apikeys.verify_key(session, secret).id)
        assert key.last_used_at is not None


@pytest.fixture
def uncached_settings(settings):
    return load_settings({"auth_cache_seconds": 0}, environ={}, base=settings)


def test_with_the_cache_off_another_workers_revocation_is_seen_at_once(
    uncached_settings, other_worker
):
    app = create_app(uncached_settings)
    try:
        client, make = app.test_client(), Factory(app)
        tenant = make.tenant()
        secret = make.api_key(tenant, ("read",))
        headers = {"X-API-Key": secret}
        assert client.get(tenant_url(tenant), headers=headers).status_code == 200
        revoke(other_worker, secret)
        assert client.get(tenant_url(tenant), headers=headers).status_code == 401
    finally:
        close_app(app)

"""API key management over HTTP: created once with the secret shown, listed without it, revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warehouse.controldb.models import Role

KEYS = "/api/v1/keys/"


@pytest.fixture
def shop(make):
    """A tenant and its admin's headers."""
    tenant = make.tenant()
    return tenant, make.bearer(make.user(tenant=tenant, role=Role.ADMIN))


def test_created_key_is_shown_once_and_works(client, shop):
    tenant, admin = shop
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    created = client.post(
        KEYS,
        headers=admin,
        json={"name": "shop sync", "scopes": ["read", "ingest"], "expires_at": expires},
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["key"].startswith(f"sl_{body['prefix']}_")
    assert body["scopes"] == ["ingest", "read"]
    assert "key_hash" not in body
    using_it = client.get(f"/api/v1/tenants/{tenant.id}/", headers={"X-API-Key": body["key"]})
    assert using_it.status_code == 200


def test_listing_never_shows_secrets_or_hashes(client, make, shop):
    tenant, admin = shop
    secrets = [make.api_key(tenant) for _ in range(3)]
    make.api_key(make.tenant())  # another tenant's key
    first = client.get(KEYS, headers=admin, query_string={"limit": 2})
    second = client.get(
        KEYS, headers=admin, query_string={"limit": 2, "cursor": first.get_json()["next_cursor"]}
    )
    listed = first.get_json()["data"] + second.get_json()["data"]
    assert len(listed) == 3
    assert [k["id"] for k in listed] == sorted((k["id"] for k in listed), reverse=True)
    for response in (first, second):
        text = response.get_data(as_text=True)
        assert "hash" not in text
        assert not any(secret in text or secret.split("_", 2)[2] in text for secret in secrets)
    assert set(listed[0]) == {
        "id",
        "prefix",
        "name",
        "scopes",
        "created_by_user_id",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    }


def test_revoked_key_is_refused_on_next_use(client, make, shop):
    tenant, admin = shop
    key = make.api_key(tenant, ("read",))
    headers = {"X-API-Key": key}
    assert client.get(f"/api/v1/tenants/{tenant.id}/", headers=headers).status_code == 200
    key_id = client.get(KEYS, headers=admin).get_json()["data"][0]["id"]
    assert client.delete(f"{KEYS}{key_id}/", headers=admin).status_code == 204
    assert client.get(f"/api/v1/tenants/{tenant.id}/", headers=headers).status_code == 401
    listed = client.get(KEYS, headers=admin).get_json()["data"][0]
    assert listed["revoked_at"] is not None
    assert listed["last_used_at"] is not None


def test_other_tenants_keys_cannot_be_revoked(client, make, shop):
    _tenant, admin = shop
    other = make.tenant()
    make.api_key(other)
    other_admin = make.bearer(make.user(tenant=other, role=Role.ADMIN))
    other_key_id = client.get(KEYS, headers=other_admin).get_json()["data"][0]["id"]
    assert client.delete(f"{KEYS}{other_key_id}/", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "k", "scopes": ["superuser"]}, "scopes.0"),  # unknown scope
        ({"name": "k", "scopes": []}, "scopes"),  # at least one
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "k", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "k", "scopes": ["read"], "expires_at": "2999-01-01T00:00:00"}, "expires_at"),
    ],
)
def test_create_validation(client, shop, payload, field):
    _tenant, admin = shop
    response = client.post(KEYS, headers=admin, json=payload)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]


def test_key_management_needs_admin_role_or_scope(client, make, shop):
    tenant, _admin = shop
    manager = make.bearer(make.user(tenant=tenant, role=Role.MANAGER))
    payload = {"name": "k", "scopes": ["read"]}
    assert client.post(KEYS, headers=manager, json=payload).status_code == 403
    assert client.get(KEYS, headers=make.key_headers(tenant, "read", "write")).status_code == 403
    admin_key = make.key_headers(tenant, "admin")
    assert client.post(KEYS, headers=admin_key, json=payload).status_code == 201
    assert client.get(KEYS).status_code == 401

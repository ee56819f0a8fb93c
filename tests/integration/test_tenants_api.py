"""Tenant CRUD over HTTP: who may create, read, change, suspend and delete tenant records."""

from __future__ import annotations

import pytest

from warehouse.controldb.models import Membership, Role, Tenant

TENANTS = "/api/v1/tenants/"


@pytest.fixture
def root(make):
    """A platform administrator's headers."""
    return make.bearer(make.user(platform_admin=True))


def _problem_fields(response) -> list[str]:
    assert response.mimetype == "application/problem+json"
    return [error["field"] for error in response.get_json().get("errors", [])]


def test_platform_admin_creates_tenant_with_defaults(client, root):
    response = client.post(
        TENANTS,
        headers=root,
        json={
            "slug": "acme",
            "name": " Acme ",
            "domains": ["Shop.Acme.example."],
            "timezone": "Europe/Berlin",
            "currency": "eur",
            "settings": {"new_customer_days": 14},
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["slug"], body["name"], body["currency"]) == ("acme", "Acme", "EUR")
    assert body["domains"] == ["shop.acme.example"]
    assert body["status"] == "active"
    assert body["settings"]["new_customer_days"] == 14
    assert body["settings"]["inactive_customer_days"] == 90  # default filled in
    assert body["settings"]["rate_limit_tenant"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"slug": "ab"}, "slug"),  # too short
        ({"slug": "Acme"}, "slug"),  # upper case
        ({"slug": "-acme"}, "slug"),  # leading hyphen
        ({"slug": "12345"}, "slug"),  # would read as a tenant id
        ({"slug": "www"}, "slug"),  # reserved
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"currency": "XXX"}, "currency"),  # not a shop currency
        ({"currency": "EURO"}, "currency"),
        ({"domains": ["not a host"]}, "domains"),
        ({"domains": ["10.0.0.1"]}, "domains"),  # addresses are not tenant domains
        ({"settings": {"colour": "red"}}, "settings.colour"),  # unknown key
        ({"settings": {"rate_limit_tenant": "lots"}}, "settings.rate_limit_tenant"),
        ({"settings": {"new_customer_days": 0}}, "settings.new_customer_days"),
        ({"settings": {"cors_origins": ["https://a.example/path"]}}, "settings.cors_origins.0"),
    ],
)
def test_create_refuses_invalid_fields(client, root, payload, field):
    response = client.post(TENANTS, headers=root, json={"slug": "valid", "name": "V", **payload})
    assert response.status_code == 422
    assert field in _problem_fields(response)


def test_duplicate_slug_and_domain_conflict(client, root, make):
    make.tenant("acme", domains=["shop.acme.example"])
    taken_slug = client.post(TENANTS, headers=root, json={"slug": "acme", "name": "Other"})
    assert taken_slug.status_code == 409
    assert _problem_fields(taken_slug) == ["slug"]
    taken_domain = client.post(
        TENANTS,
        headers=root,
        json={"slug": "other", "name": "Other", "domains": ["SHOP.acme.example"]},
    )
    assert taken_domain.status_code == 409
    assert _problem_fields(taken_domain) == ["domains"]


def test_only_platform_admins_create_tenants(client, make):
    tenant = make.tenant()
    tenant_admin = make.user(tenant=tenant, role=Role.ADMIN)
    payload = {"slug": "newshop", "name": "New"}
    assert client.post(TENANTS, json=payload).status_code == 401
    assert client.post(TENANTS, headers=make.bearer(tenant_admin), json=payload).status_code == 403
    key = make.key_headers(tenant, "admin")
    assert client.post(TENANTS, headers=key, json=payload).status_code == 403


def test_listing_shows_a_user_only_their_tenants(client, make, root):
    mine = [make.tenant(), make.tenant(), make.tenant()]
    make.tenant()  # someone else's
    user = make.user(tenant=mine[0], role=Role.VIEWER)
    for tenant in mine[1:]:
        make.membership(user, tenant, Role.ANALYST)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(TENANTS, headers=make.bearer(user), query_string=query).get_json()
        seen += [t["id"] for t in page["data"]]
        cursor, pages = page["next_cursor"], pages + 1
        if cursor is None:
            break
    assert seen == [t.id for t in mine]
    assert pages == 2
    everything = client.get(TENANTS, headers=root).get_json()["data"]
    assert len(everything) == 4


def test_listing_with_an_api_key_shows_its_tenant(client, make):
    tenant, other = make.tenant(), make.tenant()
    page = client.get(TENANTS, headers=make.key_headers(tenant, "read")).get_json()
    assert [t["id"] for t in page["data"]] == [tenant.id]
    assert other.id not in [t["id"] for t in page["data"]]
    ingest_only = client.get(TENANTS, headers=make.key_headers(tenant, "ingest"))
    assert ingest_only.status_code == 403


def test_members_read_their_tenant_and_non_members_get_404(client, make, root):
    tenant, other = make.tenant(), make.tenant()
    viewer = make.user(tenant=tenant, role=Role.VIEWER)
    outsider = make.user(tenant=other)
    url = f"{TENANTS}{tenant.id}/"
    assert client.get(url, headers=make.bearer(viewer)).get_json()["id"] == tenant.id
    hidden = client.get(url, headers=make.bearer(outsider))
    missing = client.get(f"{TENANTS}999999/", headers=make.bearer(outsider))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["detail"] == missing.get_json()["detail"]  # existence does not leak
    assert client.get(url, headers=root).status_code == 200
    assert client.get(f"{TENANTS}999999/", headers=root).status_code == 404
    assert client.get(url).status_code == 401


def test_api_key_reads_only_its_own_tenant(client, make):
    tenant, other = make.tenant(), make.tenant()
    key = make.key_headers(tenant, "read")
    assert client.get(f"{TENANTS}{tenant.id}/", headers=key).status_code == 200
    assert client.get(f"{TENANTS}{other.id}/", headers=key).status_code == 404
    no_read = make.key_headers(tenant, "ingest")
    assert client.get(f"{TENANTS}{tenant.id}/", headers=no_read).status_code == 403


def test_token_bound_to_one_tenant_cannot_read_another(client, make):
    tenant, other = make.tenant(), make.tenant()
    user = make.user(tenant=tenant)
    make.membership(user, other)
    bound_to_tenant = make.bearer(user, tenant)
    assert client.get(f"{TENANTS}{tenant.id}/", headers=bound_to_tenant).status_code == 200
    assert client.get(f"{TENANTS}{other.id}/", headers=bound_to_tenant).status_code == 403


def test_other_tenant_named_in_header_is_refused(client, make):
    tenant, other = make.tenant(), make.tenant()
    user = make.user(tenant=tenant)
    make.membership(user, other)
    headers = make.bearer(user) | {"X-Tenant-ID": str(other.id)}
    response = client.get(f"{TENANTS}{tenant.id}/", headers=headers)
    assert response.status_code == 400
    assert _problem_fields(response) == ["X-Tenant-ID"]


def test_tenant_admin_updates_settings_and_merges_them(client, make):
    tenant = make.tenant(settings={"low_stock_default": 3})
    admin = make.bearer(make.user(tenant=tenant, role=Role.ADMIN))
    url = f"{TENANTS}{tenant.id}/"
    response = client.patch(
        url,
        headers=admin,
        json={
            "name": "Renamed",
            "timezone": "America/New_York",
            "currency": "JPY",
            "domains": ["renamed.example"],
            "settings": {"rate_limit_tenant": "100/minute"},
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["name"], body["timezone"], body["currency"]) == (
        "Renamed",
        "America/New_York",
        "JPY",
    )
    assert body["settings"]["rate_limit_tenant"] == "100/minute"
    assert body["settings"]["low_stock_default"] == 3  # earlier override kept
    with make.sessions() as session:
        assert session.get(Tenant, tenant.id).settings == {
            "low_stock_default": 3,
            "rate_limit_tenant": "100/minute",
        }


@pytest.mark.parametrize("field_value", [{"status": "suspended"}, {"slug": "newslug"}])
def test_tenant_admin_cannot_change_status_or_slug(client, make, field_value):
    tenant = make.tenant()
    admin = make.bearer(make.user(tenant=tenant, role=Role.ADMIN))
    response = client.patch(f"{TENANTS}{tenant.id}/", headers=admin, json=field_value)
    assert response.status_code == 403
    assert _problem_fields(response) == list(field_value)


def test_patch_needs_tenant_manage_and_membership(client, make, root):
    tenant, other = make.tenant(), make.tenant()
    url = f"{TENANTS}{tenant.id}/"
    manager = make.bearer(make.user(tenant=tenant, role=Role.MANAGER))
    outsider = make.bearer(make.user(tenant=other, role=Role.ADMIN))
    assert client.patch(url, headers=manager, json={"name": "X"}).status_code == 403
    assert client.patch(url, headers=outsider, json={"name": "X"}).status_code == 404
    renamed = client.patch(url, headers=root, json={"slug": "renamed", "status": "suspended"})
    assert (renamed.get_json()["slug"], renamed.get_json()["status"]) == ("renamed", "suspended")
    invalid = client.patch(url, headers=root, json={"timezone": "Nowhere/Land"})
    assert invalid.status_code == 422
    assert _problem_fields(invalid) == ["timezone"]


def test_suspending_stops_the_tenants_keys(client, make, root):
    tenant = make.tenant()
    key = make.key_headers(tenant, "read")
    admin = make.bearer(make.user(tenant=tenant, role=Role.ADMIN))
    status_url = f"{TENANTS}{tenant.id}/status/"
    assert client.post(status_url, headers=admin, json={"status": "suspended"}).status_code == 403
    suspended = client.post(status_url, headers=root, json={"status": "suspended"})
    assert suspended.get_json()["status"] == "suspended"
    assert client.get(f"{TENANTS}{tenant.id}/", headers=key).status_code == 403
    assert client.get(f"{TENANTS}{tenant.id}/", headers=admin).status_code == 403
    client.post(status_url, headers=root, json={"status": "active"})
    assert client.get(f"{TENANTS}{tenant.id}/", headers=key).status_code == 200
    bad = client.post(status_url, headers=root, json={"status": "paused"})
    assert bad.status_code == 422


def test_only_platform_admins_delete_tenants(client, make, root):
    tenant = make.tenant()
    admin = make.user(tenant=tenant, role=Role.ADMIN)
    url = f"{TENANTS}{tenant.id}/"
    assert client.delete(url, headers=make.bearer(admin)).status_code == 403
    assert client.delete(url, headers=root).status_code == 204
    assert client.get(url, headers=root).status_code == 404
    assert client.delete(url, headers=root).status_code == 404
    with make.sessions() as session:
        assert session.query(Membership).filter_by(tenant_id=tenant.id).count() == 0

"""Tenant resolution: every source, their agreement, membership, suspension and existence leaks."""

from __future__ import annotations

import pytest

from serving.auth.permissions import Permission
from tests.probes import probe_blueprint, probe_path
from warehouse.controldb.models import Role

READ = probe_path(Permission.TENANT_READ)


@pytest.fixture
def app(app):
    app.register_blueprint(probe_blueprint())
    return app


@pytest.fixture
def a(make):
    return make.tenant("a-slug")


@pytest.fixture
def b(make):
    return make.tenant("b-slug")


def naming(tenant_ref, source: str) -> dict:
    """Request arguments that name a tenant through one source."""
    if source == "header":
        return {"path": READ, "headers": {"X-Tenant-ID": str(tenant_ref)}}
    if source == "query":
        return {"path": READ, "query_string": {"tenant_id": str(tenant_ref)}}
    if source == "path":
        return {"path": f"/api/v1/tenants/{tenant_ref}/probe/tenant_read"}
    if source == "host":
        return {"path": READ, "headers": {"Host": f"{tenant_ref}.localhost"}}
    raise AssertionError(source)


def get(client, request: dict, headers: dict | None = None):
    request = dict(request)
    merged = {**request.pop("headers", {}), **(headers or {})}
    return client.get(request.pop("path"), headers=merged, **request)


SOURCES = ["header", "query", "path", "host"]


# -- credentials bound to a tenant ------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_api_key_naming_another_tenant_is_forbidden(client, make, a, b, source):
    key = make.key_headers(a, "read")
    response = get(client, naming("b-slug", source), key)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("source", SOURCES)
def test_api_key_naming_its_own_tenant_passes(client, make, a, b, source):
    response = get(client, naming("a-slug", source), make.key_headers(a, "read"))
    assert response.status_code == 200
    assert response.get_json()["tenant_id"] == a.id


def test_api_key_by_numeric_id(client, make, a, b):
    key = make.key_headers(a, "read")
    assert get(client, naming(a.id, "header"), key).status_code == 200
    assert get(client, naming(b.id, "header"), key).status_code == 403
    assert get(client, naming(b.id, "path"), key).status_code == 403


def test_jwt_bound_to_a_on_bs_subdomain_is_forbidden(client, make, a, b):
    user = make.user(tenant=a)
    make.membership(user, b)  # even a member of both: the token itself says A
    token = make.bearer(user, a)
    assert get(client, naming("b-slug", "host"), token).status_code == 403
    assert get(client, naming("a-slug", "host"), token).status_code == 200
    assert get(client, {"path": READ}, token).get_json()["tenant_id"] == a.id


# -- membership -------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_member_of_a_naming_b_is_forbidden(client, make, a, b, source):
    user = make.user(tenant=a)
    response = get(client, naming("b-slug", source), make.bearer(user))
    assert response.status_code == 403


def test_member_of_a_naming_b_through_a_session_is_forbidden(client, make, a, b):
    user = make.user(tenant=a)
    client.post(
        "/api/v1/auth/session", json={"email": user.email, "password": "correct horse battery"}
    )
    assert client.get(READ, query_string={"tenant_id": b.id}).status_code == 403
    assert client.get(READ, query_string={"tenant_id": a.id}).status_code == 200


def test_role_comes_from_the_named_tenant(client, make, a, b):
    user = make.user(tenant=a, role=Role.ADMIN)
    make.membership(user, b, Role.VIEWER)
    headers = make.bearer(user)
    assert get(client, naming("b-slug", "header"), headers).get_json()["role"] == "viewer"
    assert get(client, naming("a-slug", "header"), headers).get_json()["role"] == "admin"


def test_a_user_with_several_tenants_must_name_one(client, make, a, b):
    user = make.user(tenant=a)
    make.membership(user, b)
    response = client.get(READ, headers=make.bearer(user))
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "X-Tenant-ID"


def test_the_only_membership_needs_no_naming(client, make, a):
    user = make.user(tenant=a)
    assert client.get(READ, headers=make.bearer(user)).get_json()["tenant_id"] == a.id


def test_anonymous_callers_get_401_before_tenancy(client, a):
    assert get(client, naming("a-slug", "header")).status_code == 401


# -- sources that disagree --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "query"),
    [
        # X-Tenant-ID names A, ?tenant_id= names B
        (READ, {"X-Tenant-ID": "a-slug"}, {"tenant_id": "b-slug"}),
        # X-Tenant-ID names A, the path names B
        ("/api/v1/tenants/b-slug/probe/tenant_read", {"X-Tenant-ID": "a-slug"}, {}),
        # ?tenant_id= names A, the subdomain names B
        (READ, {"Host": "b-slug.localhost"}, {"tenant_id": "a-slug"}),
        # the path names A, the subdomain names B
        ("/api/v1/tenants/a-slug/probe/tenant_read", {"Host": "b-slug.localhost"}, {}),
        # one source names a missing tenant, another an existing one
        (READ, {"X-Tenant-ID": "no-such-tenant"}, {"tenant_id": "b-slug"}),
    ],
)
def test_sources_naming_different_tenants_give_400(client, make, a, b, path, headers, query):
    admin = make.user(tenant=a, platform_admin=True)  # disagreement is refused for anyone
    response = client.get(path, headers={**headers, **make.bearer(admin)}, query_string=query)
    assert response.status_code == 400
    assert len(response.get_json()["errors"]) == 2


def test_sources_naming_one_tenant_differently_agree(client, make, a):
    user = make.user(tenant=a)
    response = client.get(
        f"/api/v1/tenants/{a.id}/probe/tenant_read",
        headers={**make.bearer(user), "X-Tenant-ID": "a-slug", "Host": "a-slug.localhost"},
        query_string={"tenant_id": str(a.id)},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["X-Tenant-ID", "tenant_id"])
def test_a_repeated_reference_naming_two_tenants_gives_400(client, make, a, b, name):
    user = make.user(tenant=a, platform_admin=True)
    if name == "tenant_id":
        response = client.get(
            f"{READ}?tenant_id={a.id}&tenant_id={b.id}", headers=make.bearer(user)
        )
    else:
        headers = [
            ("X-Tenant-ID", str(a.id)),
            ("X-Tenant-ID", str(b.id)),
            *make.bearer(user).items(),
        ]
        response = client.get(READ, headers=headers)
    assert response.status_code == 400


# -- existence must not leak ------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["no-such-tenant", "424242", "99999999999999999999", "٣"])
def test_missing_tenant_is_403_for_members_and_404_for_platform_admins(client, make, a, ref):
    member = make.user(tenant=a)
    admin = make.user(platform_admin=True)
    as_member = get(client, naming(ref, "header"), make.bearer(member))
    foreign = get(client, naming("a-slug", "header"), make.bearer(make.user()))
    assert as_member.status_code == foreign.status_code == 403
    assert as_member.get_json()["detail"] == foreign.get_json()["detail"]
    assert get(client, naming(ref, "header"), make.bearer(admin)).status_code == 404


def test_missing_tenant_with_an_api_key_is_403(client, make, a):
    response = get(client, naming("no-such-tenant", "header"), make.key_headers(a, "read"))
    assert response.status_code == 403


# -- platform admins --------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_platform_admin_may_act_on_any_tenant(client, make, a, b, source):
    admin = make.user(platform_admin=True)
    response = get(client, naming("b-slug", source), make.bearer(admin))
    assert response.status_code == 200
    assert response.get_json() == {
        "permission": "tenant:read",
        "tenant_id": b.id,
        "role": None,
        "via": "jwt",
    }


def test_platform_admin_login_is_not_bound_to_its_one_membership(client, make, a, b):
    admin = make.user(tenant=a, platform_admin=True)
    pair = client.post(
        "/api/v1/auth/login", json={"email": admin.email, "password": "correct horse battery"}
    )
    headers = {"Authorization": f"Bearer {pair.get_json()['access_token']}"}
    assert pair.get_json()["tenant"] is None
    assert get(client, naming("b-slug", "header"), headers).status_code == 200


# -- suspended tenants ------------------------------------------------------------------------


def test_suspended_tenant_refuses_its_keys_and_members(client, make, a):
    key = make.key_headers(a, "read")
    member = make.user(tenant=a)
    bound, unbound = make.bearer(member, a), make.bearer(member)
    admin = make.bearer(make.user(platform_admin=True))
    make.tenant_status(a, "suspended")
    assert client.get(READ, headers=key).status_code == 403
    assert client.get(READ, headers=bound).status_code == 403
    assert client.get(READ, headers=unbound).status_code == 403
    assert get(client, naming("a-slug", "header"), unbound).status_code == 403
    assert get(client, naming("a-slug", "header"), admin).status_code == 200
    make.tenant_status(a, "active")
    assert client.get(READ, headers=key).status_code == 200


# -- hosts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["shop.example.com", "SHOP.Example.com", "shop.example.com:8443"])
def test_a_custom_domain_resolves_to_its_tenant(client, make, a, host):
    shop = make.tenant("shop", domains=["shop.example.com", "other.example.org"])
    key = make.key_headers(shop, "read")
    response = client.get(READ, headers={**key, "Host": host})
    assert response.status_code == 200
    assert response.get_json()["tenant_id"] == shop.id
    foreign_key = make.key_headers(a, "read")
    assert client.get(READ, headers={**foreign_key, "Host": host}).status_code == 403


@pytest.mark.parametrize(
    "host",
    [
        "api.internal",  # the API's own hostname, no tenant's domain
        "[::1]:8000",  # IPv6 loopback with a port
        "127.0.0.1:8000",
        "localhost",
        "deep.a-slug.localhost",  # more than one label below the base domain
    ],
)
def test_hosts_that_name_no_tenant_are_ignored(client, make, a, host):
    user = make.user(tenant=a)
    response = client.get(READ, headers={**make.bearer(user), "Host": host})
    assert response.status_code == 200
    assert response.get_json()["tenant_id"] == a.id


def test_unknown_subdomain_of_the_base_domain_is_403(client, make, a):
    user = make.user(tenant=a)
    response = client.get(READ, headers={**make.bearer(user), "Host": "nobody.localhost"})
    assert response.status_code == 403

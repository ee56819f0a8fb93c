"""The permission matrix: roles and key scopes, checked directly and through ``@require``."""

from __future__ import annotations

import pytest

from serving.auth.permissions import Permission, granted
from serving.auth.principal import Principal
from tests.probes import probe_blueprint, probe_path
from warehouse.controldb.models import Role

P = Permission
# Written out by hand (not derived from the module) so a change to the matrix shows in review.
TENANT_WIDE = set(Permission) - {P.PLATFORM_MANAGE}
ROLE_EXPECTED = {
    Role.ADMIN: TENANT_WIDE,
    Role.MANAGER: {
        P.TENANT_READ,
        P.DATA_READ,
        P.DATA_WRITE,
        P.DATA_INGEST,
        P.REFUNDS,
        P.NOTES,
        P.MARTS_READ,
        P.EXPORTS,
    },
    Role.ANALYST: {P.TENANT_READ, P.DATA_READ, P.MARTS_READ, P.EXPORTS, P.SQL},
    Role.VIEWER: {P.TENANT_READ, P.MARTS_READ},
}
SCOPE_EXPECTED = {
    "ingest": {P.DATA_INGEST},
    "read": {P.TENANT_READ, P.DATA_READ, P.MARTS_READ, P.EXPORTS},
    "write": {P.DATA_WRITE, P.DATA_INGEST, P.REFUNDS, P.NOTES},
    "admin": TENANT_WIDE,
}

USER = Principal(via="jwt", user_id=1)


def key(*scopes: str) -> Principal:
    return Principal(via="api_key", api_key_id=1, bound_tenant_id=1, scopes=frozenset(scopes))


# -- granted() --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_role_grants(role):
    assert granted(USER, role) == ROLE_EXPECTED[role]


@pytest.mark.parametrize("scope", list(SCOPE_EXPECTED))
def test_scope_grants(scope):
    assert granted(key(scope), None) == SCOPE_EXPECTED[scope]


@pytest.mark.parametrize(
    ("principal", "role", "expected"),
    [
        (key("read", "ingest"), None, SCOPE_EXPECTED["read"] | {P.DATA_INGEST}),  # scopes add up
        (key("read"), Role.ADMIN, SCOPE_EXPECTED["read"]),  # a key never borrows a role
        (key(), None, set()),  # no scopes, nothing
        (key("superuser"), None, set()),  # an unknown scope grants nothing
        (USER, None, set()),  # a user who is not a member
        (Principal(via="jwt", user_id=1, is_platform_admin=True), None, set(Permission)),
        (Principal(via="session", user_id=1), Role.VIEWER, ROLE_EXPECTED[Role.VIEWER]),
    ],
)
def test_grant_edge_cases(principal, role, expected):
    assert granted(principal, role) == expected


def test_only_platform_admins_hold_platform_manage():
    holders = [role for role in Role if P.PLATFORM_MANAGE in granted(USER, role)]
    holders += [s for s in SCOPE_EXPECTED if P.PLATFORM_MANAGE in granted(key(s), None)]
    assert holders == []


# -- through HTTP with @require ---------------------------------------------------------------


@pytest.fixture
def app(app):
    app.register_blueprint(probe_blueprint())
    return app


def allowed_over_http(client, headers) -> set[Permission]:
    """Call every probe route and return the permissions that answered 200."""
    allowed = set()
    for permission in Permission:
        status = client.get(probe_path(permission), headers=headers).status_code
        assert status in {200, 403}, (permission, status)
        if status == 200:
            allowed.add(permission)
    return allowed


@pytest.mark.parametrize("role", list(Role))
def test_each_role_over_http(client, make, role):
    user = make.user(tenant=make.tenant(), role=role)
    assert allowed_over_http(client, make.bearer(user)) == ROLE_EXPECTED[role]


@pytest.mark.parametrize(
    "scopes", [("ingest",), ("read",), ("write",), ("admin",), ("read", "write")]
)
def test_each_scope_over_http(client, make, scopes):
    expected = set().union(*(SCOPE_EXPECTED[s] for s in scopes))
    assert allowed_over_http(client, make.key_headers(make.tenant(), *scopes)) == expected


def test_viewer_cannot_call_a_manager_route(client, make):
    viewer = make.user(tenant=make.tenant(), role=Role.VIEWER)
    response = client.post(probe_path(P.DATA_WRITE), headers=make.bearer(viewer))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "data:write" in response.get_json()["detail"]


def test_analyst_can_run_sql(client, make):
    analyst = make.user(tenant=make.tenant(), role=Role.ANALYST)
    response = client.post(probe_path(P.SQL), headers=make.bearer(analyst))
    assert response.status_code == 200
    assert response.get_json()["role"] == "analyst"


def test_manager_cannot_manage_users(client, make):
    manager = make.user(tenant=make.tenant(), role=Role.MANAGER)
    assert client.post(probe_path(P.USERS_MANAGE), headers=make.bearer(manager)).status_code == 403


@pytest.mark.parametrize(
    ("scopes", "permission"),
    [
        (("read",), P.DATA_WRITE),  # a read key cannot write
        (("ingest",), P.DATA_READ),  # an ingest key cannot read
        (("write",), P.KEYS_MANAGE),  # only admin keys manage keys
        (("admin",), P.PLATFORM_MANAGE),  # no key is a platform admin
    ],
)
def test_key_without_the_needed_scope_is_forbidden(client, make, scopes, permission):
    headers = make.key_headers(make.tenant(), *scopes)
    assert client.post(probe_path(permission), headers=headers).status_code == 403


@pytest.mark.parametrize("permission", list(Permission))
def test_no_credentials_get_401(client, make, permission):
    make.tenant("somewhere")
    response = client.get(probe_path(permission), headers={"X-Tenant-ID": "somewhere"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "WWW-Authenticate" in response.headers


def test_platform_manage_needs_a_platform_admin(client, make):
    tenant = make.tenant()
    tenant_admin = make.user(tenant=tenant, role=Role.ADMIN)
    platform_admin = make.user(platform_admin=True)
    path = probe_path(P.PLATFORM_MANAGE)
    assert client.get(path, headers=make.bearer(tenant_admin)).status_code == 403
    assert client.get(path, headers=make.bearer(platform_admin)).status_code == 200

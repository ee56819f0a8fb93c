"""Rate limits: per principal, per tenant, per anonymous address, per route; 429 and headers.

Runs against the storage given by ``--ratelimit-storage`` (``make test-redis`` uses Redis); each
test gets its own key prefix so counters never leak between tests sharing one Redis.
"""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from flask import Blueprint

from serving import close_app, create_app
from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.protection import by_address, current_limiter, rate_limit
from warehouse.config import SettingsError

LIMITS = {
    "ratelimit_principal_default": "2/hour",
    "ratelimit_tenant_default": "4/hour",
    "ratelimit_anonymous": "5/hour",
    "ratelimit_login": "2/hour",
}
TENANT_ROUTE = "/api/v1/ratelimit-probe/tenant"
PUBLIC_ROUTE = "/api/v1/ratelimit-probe/public"
LIMITED_ROUTE = "/api/v1/ratelimit-probe/limited"

probe = Blueprint("ratelimit_probe", __name__, url_prefix="/api/v1/ratelimit-probe")


@probe.get("/tenant")
@require(Permission.TENANT_READ)
@operation(response=dict)
def tenant_route() -> dict:
    """Answer a tenant-scoped request."""
    return {"ok": True}


@probe.get("/public")
@operation(public=True, response=dict)
def public_route() -> dict:
    """Answer anyone."""
    return {"ok": True}


@probe.post("/limited")
@rate_limit("2/hour", key=by_address, message="Too many probes.")
@operation(public=True, response=dict)
def limited_route() -> dict:
    """Answer anyone, twice an hour per address."""
    return {"ok": True}


exports_limit = rate_limit("3/hour", key=by_address, scope="probe-exports")


@probe.post("/export-a")
@exports_limit
@operation(public=True, response=dict)
def export_a() -> dict:
    """Answer anyone; shares a budget with export-b."""
    return {"ok": True}


@probe.post("/export-b")
@exports_limit
@operation(public=True, response=dict)
def export_b() -> dict:
    """Answer anyone; shares a budget with export-a."""
    return {"ok": True}


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def settings(settings, prefix):
    return settings.replace(ratelimit_key_prefix=prefix, **LIMITS)


@pytest.fixture
def app(app):
    app.register_blueprint(probe)
    yield app
    _delete_redis_keys(app)


@pytest.fixture
def make_app():
    apps = []

    def build(settings):
        app = create_app(settings)
        app.register_blueprint(probe)
        apps.append(app)
        return app

    yield build
    for app in apps:
        _delete_redis_keys(app)
        close_app(app)


def current_limiter_of(app):
    with app.app_context():
        return current_limiter()


def _delete_redis_keys(app) -> None:
    settings = app.config["SHOPLAKE"]
    if not settings.ratelimit_storage_url.startswith("redis"):
        return
    connection = current_limiter_of(app).storage.get_connection()
    try:
        for key in connection.scan_iter(match=f"*{settings.ratelimit_key_prefix}*"):
            connection.delete(key)
    except redis.exceptions.ConnectionError:  # the fallback test's Redis does not exist
        pass
    connection.close()


def _calls(client, count: int, path: str = TENANT_ROUTE, method: str = "get", **kwargs) -> list:
    return [getattr(client, method)(path, **kwargs) for _ in range(count)]


def statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


def assert_rate_limited(response, scope: str) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/rate-limited")
    assert response.json["status"] == 429
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Scope"] == scope


def assert_whole_tenant_budget_left(client, make, tenant) -> None:
    """Spend the tenant's 4 requests through two keys (2 each): all must pass."""
    for key in [make.key_headers(tenant, "read") for _ in range(2)]:
        assert statuses(_calls(client, 2, headers=key)) == [200, 200]


def test_request_past_the_limit_gets_429_with_retry_after(client, make):
    headers = make.key_headers(make.tenant(), "read")
    first, second, third = _calls(client, 3, headers=headers)
    assert statuses([first, second]) == [200, 200]
    # Headers report the tightest budget: the principal's 2/hour, not the tenant's 4/hour.
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert [r.headers["X-RateLimit-Remaining"] for r in (first, second)] == ["1", "0"]
    assert time.time() < int(first.headers["X-RateLimit-Reset"]) <= time.time() + 3601
    assert_rate_limited(third, "principal")
    retry_at = time.time() + int(third.headers["Retry-After"])
    assert abs(int(third.headers["X-RateLimit-Reset"]) - retry_at) <= 2


def test_tenants_do_not_share_counters(client, make):
    tenant_a, tenant_b = make.tenant(), make.tenant()
    assert_whole_tenant_budget_left(client, make, tenant_a)
    assert_rate_limited(client.get(TENANT_ROUTE, headers=make.key_headers(tenant_a)), "tenant")
    assert_whole_tenant_budget_left(client, make, tenant_b)


def test_each_principal_has_its_own_limit_inside_a_tenant(client, make):
    tenant = make.tenant()
    user = make.user(tenant=tenant)
    key = make.key_headers(tenant, "read")
    assert statuses(_calls(client, 2, headers=key)) == [200, 200]
    assert_rate_limited(client.get(TENANT_ROUTE, headers=key), "principal")
    # Another principal of the same tenant (a user, by JWT) is unaffected.
    assert client.get(TENANT_ROUTE, headers=make.bearer(user, tenant)).status_code == 200


def test_a_users_budget_in_one_tenant_is_not_spent_in_another(client, make):
    tenant_a, tenant_b = make.tenant(), make.tenant()
    user = make.user(tenant=tenant_a)
    make.membership(user, tenant_b)
    # No tenant claim in the token: the tenant is named per request.
    in_a = {**make.bearer(user), "X-Tenant-ID": str(tenant_a.id)}
    in_b = {**make.bearer(user), "X-Tenant-ID": str(tenant_b.id)}
    assert statuses(_calls(client, 2, headers=in_a)) == [200, 200]
    assert_rate_limited(client.get(TENANT_ROUTE, headers=in_a), "principal")
    assert client.get(TENANT_ROUTE, headers=in_b).status_code == 200


def test_tenant_settings_override_the_defaults(client, make):
    strict = make.tenant(settings={"rate_limit_tenant": "1/hour"})
    generous = make.tenant(
        settings={"rate_limit_principal": "3/hour", "rate_limit_tenant": "9/hour"}
    )
    assert client.get(TENANT_ROUTE, headers=make.key_headers(strict, "read")).status_code == 200
    refused = client.get(TENANT_ROUTE, headers=make.key_headers(strict, "read"))
    assert_rate_limited(refused, "tenant")
    key = make.key_headers(generous, "read")
    assert statuses(_calls(client, 3, headers=key)) == [200] * 3
    assert client.get(TENANT_ROUTE, headers=key).headers["X-RateLimit-Limit"] == "3"


def test_an_invalid_tenant_override_falls_back_to_the_default(client, make):
    tenant = make.tenant(settings={"rate_limit_principal": "lots", "rate_limit_tenant": 7})
    key = make.key_headers(tenant, "read")
    assert statuses(_calls(client, 2, headers=key)) == [200, 200]
    assert_rate_limited(client.get(TENANT_ROUTE, headers=key), "principal")


def test_anonymous_requests_are_limited_per_address(client, make):
    assert statuses(_calls(client, 5, PUBLIC_ROUTE)) == [200] * 5
    assert_rate_limited(client.get(PUBLIC_ROUTE), "address")
    # Another address has its own budget; a signed-in caller at the same address is not anonymous.
    other = client.get(PUBLIC_ROUTE, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code == 200
    assert other.headers["X-RateLimit-Remaining"] == "4"
    headers = make.key_headers(make.tenant(), "read")
    assert client.get(PUBLIC_ROUTE, headers=headers).status_code == 200


def test_forwarded_for_cannot_dodge_the_limit_without_trust_proxy(client):
    forged = [{"X-Forwarded-For": f"192.0.2.{n}"} for n in range(6)]
    assert statuses(client.get(PUBLIC_ROUTE, headers=h) for h in forged) == [200] * 5 + [429]


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(settings, make_app):
    client = make_app(settings.replace(trust_proxy=True)).test_client()
    one_client = {"X-Forwarded-For": "192.0.2.1"}
    assert statuses(_calls(client, 6, PUBLIC_ROUTE, headers=one_client)) == [200] * 5 + [429]
    assert client.get(PUBLIC_ROUTE, headers={"X-Forwarded-For": "192.0.2.2"}).status_code == 200


def test_ipv6_callers_are_counted_by_their_64_network(client):
    one_network = [{"REMOTE_ADDR": f"2001:db8:1:2::{n}"} for n in range(6)]
    responses = (client.get(PUBLIC_ROUTE, environ_base=e) for e in one_network)
    assert statuses(responses) == [200] * 5 + [429]


def test_sign_in_attempts_are_limited_per_address_across_both_endpoints(client, make):
    user = make.user()
    wrong = {"email": user.email, "password": "wrong password"}
    assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    assert client.post("/api/v1/auth/session", json=wrong).status_code == 401
    assert_rate_limited(client.post("/api/v1/auth/login", json=wrong), "sign-in")
    assert_rate_limited(client.post("/api/v1/auth/session", json=wrong), "sign-in")
    elsewhere = client.post(
        "/api/v1/auth/login", json=wrong, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert elsewhere.status_code == 401


def test_a_decorated_route_has_its_own_extra_limit(client):
    assert statuses(_calls(client, 2, LIMITED_ROUTE, "post")) == [200, 200]
    refused = client.post(LIMITED_ROUTE)
    assert refused.status_code == 429
    assert refused.json["detail"].startswith("Too many probes.")
    assert refused.headers["X-RateLimit-Scope"].startswith("route:")
    # The route's budget is its own: the address still has anonymous budget elsewhere.
    assert client.get(PUBLIC_ROUTE).status_code == 200


def test_views_under_one_named_scope_share_its_budget(client):
    responses = [client.post(f"/api/v1/ratelimit-probe/export-{v}") for v in "abab"]
    assert statuses(responses) == [200, 200, 200, 429]
    assert responses[-1].headers["X-RateLimit-Scope"] == "probe-exports"


@pytest.mark.parametrize(
    "scope",
    [
        "probe-exports",  # already declared above
        "sign-in",  # the built-in sign-in rule
        "tenant",  # a server-wide budget
    ],
)
def test_a_scope_cannot_be_declared_twice(scope):
    with pytest.raises(ValueError, match="declared twice"):
        rate_limit("1/hour", scope=scope)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/docs"])
def test_probes_and_docs_are_exempt(client, path):
    responses = _calls(client, 7, path)
    assert statuses(responses) == [200] * 7
    assert "X-RateLimit-Limit" not in responses[-1].headers


def test_a_foreign_tenant_reference_is_refused_and_costs_that_tenant_nothing(client, make):
    mine, theirs = make.tenant(), make.tenant()
    elsewhere = {"X-Tenant-ID": str(theirs.id)}
    # A key bound to one tenant naming another: tenancy's 403 is the answer, not a 429 or 500.
    key = make.key_headers(mine, "read")
    assert statuses(_calls(client, 3, headers={**key, **elsewhere})) == [403] * 3
    # A user who is no member of the named tenant is refused; only the user's own budget pays.
    outsider = make.bearer(make.user(tenant=mine))
    assert statuses(_calls(client, 2, headers={**outsider, **elsewhere})) == [403] * 2
    assert_whole_tenant_budget_left(client, make, theirs)


def test_counters_live_in_the_configured_storage(client, make, app, prefix):
    headers = make.key_headers(make.tenant(), "read")
    assert client.get(TENANT_ROUTE, headers=headers).status_code == 200
    storage = current_limiter_of(app).storage
    if app.config["SHOPLAKE"].ratelimit_storage_url.startswith("redis"):
        assert type(storage).__name__ == "RedisStorage"
        keys = list(storage.get_connection().scan_iter(match=f"*{prefix}*"))
    else:
        assert type(storage).__name__ == "MemoryStorage"
        keys = [key for key in storage.storage if prefix in key]
    assert len(keys) == 2  # one principal counter, one tenant counter


def test_unreachable_storage_falls_back_to_memory(settings, make_app):
    app = make_app(settings.replace(ratelimit_storage_url="redis://127.0.0.1:1/0"))
    client = app.test_client()
    assert statuses(_calls(client, 5, PUBLIC_ROUTE)) == [200] * 5
    assert_rate_limited(client.get(PUBLIC_ROUTE), "address")


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_a_malformed_limit_setting_stops_startup(settings, name):
    with pytest.raises(SettingsError, match=name.upper()):
        create_app(settings.replace(**{name: "plenty"}))

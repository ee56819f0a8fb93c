"""CORS: the deployment's and the named tenant's origins are allowed, nobody else is."""

from __future__ import annotations

import uuid

import pytest
from flask import Blueprint

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.protection.cors import ALLOWED_HEADERS

ROUTE = "/api/v1/cors-probe/tenant"
EVERYWHERE = "https://dashboard.shoplake.example"
TENANT_ORIGIN = "https://shop.acme.example"
STRANGER = "https://evil.example"

probe = Blueprint("cors_probe", __name__, url_prefix="/api/v1/cors-probe")


@probe.route("/tenant", methods=["GET", "POST"])
@require(Permission.TENANT_READ)
@operation(response=dict)
def tenant_route() -> dict:
    """Answer a tenant-scoped request."""
    return {"ok": True}


@pytest.fixture
def settings(settings):
    # Its own key prefix keeps the anonymous budget apart from other tests in a shared Redis.
    return settings.replace(
        cors_origins=(EVERYWHERE + "/",),
        ratelimit_anonymous="2/hour",
        ratelimit_key_prefix=f"test-{uuid.uuid4().hex}",
    )


@pytest.fixture
def app(app):
    app.register_blueprint(probe)
    return app


@pytest.fixture
def acme(make):
    return make.tenant(settings={"cors_origins": [TENANT_ORIGIN]})


def preflight(client, origin: str, path: str = ROUTE, **headers: str):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-tenant-id",
            **headers,
        },
    )


def assert_no_cors(response) -> None:
    assert not any(name.startswith("Access-Control-") for name, _ in response.headers.items())


def assert_allowed(response, origin: str) -> None:
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers["Vary"]


def test_a_deployment_origin_may_read_any_tenants_responses(client, make, acme):
    response = client.get(ROUTE, headers={"Origin": EVERYWHERE, **make.key_headers(acme, "read")})
    assert response.status_code == 200
    assert_allowed(response, EVERYWHERE)
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert {"X-Request-ID", "Retry-After", "X-RateLimit-Remaining"} <= set(exposed.split(", "))


def test_a_tenant_origin_is_allowed_for_that_tenant(client, make, acme):
    response = client.get(
        ROUTE, headers={"Origin": TENANT_ORIGIN, **make.key_headers(acme, "read")}
    )
    assert_allowed(response, TENANT_ORIGIN)


def test_a_tenant_origin_is_not_allowed_for_another_tenant(client, make, acme):
    other = make.tenant()
    response = client.get(
        ROUTE, headers={"Origin": TENANT_ORIGIN, **make.key_headers(other, "read")}
    )
    assert response.status_code == 200
    assert_no_cors(response)
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize(
    "origin",
    [
        STRANGER,  # not listed anywhere
        "null",  # sandboxed frames and files
        TENANT_ORIGIN + ".evil.example",  # a listed origin as a prefix
        "http://shop.acme.example",  # listed origin, other scheme
    ],
)
def test_unlisted_origins_get_no_cors_headers(client, make, acme, origin):
    response = client.get(ROUTE, headers={"Origin": origin, **make.key_headers(acme, "read")})
    assert response.status_code == 200
    assert_no_cors(response)


def test_errors_carry_cors_headers_so_browsers_can_read_them(client):
    response = client.get(ROUTE, headers={"Origin": EVERYWHERE})
    assert response.status_code == 401
    assert_allowed(response, EVERYWHERE)


def test_preflight_from_an_allowed_origin(client):
    response = preflight(client, EVERYWHERE)
    assert response.status_code == 204
    assert_allowed(response, EVERYWHERE)
    allowed_headers = {
        h.strip() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert allowed_headers == set(ALLOWED_HEADERS)
    assert {
        "Authorization",
        "Content-Type",
        "X-API-Key",
        "X-Tenant-ID",
        "X-CSRF-Token",
        "Idempotency-Key",
        "X-Request-ID",
    } <= allowed_headers
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in response.headers["Vary"]


def test_preflight_uses_the_tenant_named_without_credentials(client, acme):
    # Browsers send no credentials on a preflight: the tenant comes from path, query or host.
    by_query = preflight(client, TENANT_ORIGIN, ROUTE + f"?tenant_id={acme.id}")
    assert_allowed(by_query, TENANT_ORIGIN)
    by_path = preflight(client, TENANT_ORIGIN, f"/api/v1/tenants/{acme.slug}/cors-probe/tenant")
    assert_allowed(by_path, TENANT_ORIGIN)
    assert_no_cors(preflight(client, TENANT_ORIGIN))


@pytest.mark.parametrize("origin", [STRANGER, "null"])
def test_preflight_from_other_origins_gets_no_cors_headers(client, origin):
    response = preflight(client, origin)
    assert response.status_code == 204
    assert_no_cors(response)


def test_preflight_naming_an_unknown_tenant_is_answered_without_cors(client):
    response = preflight(client, TENANT_ORIGIN, ROUTE + "?tenant_id=no-such-tenant")
    assert response.status_code == 204
    assert_no_cors(response)


def test_preflights_do_not_spend_the_anonymous_budget(client):
    assert all(preflight(client, EVERYWHERE).status_code == 204 for _ in range(5))
    assert client.get(ROUTE).status_code == 401  # not 429: the budget of 2 is untouched


def test_unknown_routes_are_not_preflighted(client):
    assert preflight(client, EVERYWHERE, "/api/v1/no-such-route").status_code == 404

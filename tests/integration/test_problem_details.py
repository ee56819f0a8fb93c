"""Every failure path answers RFC 9457 problem+json of one shape, never a stack trace."""

import pytest
from flask import Blueprint

from tests.factories import PASSWORD

PROBLEM_KEYS = {"type", "title", "status", "detail", "request_id"}


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.get_data(as_text=True)
    if field is not None:
        assert field in {e["field"] for e in body["errors"]}, body
    return body


def test_400_malformed_json(client):
    response = client.post(
        "/api/v1/auth/login", data=b'{"email": ', content_type="application/json"
    )
    assert_problem(response, 400, field="body")


def test_401_no_credentials(client):
    assert_problem(client.get("/api/v1/auth/me"), 401)


def test_403_role_without_permission(client, make):
    tenant = make.tenant()
    viewer = make.user(tenant=tenant, role="viewer")
    response = client.post(
        "/api/v1/keys/", json={"name": "k", "scopes": ["read"]}, headers=make.bearer(viewer, tenant)
    )
    assert_problem(response, 403)


def test_404_unknown_route(client):
    assert_problem(client.get("/api/v1/no-such-thing/"), 404)


def test_405_wrong_method_names_allowed_ones(client):
    response = client.delete("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_409_duplicate_slug(client, make):
    admin = make.user(platform_admin=True)
    make.tenant("taken")
    response = client.post(
        "/api/v1/tenants/", json={"slug": "taken", "name": "Again"}, headers=make.bearer(admin)
    )
    assert_problem(response, 409, field="slug")


def test_413_body_too_large(app, client):
    limit = app.config["SHOPLAKE"].max_body_bytes
    response = client.post(
        "/api/v1/auth/login", data=b"x" * (limit + 1), content_type="application/json"
    )
    assert_problem(response, 413)


def test_415_wrong_content_type(client):
    response = client.post("/api/v1/auth/login", data="email=a", content_type="text/plain")
    assert_problem(response, 415, field="Content-Type")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": 5, "password": PASSWORD}, "email"),  # wrong type
        ({"password": PASSWORD}, "email"),  # missing field
        ({"email": "a@b.example", "password": PASSWORD, "admin": True}, "admin"),  # unknown field
    ],
)
def test_422_invalid_fields(client, body, field):
    assert_problem(client.post("/api/v1/auth/login", json=body), 422, field=field)


def test_429_rate_limited_with_retry_after(client):
    body = {"email": "nobody@example.com", "password": "wrong password!"}
    responses = [client.post("/api/v1/auth/login", json=body) for _ in range(30)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited, [r.status_code for r in responses]
    assert_problem(limited[0], 429)
    assert int(limited[0].headers["Retry-After"]) >= 1


def test_500_hides_the_exception(app, client):
    boom = Blueprint("boom", __name__)

    @boom.get("/boom")
    def explode():
        raise RuntimeError("secret internal detail")

    app.register_blueprint(boom)
    response = client.get("/boom")
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert body["detail"] == "An unexpected error occurred."

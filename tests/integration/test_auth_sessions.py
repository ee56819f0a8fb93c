"""Browser cookie sessions: sign in, CSRF on every write, fixation-safe login, sign out."""

from __future__ import annotations

import pytest

from serving.auth.permissions import Permission
from tests.factories import PASSWORD
from tests.probes import probe_blueprint, probe_path

SESSION = "/api/v1/auth/session"
CSRF = "/api/v1/auth/session/csrf"
ME = "/api/v1/auth/me"
WRITE = probe_path(Permission.DATA_WRITE)


@pytest.fixture
def app(app):
    app.register_blueprint(probe_blueprint())
    return app


def sign_in(client, user, password=PASSWORD):
    return client.post(SESSION, json={"email": user.email, "password": password})


def test_sign_in_sets_a_hardened_cookie(client, make):
    user = make.user(tenant=make.tenant())
    response = sign_in(client, user)
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["id"] == user.id
    assert len(body["csrf_token"]) >= 32
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a permanent session, bounded by session_hours
    me = client.get(ME)
    assert me.status_code == 200
    assert me.get_json()["via"] == "session"
    assert client.get(CSRF).get_json() == {"csrf_token": body["csrf_token"]}


def test_wrong_password_sets_no_session(client, make):
    user = make.user()
    response = sign_in(client, user, password="wrong password!")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
    assert client.get(ME).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no token at all
        {"X-CSRF-Token": "guessed"},  # a wrong token
        {"X-CSRF-Token": ""},  # an empty one
    ],
)
def test_writes_without_the_csrf_token_are_refused(client, make, headers):
    user = make.user(tenant=make.tenant())
    sign_in(client, user)
    response = client.post(WRITE, headers=headers)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith("/csrf-failed")
    assert body["errors"][0]["field"] == "X-CSRF-Token"


def test_writes_with_the_csrf_token_pass(client, make):
    tenant = make.tenant()
    user = make.user(tenant=tenant)
    token = sign_in(client, user).get_json()["csrf_token"]
    response = client.post(WRITE, headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.get_json() == {
        "permission": "data:write",
        "tenant_id": tenant.id,
        "role": "admin",
        "via": "session",
    }


def test_reads_need_no_csrf_token(client, make):
    user = make.user(tenant=make.tenant())
    sign_in(client, user)
    assert client.get(WRITE).status_code == 200


def test_sign_in_replaces_whatever_the_cookie_held(client, make):
    victim, other = make.user(tenant=make.tenant()), make.user()
    with client.session_transaction() as planted:  # an attacker-fixed session
        planted["user_id"] = other.id
        planted["csrf"] = "known-to-attacker"
        planted["extra"] = "leftover"
    # Signing in needs no CSRF token even though a session cookie is present.
    token = sign_in(client, victim).get_json()["csrf_token"]
    assert token != "known-to-attacker"
    with client.session_transaction() as current:
        assert current["user_id"] == victim.id
        assert "extra" not in current
    assert client.post(WRITE, headers={"X-CSRF-Token": "known-to-attacker"}).status_code == 403


def test_sign_out_needs_the_csrf_token_and_ends_the_session(client, make):
    user = make.user(tenant=make.tenant())
    token = sign_in(client, user).get_json()["csrf_token"]
    assert client.delete(SESSION).status_code == 403
    assert client.get(ME).status_code == 200
    response = client.delete(SESSION, headers={"X-CSRF-Token": token})
    assert response.status_code == 204
    assert "session=;" in response.headers["Set-Cookie"]  # the browser drops the cookie
    assert client.get(ME).status_code == 401
    assert client.get(CSRF).status_code == 401


def test_csrf_endpoint_needs_a_session(client, make):
    user = make.user()
    assert client.get(CSRF).status_code == 401
    assert client.get(CSRF, headers=make.bearer(user)).status_code == 401


def test_a_disabled_users_session_signs_nobody_in(client, make):
    user = make.user(tenant=make.tenant())
    sign_in(client, user)
    make.user_active(user, False)
    assert client.get(ME).status_code == 401
    assert client.get(WRITE).status_code == 401
    assert client.get("/healthz").status_code == 200  # public routes still answer


def test_a_bearer_token_beside_a_session_cookie_needs_no_csrf(client, make):
    user = make.user(tenant=make.tenant())
    sign_in(client, user)
    response = client.post(WRITE, headers=make.bearer(user))
    assert response.status_code == 200
    assert response.get_json()["via"] == "jwt"

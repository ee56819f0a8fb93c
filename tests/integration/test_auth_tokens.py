"""JWT login, refresh rotation with reuse detection, logout, and refused tokens."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import jwt
import pytest
from flask_jwt_extended import create_access_token, create_refresh_token

from serving.auth import tokens
from tests.factories import PASSWORD
from warehouse.controldb import transaction
from warehouse.controldb.models import RefreshToken, RevokedAccessToken, Role, utcnow

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


def login(client, user, password=PASSWORD, **extra):
    return client.post(LOGIN, json={"email": user.email, "password": password, **extra})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refresh(client, token: str):
    return client.post(REFRESH, json={"refresh_token": token})


def claims_of(app, token: str) -> dict:
    with app.app_context():
        from flask_jwt_extended import decode_token

        return decode_token(token)


# -- login ------------------------------------------------------------------------------------


def test_login_binds_the_only_tenant(app, client, make):
    tenant = make.tenant("acme")
    user = make.user(tenant=tenant, role=Role.ANALYST)
    response = login(client, user)
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"] == {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "is_platform_admin": False,
    }
    assert body["tenant"]["slug"] == "acme"
    assert claims_of(app, body["access_token"])["tid"] == tenant.id
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["tenant"]["id"] == tenant.id


def test_login_with_two_memberships_binds_only_a_named_tenant(app, client, make):
    a, b = make.tenant(), make.tenant("beta")
    user = make.user(tenant=a)
    make.membership(user, b, Role.VIEWER)
    unbound = login(client, user).get_json()
    assert unbound["tenant"] is None
    assert "tid" not in claims_of(app, unbound["access_token"])
    assert login(client, user, tenant="beta").get_json()["tenant"]["id"] == b.id  # by slug
    assert login(client, user, tenant=a.id).get_json()["tenant"]["id"] == a.id  # by id
    assert login(client, user, tenant=str(a.id)).get_json()["tenant"]["id"] == a.id


@pytest.mark.parametrize("platform_admin", [False, True])
def test_login_naming_a_foreign_or_missing_tenant(client, make, platform_admin):
    a, b = make.tenant(), make.tenant()
    user = make.user(tenant=a, platform_admin=platform_admin)
    foreign = login(client, user, tenant=b.slug)
    missing = login(client, user, tenant="no-such-tenant")
    if platform_admin:  # may act on any tenant, and may learn that one does not exist
        assert foreign.status_code == 200
        assert foreign.get_json()["tenant"]["id"] == b.id
        assert missing.status_code == 404
    else:  # a member gets the same 403 whether or not the tenant exists
        assert foreign.status_code == missing.status_code == 403
        assert foreign.get_json()["detail"] == missing.get_json()["detail"]


def test_login_to_a_suspended_tenant_is_refused(client, make):
    tenant = make.tenant()
    user = make.user(tenant=tenant)
    make.tenant_status(tenant, "suspended")
    assert login(client, user).status_code == 403
    assert login(client, user, tenant=tenant.slug).status_code == 403


def test_wrong_password_and_unknown_user_get_the_same_401(client, make):
    user = make.user()
    disabled = make.user()
    make.user_active(disabled, False)
    answers = [
        login(client, user, password="wrong password!"),
        client.post(LOGIN, json={"email": "nobody@example.com", "password": PASSWORD}),
        login(client, disabled),  # a disabled account is indistinguishable as well
    ]
    bodies = []
    for response in answers:
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert "WWW-Authenticate" in response.headers
        body = response.get_json()
        body.pop("request_id")
        bodies.append(body)
    assert bodies[0] == bodies[1] == bodies[2]


def test_login_email_ignores_case_and_spaces(client, make):
    make.user("mixed@example.com")
    response = client.post(LOGIN, json={"email": " Mixed@Example.COM ", "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"email": "a@example.com"}, 422),  # password missing
        ({"email": "a@example.com", "password": ""}, 422),  # empty password
        ({"email": "a@example.com", "password": "x", "extra": 1}, 422),  # unknown field
        ({"email": "a@example.com", "password": "x", "tenant": True}, 422),  # not an id or slug
    ],
)
def test_login_validates_the_body(client, payload, status):
    assert client.post(LOGIN, json=payload).status_code == status


def test_login_needs_a_json_body(client, make):
    user = make.user()
    response = client.post(LOGIN, data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 415


# -- refresh ----------------------------------------------------------------------------------


def test_refresh_rotates_the_pair(app, client, make):
    tenant = make.tenant()
    user = make.user(tenant=tenant)
    first = login(client, user).get_json()
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["tenant"]["id"] == tenant.id
    assert client.get(ME, headers=bearer(second["access_token"])).status_code == 200
    old, new = claims_of(app, first["refresh_token"]), claims_of(app, second["refresh_token"])
    assert old["fam"] == new["fam"]
    rows = {row.jti: row for row in make.refresh_tokens(user)}
    assert rows[old["jti"]].used_at is not None
    assert rows[new["jti"]].used_at is None and rows[new["jti"]].revoked_at is None
    third = refresh(client, second["refresh_token"])  # the rotated token is usable once more
    assert third.status_code == 200


def test_reused_refresh_token_revokes_the_whole_family(app, client, make):
    user = make.user(tenant=make.tenant())
    first = login(client, user).get_json()
    other_login = login(client, user).get_json()
    second = refresh(client, first["refresh_token"]).get_json()
    reused = refresh(client, first["refresh_token"])
    assert reused.status_code == 401
    assert reused.mimetype == "application/problem+json"
    # The thief's or the victim's newest token is dead too: the family is over.
    assert refresh(client, second["refresh_token"]).status_code == 401
    family = claims_of(app, first["refresh_token"])["fam"]
    rows = make.refresh_tokens(user)
    assert all(row.revoked_at is not None for row in rows if row.family_id == family)
    # Another login of the same user is a different family and survives.
    assert refresh(client, other_login["refresh_token"]).status_code == 200


def test_concurrent_refreshes_with_one_token_cannot_both_succeed(app, make):
    user = make.user(tenant=make.tenant())
    token = login(app.test_client(), user).get_json()["refresh_token"]
    start = threading.Barrier(4)

    def attempt(_n: int) -> int:
        client = app.test_client()
        start.wait()
        return refresh(client, token).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(attempt, range(4)))
    assert statuses.count(200) <= 1
    assert set(statuses) <= {200, 401}
    assert len([row for row in make.refresh_tokens(user) if row.used_at is not None]) == 1


def test_refresh_refused_once_the_account_is_disabled(client, make):
    user = make.user(tenant=make.tenant())
    pair = login(client, user).get_json()
    make.user_active(user, False)
    assert refresh(client, pair["refresh_token"]).status_code == 401
    make.user_active(user, True)
    assert refresh(client, pair["refresh_token"]).status_code == 401  # the family was revoked


def test_refresh_refused_after_leaving_the_tenant(app, client, make):
    tenant, other = make.tenant(), make.tenant()
    user = make.user(tenant=tenant)
    make.membership(user, other)
    pair = login(client, user, tenant=tenant.slug).get_json()
    with transaction(app.extensions["shoplake.sessions"]) as session:
        from sqlalchemy import delete

        from warehouse.controldb.models import Membership

        session.execute(delete(Membership).where(Membership.tenant_id == tenant.id))
    assert refresh(client, pair["refresh_token"]).status_code == 401


def test_expired_and_unrecorded_refresh_tokens_are_refused(app, client, make):
    user = make.user()
    with app.app_context():
        expired = create_refresh_token(str(user.id), expires_delta=timedelta(seconds=-1))
        unrecorded = create_refresh_token(str(user.id))  # validly signed, never issued by login
    assert refresh(client, expired).status_code == 401
    assert refresh(client, unrecorded).status_code == 401


def test_an_access_token_cannot_refresh(client, make):
    user = make.user()
    pair = login(client, user).get_json()
    response = refresh(client, pair["access_token"])
    assert response.status_code == 401


# -- logout -----------------------------------------------------------------------------------


def test_logout_revokes_access_token_and_refresh_family(client, make):
    user = make.user(tenant=make.tenant())
    pair = login(client, user).get_json()
    response = client.post(
        LOGOUT, headers=bearer(pair["access_token"]), json={"refresh_token": pair["refresh_token"]}
    )
    assert response.status_code == 204
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 401
    assert refresh(client, pair["refresh_token"]).status_code == 401


def test_logout_with_only_the_access_token_ends_its_family(client, make):
    user = make.user()
    pair = login(client, user).get_json()
    assert client.post(LOGOUT, headers=bearer(pair["access_token"])).status_code == 204
    assert refresh(client, pair["refresh_token"]).status_code == 401


def test_logout_with_only_the_refresh_token(client, make):
    user = make.user()
    pair = login(client, user).get_json()
    assert client.post(LOGOUT, json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert refresh(client, pair["refresh_token"]).status_code == 401
    # The access token was not presented, so it lives until its short expiry.
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200


def test_logout_twice_is_refused_the_second_time(client, make):
    pair = login(client, make.user()).get_json()
    assert client.post(LOGOUT, headers=bearer(pair["access_token"])).status_code == 204
    assert client.post(LOGOUT, headers=bearer(pair["access_token"])).status_code == 401


def test_logout_needs_a_token(client):
    response = client.post(LOGOUT)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_logout_refuses_another_users_refresh_token(client, make):
    mine, theirs = login(client, make.user()).get_json(), login(client, make.user()).get_json()
    response = client.post(
        LOGOUT,
        headers=bearer(mine["access_token"]),
        json={"refresh_token": theirs["refresh_token"]},
    )
    assert response.status_code == 403
    assert refresh(client, theirs["refresh_token"]).status_code == 200


# -- refused access tokens --------------------------------------------------------------------


def test_expired_access_token_is_refused(app, client, make):
    user = make.user()
    with app.app_context():
        token = create_access_token(str(user.id), expires_delta=timedelta(seconds=-1))
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def _flip_last_signature_char(token: str) -> str:
    head, _, signature = token.rpartition(".")
    # The last base64url char may carry unused bits, so change one in the middle.
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def test_tampered_tokens_are_refused(app, client, make):
    user = make.user()
    good = make.access_token(user)
    claims = claims_of(app, good)
    forged_with_other_secret = jwt.encode(claims, "another-secret-of-decent-length!", "HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    head, payload, signature = good.split(".")
    admin_claims = {**claims, "sub": "999"}
    swapped_payload = jwt.encode(admin_claims, "x" * 32, "HS256").split(".")[1]
    for token in (
        _flip_last_signature_char(good),
        forged_with_other_secret,
        unsigned,
        f"{head}.{swapped_payload}.{signature}",  # payload edited, signature kept
        "not-a-jwt",
    ):
        assert client.get(ME, headers=bearer(token)).status_code == 401, token
    assert client.get(ME, headers=bearer(good)).status_code == 200


def test_refresh_token_cannot_call_the_api(client, make):
    pair = login(client, make.user()).get_json()
    response = client.get(ME, headers=bearer(pair["refresh_token"]))
    assert response.status_code == 401


# -- me and pruning ---------------------------------------------------------------------------


def test_me_lists_memberships_for_users(client, make):
    a, b = make.tenant("alpha"), make.tenant("bravo")
    user = make.user(tenant=a, role=Role.MANAGER)
    make.membership(user, b, Role.VIEWER)
    body = client.get(ME, headers=make.bearer(user)).get_json()
    assert body["via"] == "jwt"
    assert body["user"]["id"] == user.id
    assert [(m["tenant"]["slug"], m["role"]) for m in body["memberships"]] == [
        ("alpha", "manager"),
        ("bravo", "viewer"),
    ]
    assert body["tenant"] is None and body["api_key"] is None


def test_me_describes_an_api_key(client, make):
    tenant = make.tenant("keyed")
    body = client.get(ME, headers=make.key_headers(tenant, "read", "ingest")).get_json()
    assert body["via"] == "api_key"
    assert body["user"] is None
    assert body["tenant"]["slug"] == "keyed"
    assert body["api_key"]["scopes"] == ["ingest", "read"]


def test_me_needs_credentials(client):
    assert client.get(ME).status_code == 401


def test_prune_expired_removes_only_dead_rows(app, make):
    user = make.user()
    now = utcnow()
    with transaction(app.extensions["shoplake.sessions"]) as session:
        session.add_all(
            [
                RefreshToken(
                    jti="old", family_id="f", user_id=user.id, expires_at=now - timedelta(days=1)
                ),
                RefreshToken(
                    jti="live", family_id="f", user_id=user.id, expires_at=now + timedelta(days=1)
                ),
                RevokedAccessToken(jti="old-access", expires_at=now - timedelta(minutes=1)),
                RevokedAccessToken(jti="live-access", expires_at=now + timedelta(minutes=1)),
            ]
        )
    with transaction(app.extensions["shoplake.sessions"]) as session:
        assert tokens.prune_expired(session) == 2
    with transaction(app.extensions["shoplake.sessions"]) as session:
        assert session.get(RefreshToken, "live") is not None
        assert session.get(RevokedAccessToken, "live-access") is not None
        assert session.get(RefreshToken, "old") is None

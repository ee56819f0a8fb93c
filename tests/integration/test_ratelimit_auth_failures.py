"""Failed-authentication throttle: wrong credentials are counted per address and then refused.

Runs against the storage given by ``--ratelimit-storage`` like the other rate-limit tests; each
test has its own key prefix, and its Redis keys are deleted afterwards.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis
from flask_jwt_extended import create_access_token

from serving import close_app, create_app
from serving.protection import current_limiter
from warehouse.config import SettingsError
from warehouse.controldb import transaction
from warehouse.controldb.models import ApiKey

BUDGET = 3
ME = "/api/v1/auth/me"
WRONG_KEY = {"X-API-Key": "sl_nosuchkey_0000000000000000000000"}
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.50"}


@pytest.fixture
def settings(settings):
    return settings.replace(ratelimit_auth_failures=f"{BUDGET}/hour")


@pytest.fixture
def make_app():
    apps = []

    def build(settings):
        apps.append(create_app(settings))
        return apps[-1]

    yield build
    for app in apps:
        _delete_redis_keys(app)
        close_app(app)


@pytest.fixture
def app(app):
    yield app
    _delete_redis_keys(app)


def _delete_redis_keys(app) -> None:
    settings = app.config["SHOPLAKE"]
    if not settings.ratelimit_storage_url.startswith("redis"):
        return
    with app.app_context():
        connection = current_limiter().storage.get_connection()
    try:
        for key in connection.scan_iter(match=f"*{settings.ratelimit_key_prefix}*"):
            connection.delete(key)
    except redis.exceptions.ConnectionError:  # the fallback test's Redis does not exist
        pass
    connection.close()


def statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


def fail(client, count: int = BUDGET, headers=WRONG_KEY, path: str = ME, **kwargs) -> list[int]:
    return statuses(client.get(path, headers=headers, **kwargs) for _ in range(count))


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])


def expired_token(app, user) -> str:
    with app.app_context():
        return create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-30))


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/rate-limited")
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert response.headers["X-RateLimit-Scope"] == "auth-failures"
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_past_the_budget_even_a_correct_key_is_refused_unchecked(app, client, make):
    tenant = make.tenant()
    good = make.key_headers(tenant, "read")
    assert fail(client) == [401] * BUDGET
    assert_throttled(client.get(ME, headers=WRONG_KEY))
    # The trade-off that stops guessing: a right key looks exactly like a wrong one now...
    assert_throttled(client.get(ME, headers=good))
    # ...because it is never checked: authentication would have recorded the key's use.
    with transaction(app.extensions["shoplake.sessions"]) as session:
        assert all(key.last_used_at is None for key in session.query(ApiKey))


def test_another_address_is_unaffected(client, make):
    good = make.key_headers(make.tenant(), "read")
    assert fail(client) == [401] * BUDGET
    assert_throttled(client.get(ME, headers=good))
    assert client.get(ME, headers=good, environ_base=ELSEWHERE).status_code == 200
    assert fail(client, headers=WRONG_KEY, environ_base=ELSEWHERE) == [401] * BUDGET


def test_the_address_is_let_in_again_when_the_window_passes(settings, make_app, make):
    client = make_app(settings.replace(ratelimit_auth_failures="2 per 2 seconds")).test_client()
    good = make.key_headers(make.tenant(), "read")
    assert fail(client, 2) == [401, 401]
    refused = client.get(ME, headers=good)
    assert_throttled(refused)
    assert int(refused.headers["Retry-After"]) <= 2
    time.sleep(int(refused.headers["Retry-After"]) + 0.2)
    assert client.get(ME, headers=good).status_code == 200


def test_successful_requests_do_not_count(client, make):
    good = make.key_headers(make.tenant(), "read")
    assert fail(client, BUDGET + 2, headers=good) == [200] * (BUDGET + 2)
    assert fail(client) == [401] * BUDGET
    assert_throttled(client.get(ME, headers=good))


def test_a_success_does_not_reset_the_count(client, make):
    # Otherwise one valid key would let an attacker interleave unlimited guesses.
    good = make.key_headers(make.tenant(), "read")
    assert fail(client, BUDGET - 1) == [401] * (BUDGET - 1)
    assert client.get(ME, headers=good).status_code == 200
    assert fail(client, 1) == [401]
    assert_throttled(client.get(ME, headers=WRONG_KEY))


@pytest.mark.parametrize(
    "kind",
    [
        "tampered-jwt",  # signature no longer matches
        "expired-jwt",  # validly signed but past its lifetime
        "apikey-scheme",  # a wrong key in Authorization: ApiKey
        "unsupported-scheme",  # Authorization: Basic is refused outright
    ],
)
def test_every_refused_credential_counts(app, client, make, kind):
    tenant = make.tenant()
    user = make.user(tenant=tenant)
    bad = {
        "tampered-jwt": f"Bearer {tampered(make.access_token(user, tenant))}",
        "expired-jwt": f"Bearer {expired_token(app, user)}",
        "apikey-scheme": f"ApiKey {WRONG_KEY['X-API-Key']}",
        "unsupported-scheme": "Basic dXNlcjpwYXNz",
    }[kind]
    assert fail(client, headers={"Authorization": bad}) == [401] * BUDGET
    assert_throttled(client.get(ME, headers=make.bearer(user, tenant)))


def test_requests_without_credentials_are_neither_counted_nor_refused(client, make):
    user = make.user(tenant=make.tenant())
    # Anonymous 401s and wrong passwords guess no header credential: they do not count.
    assert fail(client, BUDGET + 1, headers={}) == [401] * (BUDGET + 1)
    wrong = {"email": user.email, "password": "wrong password"}
    assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    assert fail(client) == [401] * BUDGET
    # Blocked now; probes, the docs and sign-in without credential headers still work.
    assert_throttled(client.get(ME, headers=make.bearer(user)))
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json"):
        assert client.get(path).status_code == 200
    password = {"email": user.email, "password": "correct horse battery"}
    assert client.post("/api/v1/auth/session", json=password).status_code == 200
    # A signed session cookie cannot be guessed, so the browser session is not refused.
    assert client.get(ME).json["via"] == "session"


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/openapi.json", "/api/v1/no-such-route"])
def test_no_route_is_a_way_around_the_throttle(client, make, path):
    # Authentication runs on every path, so any exempt one would be an unthrottled key oracle.
    assert fail(client, path=path) == [401] * BUDGET
    assert_throttled(client.get(path, headers=WRONG_KEY))
    assert_throttled(client.get(ME, headers=make.key_headers(make.tenant(), "read")))


def test_tenant_mismatch_403s_are_not_counted(client, make):
    mine, theirs = make.tenant(), make.tenant()
    good = make.key_headers(mine, "admin")
    foreign = {**good, "X-Tenant-ID": str(theirs.id)}
    assert fail(client, BUDGET + 1, headers=foreign, path="/api/v1/keys/") == [403] * (BUDGET + 1)
    assert client.get(ME, headers=good).status_code == 200


def test_ipv6_callers_are_counted_by_their_64_network(client):
    one_network = [{"REMOTE_ADDR": f"2001:db8:1:2::{n}"} for n in range(BUDGET + 1)]
    responses = [client.get(ME, headers=WRONG_KEY, environ_base=e) for e in one_network]
    assert statuses(responses) == [401] * BUDGET + [429]
    other = client.get(ME, headers=WRONG_KEY, environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"})
    assert other.status_code == 401


def test_forwarded_for_is_ignored_without_trust_proxy(client):
    forged = [{**WRONG_KEY, "X-Forwarded-For": f"192.0.2.{n}"} for n in range(BUDGET + 1)]
    assert statuses(client.get(ME, headers=h) for h in forged) == [401] * BUDGET + [429]


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(settings, make_app):
    client = make_app(settings.replace(trust_proxy=True)).test_client()
    one = {**WRONG_KEY, "X-Forwarded-For": "192.0.2.1"}
    assert fail(client, BUDGET + 1, headers=one) == [401] * BUDGET + [429]
    assert fail(client, 1, headers={**WRONG_KEY, "X-Forwarded-For": "192.0.2.2"}) == [401]


def test_counters_live_in_the_limiters_storage_under_the_deployment_prefix(app, client):
    assert fail(client, 1) == [401]
    prefix = app.config["SHOPLAKE"].ratelimit_key_prefix
    with app.app_context():
        storage = current_limiter().storage
    if app.config["SHOPLAKE"].ratelimit_storage_url.startswith("redis"):
        keys = [k.decode() for k in storage.get_connection().scan_iter(match=f"*{prefix}*")]
    else:
        keys = [key for key in storage.storage if prefix in key]
    assert len(keys) == 1
    assert "auth-failures" in keys[0] and "127.0.0.1" in keys[0]


def test_unreachable_storage_falls_back_to_memory(settings, make_app):
    app = make_app(settings.replace(ratelimit_storage_url="redis://127.0.0.1:1/0"))
    client = app.test_client()
    assert fail(client) == [401] * BUDGET
    assert_throttled(client.get(ME, headers=WRONG_KEY))


def test_a_malformed_budget_stops_startup(settings):
    with pytest.raises(SettingsError, match="RATELIMIT_AUTH_FAILURES"):
        create_app(settings.replace(ratelimit_auth_failures="plenty"))

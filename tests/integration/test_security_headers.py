"""Security headers on every response, HSTS only over TLS, no caching of API answers."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Blueprint, Response

from serving import close_app, create_app
from serving.api import operation
from serving.auth.permissions import Permission, require

ROUTE = "/api/v1/headers-probe/tenant"
OWN_HEADERS_ROUTE = "/api/v1/headers-probe/own-headers"
DOCS = "/api/v1/docs"
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}

probe = Blueprint("headers_probe", __name__, url_prefix="/api/v1/headers-probe")


@probe.get("/tenant")
@require(Permission.TENANT_READ)
@operation(response=dict)
def tenant_route() -> dict:
    """Answer a tenant-scoped request."""
    return {"ok": True}


@probe.get("/own-headers")
@require(Permission.TENANT_READ)
@operation()
def own_headers_route() -> Response:
    """Answer with caching and framing headers of the view's own choosing."""
    response = Response("{}", mimetype="application/json")
    response.headers["Cache-Control"] = "private, max-age=60"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@pytest.fixture
def app(app):
    app.register_blueprint(probe)
    return app


@pytest.fixture
def key(make) -> dict[str, str]:
    return make.key_headers(make.tenant(), "read")


def directives(response) -> dict[str, set[str]]:
    policy = response.headers["Content-Security-Policy"]
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {name: set(values) for name, *values in parsed}


def assert_hardened(response) -> None:
    for name, value in COMMON.items():
        assert response.headers[name] == value, name
    assert "camera=()" in response.headers["Permissions-Policy"]
    policy = directives(response)
    for name, value in {
        "default-src": "'self'",
        "frame-ancestors": "'none'",
        "object-src": "'none'",
        "base-uri": "'none'",
    }.items():
        assert policy[name] == {value}, name


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", ROUTE, 200),  # authenticated success
        ("get", ROUTE + "-missing", 404),  # problem+json error
        ("post", ROUTE, 405),  # method not allowed
        ("get", "/healthz", 200),  # probe outside the API
    ],
)
def test_every_response_is_hardened(client, key, method, path, status):
    response = getattr(client, method)(path, headers=key)
    assert response.status_code == status
    assert_hardened(response)
    assert not any(
        "unsafe" in value for values in directives(response).values() for value in values
    )


def test_authenticated_api_responses_are_not_stored(client, key):
    assert client.get(ROUTE, headers=key).headers["Cache-Control"] == "no-store"


def test_unauthenticated_api_answers_are_not_stored_either(client, make):
    # A sign-in answer carries tokens; an error may carry details.
    user = make.user()
    failed = client.post("/api/v1/auth/login", json={"email": user.email, "password": "nope"})
    assert failed.status_code == 401
    assert failed.headers["Cache-Control"] == "no-store"
    assert client.get(ROUTE).headers["Cache-Control"] == "no-store"


def test_a_views_own_headers_are_kept(client, key):
    response = client.get(OWN_HEADERS_ROUTE, headers=key)
    assert response.headers["Cache-Control"] == "private, max-age=60"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_plain_http_gets_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_tls_requests_get_hsts(client):
    response = client.get("/healthz", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_forwarded_proto_is_ignored_without_trust_proxy(client):
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_forwarded_proto_is_honoured_behind_a_trusted_proxy(settings):
    app = create_app(settings.replace(trust_proxy=True))
    try:
        response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" in response.headers
    finally:
        close_app(app)


class _PageParts(HTMLParser):
    """Collects what a CSP governs on a page: scripts, stylesheets, inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.stylesheets: list[str] = []
        self.inline_handlers: list[str] = []
        self._in_script = False
        self.inline_code = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        self.inline_handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self.scripts.append(values.get("src"))
            self._in_script = True
        if tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values["href"])

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_code += data.strip()


def test_docs_page_works_under_its_policy(client):
    page = client.get(DOCS)
    assert page.status_code == 200
    assert_hardened(page)
    policy = directives(page)
    # Scripts stay file-only; Swagger UI needs inline styles and data: icons, nothing else.
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'", "'unsafe-inline'"}
    assert "data:" in policy["img-src"]
    parts = _PageParts()
    parts.feed(page.get_data(as_text=True))
    assert parts.scripts and None not in parts.scripts
    assert parts.inline_code == "" and parts.inline_handlers == []
    base = "http://localhost" + DOCS
    for src, mimetype in [(s, "text/javascript") for s in parts.scripts] + [
        (h, "text/css") for h in parts.stylesheets
    ]:
        url = urlsplit(urljoin(base, src))
        assert url.netloc == "localhost", src  # same origin: allowed by 'self'
        with client.get(url.path) as asset:
            assert asset.status_code == 200, src
            assert asset.mimetype == mimetype, src


def test_the_strict_api_policy_is_not_relaxed_by_the_docs_one(client, key):
    policy = directives(client.get(ROUTE, headers=key))
    assert "style-src" not in policy and "img-src" not in policy
    assert policy["form-action"] == {"'none'"}

"""Security headers on every response, and no caching of API answers.

A view that sets one of these headers itself keeps its own value (a future HTML page may need a
different policy). The docs page is the one exception built in: Swagger UI styles elements
inline and draws icons from ``data:`` URLs, so its policy allows those, and nothing else
(its scripts are files served by this app; see :mod:`serving.openapi`).
"""

from __future__ import annotations

from flask import Flask, Response, g, request

_BASE_POLICY = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
API_POLICY = f"{_BASE_POLICY}; form-action 'none'"
DOCS_POLICY = (
    f"{_BASE_POLICY}; form-action 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:"
)
DOCS_BLUEPRINT = "docs"
HSTS = "max-age=31536000; includeSubDomains"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
}
API_PREFIX = "/api/"


def init_security_headers(app: Flask) -> None:
    """Add the security headers to every response the app sends."""
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Set the security headers a response does not already carry."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    is_docs = request.blueprint == DOCS_BLUEPRINT
    response.headers.setdefault("Content-Security-Policy", DOCS_POLICY if is_docs else API_POLICY)
    # is_secure trusts X-Forwarded-Proto only behind ProxyFix (setting trust_proxy).
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if _private(is_docs) and "Cache-Control" not in response.headers:
        # Tenant data, tokens and error details must not stay in browser or proxy caches.
        response.headers["Cache-Control"] = "no-store"
    return response


def _private(is_docs: bool) -> bool:
    if g.get("principal") is not None:
        return True
    return request.path.startswith(API_PREFIX) and not is_docs

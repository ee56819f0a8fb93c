"""Cross-origin requests from browsers: an allow-list per deployment and per tenant.

An origin is allowed when it is in the ``cors_origins`` setting or in the ``cors_origins`` list
of the tenant the request names (by host, query, path, header or credential). Allowed origins
are echoed with credentials permitted; any other origin gets no CORS headers at all, so the
browser withholds the response. Preflights are answered here with 204 before rate limiting
(browsers send them without credentials). ``Vary: Origin`` is on every response because the
headers depend on it.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, current_app, g, request

from serving.auth.tenancy import current_tenant
from serving.errors import ApiError

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-API-Key",
    "X-Tenant-ID",
    "X-CSRF-Token",
    "Idempotency-Key",
    "X-Request-ID",
)
EXPOSED_HEADERS = (
    "X-Request-ID",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Scope",
    "Location",
    "ETag",
    "Content-Disposition",
)
PREFLIGHT_MAX_AGE = 600
SKIPPED_BLUEPRINTS = frozenset({"health"})  # probes: never called from browsers


def init_cors(app: Flask) -> None:
    """Answer preflights and add CORS headers for allow-listed origins."""
    app.before_request(_answer_preflight)
    app.after_request(_add_cors_headers)


def normalise_origin(origin: str) -> str:
    """Return an origin in the form browsers send it (lower case, no trailing slash)."""
    return origin.strip().lower().rstrip("/")


def origin_allowed(origin: str) -> bool:
    """Tell whether ``origin`` may read responses to the current request."""
    origin = normalise_origin(origin)
    if not origin or origin == "null":  # sandboxed frames and local files send "null"
        return False
    settings = current_app.config["SHOPLAKE"]
    return origin in _normalised(settings.cors_origins) or origin in _tenant_origins()


def _normalised(origins: Iterable[object]) -> set[str]:
    return {normalise_origin(o) for o in origins if isinstance(o, str)}


def _tenant_origins() -> set[str]:
    try:
        tenant, _role = current_tenant()
    except ApiError:
        return set()  # the request itself answers the bad tenant reference
    configured = (tenant.settings or {}).get("cors_origins") if tenant is not None else None
    return _normalised(configured) if isinstance(configured, list | tuple) else set()


def _is_preflight() -> bool:
    return (
        request.method == "OPTIONS"
        and "Origin" in request.headers
        and "Access-Control-Request-Method" in request.headers
    )


def _answer_preflight() -> Response | None:
    if not _is_preflight() or request.routing_exception is not None:
        return None
    response = current_app.response_class(status=204)
    origin = request.headers["Origin"]
    if request.blueprint not in SKIPPED_BLUEPRINTS and origin_allowed(origin):
        _allow(response, origin)
        response.headers["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
        response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    response.vary.update(("Access-Control-Request-Method", "Access-Control-Request-Headers"))
    g.cors_preflight = True
    return response


def _add_cors_headers(response: Response) -> Response:
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if g.get("cors_preflight") or not origin or request.blueprint in SKIPPED_BLUEPRINTS:
        return response
    if origin_allowed(origin):
        _allow(response, origin)
        response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    return response


def _allow(response: Response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Credentials"] = "true"

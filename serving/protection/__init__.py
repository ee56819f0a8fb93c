"""Request protection: proxy trust, body size limits, CORS, rate limits and security headers.

The app factory calls :func:`init_protection` after authentication is installed, so the hooks
here see ``g.principal``. Order of the before-request hooks it adds: body limit (413 before
anything else is spent), CORS preflight (answered without counting), then rate limiting.
:func:`init_auth_throttle` is the exception: it runs *before* authentication, so an address
over its failed-authentication budget has no credential checked (:mod:`.authfailures`).

Public helpers for views:

* :func:`rate_limit` / :func:`path_rule` - extra per-route limits (:mod:`.rules`);
* :func:`by_address`, :func:`by_principal`, :func:`from_setting` - keys and limits for them;
* :func:`accepts_large_body` - raise one view's body limit to a larger setting (:mod:`.bodylimit`).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from serving.protection.authfailures import init_auth_throttle
from serving.protection.bodylimit import BODY_LIMIT_ATTR, accepts_large_body, init_body_limits
from serving.protection.cors import init_cors
from serving.protection.headers import init_security_headers
from serving.protection.ratelimit import current_limiter, init_ratelimit
from serving.protection.rules import by_address, by_principal, from_setting, path_rule, rate_limit

__all__ = [
    "BODY_LIMIT_ATTR",
    "accepts_large_body",
    "by_address",
    "by_principal",
    "current_limiter",
    "from_setting",
    "init_auth_throttle",
    "init_protection",
    "path_rule",
    "rate_limit",
]


def init_protection(app: Flask) -> None:
    """Install every request protection on ``app`` (call after authentication)."""
    if app.config["SHOPLAKE"].trust_proxy:
        # One trusted hop: the load balancer's X-Forwarded-For/Proto/Host/Port are honoured,
        # which gives per-address limits the real client and makes request.is_secure true.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]
    init_body_limits(app)
    init_cors(app)
    init_ratelimit(app)
    init_security_headers(app)

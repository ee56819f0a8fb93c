"""Rate limits with Flask-Limiter: one limiter per app, counters in memory or Redis.

Budgets (see :mod:`serving.protection.budgets` and :mod:`serving.protection.rules`):

* ``principal``: each user or API key inside its tenant (``rate_limit_principal`` tenant setting,
  else ``ratelimit_principal_default``);
* ``tenant``: the whole tenant (``rate_limit_tenant``, else ``ratelimit_tenant_default``);
* ``address``: each client address while unauthenticated (``ratelimit_anonymous``);
* route rules, such as ``sign-in`` (``ratelimit_login`` per address).

Health probes and the API docs are exempt. Every limited response carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix time, in
seconds, when the window resets) for the tightest budget the request used, and
``X-RateLimit-Scope`` naming it. A refused request gets a 429 problem (``rate-limited``) with
``Retry-After`` in seconds. Counters use fixed windows that start at a key's first hit. If the
shared storage fails, counting falls back to process memory rather than failing requests.
"""

from __future__ import annotations

import logging
import math
import time
from functools import partial

from flask import Flask, Response, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded, RequestLimit

from serving.errors import ApiError, problem_response
from serving.protection.budgets import address_key, global_budgets, is_valid_limit
from serving.protection.rules import address_replaced, route_rules, rule_budgets
from warehouse.config import Settings, SettingsError

LIMITER_EXTENSION = "shoplake.limiter"
EXEMPT_BLUEPRINTS = frozenset({"health", "docs"})
SCOPE_MESSAGES = {
    "principal": "You have made too many requests.",
    "tenant": "This tenant has made too many requests.",
    "address": "Too many unauthenticated requests from your address.",
}
LIMIT_HEADER = "X-RateLimit-Limit"
REMAINING_HEADER = "X-RateLimit-Remaining"
RESET_HEADER = "X-RateLimit-Reset"
SCOPE_HEADER = "X-RateLimit-Scope"
# Fail fast on a hung Redis instead of holding the request.
REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}

log = logging.getLogger("shoplake.ratelimit")


def is_exempt() -> bool:
    """Tell whether the current request is outside every limit (probes, docs, unknown routes)."""
    return request.endpoint is None or request.blueprint in EXEMPT_BLUEPRINTS


def current_limiter() -> Limiter:
    """Return the running app's limiter."""
    return current_app.extensions[LIMITER_EXTENSION]


def close_limiter(app: Flask) -> None:
    """Disconnect the limiter's Redis connection pool, if its storage has one."""
    client = getattr(app.extensions[LIMITER_EXTENSION].storage, "storage", None)
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        pool.disconnect()


def init_ratelimit(app: Flask) -> None:
    """Build this app's limiter and install its hooks, 429 handler and headers."""
    settings: Settings = app.config["SHOPLAKE"]
    _check_settings(settings)
    # Runs before the limiter's own hook, so the limiter's key functions only read ``g``.
    app.before_request(_charge_budgets)
    limiter = Limiter(
        address_key,
        application_limits=_application_limits(),
        storage_uri=settings.ratelimit_storage_url,
        storage_options=REDIS_OPTIONS if settings.ratelimit_storage_url.startswith("redis") else {},
        strategy="fixed-window",
        key_prefix=settings.ratelimit_key_prefix,
        headers_enabled=False,  # _add_headers reports the tightest budget, not the shortest window
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.request_filter(is_exempt)
    limiter.init_app(app)
    app.extensions[LIMITER_EXTENSION] = limiter
    app.after_request(_add_headers)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)


def _check_settings(settings: Settings) -> None:
    for name in (
        "ratelimit_tenant_default",
        "ratelimit_principal_default",
        "ratelimit_anonymous",
        "ratelimit_login",
    ):
        if not is_valid_limit(getattr(settings, name)):
            raise SettingsError(f"SHOPLAKE_{name.upper()}: not a rate limit like '60/minute'")


def _charge_budgets() -> None:
    if not is_exempt():
        budgets = global_budgets()
        if address_replaced():
            budgets.pop("address", None)
        g.rate_budgets = {**budgets, **rule_budgets()}


def _application_limits() -> list[ApplicationLimit]:
    messages = SCOPE_MESSAGES | {rule.scope: rule.message for rule in route_rules()}
    return [
        ApplicationLimit(
            limit_provider=partial(_budget_field, scope, "limit"),
            key_function=partial(_budget_field, scope, "key"),
            scope=scope,
            error_message=message,
        )
        for scope, message in messages.items()
    ]


def _budget_field(scope: str, name: str) -> str:
    # An empty limit string makes Flask-Limiter skip the scope: the request is not charged to it.
    budget = g.get("rate_budgets", {}).get(scope)
    return getattr(budget, name) if budget is not None else ""


def _retry_after(limit: RequestLimit | None) -> int:
    if limit is None:
        return 1
    return max(1, math.ceil(limit.window.reset_time - time.time()))


def _too_many_requests(exc: RateLimitExceeded) -> Response:
    breached = current_limiter().current_limit
    error = ApiError(
        429,
        "Too Many Requests",
        f"{exc.description} Limit: {exc.limit.limit}.",
        "rate-limited",
        headers={"Retry-After": str(_retry_after(breached))},
    )
    return problem_response(error)


def _add_headers(response: Response) -> Response:
    limits = current_limiter().current_limits
    if not limits:
        return response
    try:
        # The budget closest to running out is the one a client has to respect.
        tightest = min(
            limits, key=lambda lim: (not lim.breached, lim.remaining, lim.window.reset_time)
        )
        response.headers[LIMIT_HEADER] = str(tightest.limit.amount)
        response.headers[REMAINING_HEADER] = str(max(0, tightest.remaining))
        response.headers[RESET_HEADER] = str(math.ceil(tightest.window.reset_time))
        response.headers[SCOPE_HEADER] = tightest.request_args[-1]
    except Exception:  # a storage fault must not turn a served response into a 500
        log.exception("could not read rate-limit counters for headers")
    return response

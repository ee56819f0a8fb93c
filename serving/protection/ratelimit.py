"""Rate limits: one limiter per app, fixed-window counters in memory or Redis.

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

Counting uses the ``limits`` library directly (the strategy and storage keys Flask-Limiter used,
so counters survive an upgrade): a request is charged to a handful of known budgets, and doing
only that costs a fraction of Flask-Limiter's generic per-request limit resolution.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from serving.errors import ApiError
from serving.protection.budgets import Budget, global_budgets, is_valid_limit
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
# After a storage error, count in process memory this long before trying the storage again.
RETRY_STORAGE_SECONDS = 30.0

log = logging.getLogger("shoplake.ratelimit")
T = TypeVar("T")


class RequestLimiter:
    """An app's counters: fixed windows on the configured storage, in memory while it fails."""

    def __init__(self, settings: Settings) -> None:
        url = settings.ratelimit_storage_url
        options = REDIS_OPTIONS if url.startswith("redis") else {}
        self.storage: Storage = storage_from_string(url, **options)
        self.limiter: RateLimiter = FixedWindowRateLimiter(self.storage)
        self.key_prefix: str = settings.ratelimit_key_prefix
        self.fallback: RateLimiter = FixedWindowRateLimiter(MemoryStorage())
        self.storage_down_until = 0.0
        self._lock = threading.Lock()

    def run(self, operation: Callable[[RateLimiter], T]) -> T:
        """Apply ``operation`` to the shared strategy, or to memory while the storage fails."""
        if time.monotonic() >= self.storage_down_until:
            try:
                return operation(self.limiter)
            except Exception:  # any storage fault: keep limiting from memory instead
                log.warning("rate-limit storage unreachable, counting in memory", exc_info=True)
                with self._lock:
                    self.storage_down_until = time.monotonic() + RETRY_STORAGE_SECONDS
        return operation(self.fallback)


@dataclass(frozen=True)
class Charge:
    """One window of one budget this request was counted against."""

    scope: str
    item: RateLimitItem
    identifiers: tuple[str, str, str]
    breached: bool = False


def is_exempt() -> bool:
    """Tell whether the current request is outside every limit (probes, docs, unknown routes)."""
    return request.endpoint is None or request.blueprint in EXEMPT_BLUEPRINTS


def current_limiter() -> RequestLimiter:
    """Return the running app's limiter."""
    return current_app.extensions[LIMITER_EXTENSION]


def close_limiter(app: Flask) -> None:
    """Disconnect the limiter's Redis connection pool, if its storage has one."""
    client = getattr(app.extensions[LIMITER_EXTENSION].storage, "storage", None)
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        pool.disconnect()


def init_ratelimit(app: Flask) -> None:
    """Build this app's limiter and install its hook, 429 answers and headers."""
    settings: Settings = app.config["SHOPLAKE"]
    _check_settings(settings)
    app.extensions[LIMITER_EXTENSION] = RequestLimiter(settings)
    app.before_request(_charge_request)
    app.after_request(_add_headers)


def _check_settings(settings: Settings) -> None:
    for name in (
        "ratelimit_tenant_default",
        "ratelimit_principal_default",
        "ratelimit_anonymous",
        "ratelimit_login",
    ):
        if not is_valid_limit(getattr(settings, name)):
            raise SettingsError(f"SHOPLAKE_{name.upper()}: not a rate limit like '60/minute'")


@lru_cache(maxsize=512)
def windows(limit: str) -> tuple[RateLimitItem, ...]:
    """Parse a limit string once ("10/minute;100/hour" is two windows)."""
    return tuple(parse_many(limit))


def request_budgets() -> dict[str, Budget]:
    """Return every budget the current request draws on, by scope."""
    budgets = global_budgets()
    if address_replaced():
        budgets.pop("address", None)
    return {**budgets, **rule_budgets()}


def _charge_request() -> None:
    if is_exempt():
        return
    limiter = current_limiter()
    planned = sorted(
        (
            Charge(scope, item, (limiter.key_prefix, budget.key, scope))
            for scope, budget in request_budgets().items()
            if budget.key and budget.limit
            for item in windows(budget.limit)
        ),
        key=lambda charge: charge.item,  # shortest window first
    )
    g.rate_charges = limiter.run(lambda strategy: _hit_until_breach(strategy, planned))
    breached = next((charge for charge in g.rate_charges if charge.breached), None)
    if breached is not None:
        raise _too_many_requests(limiter, breached)


def _hit_until_breach(strategy: RateLimiter, planned: list[Charge]) -> list[Charge]:
    charged = []
    for charge in planned:
        if not strategy.hit(charge.item, *charge.identifiers):
            charged.append(Charge(charge.scope, charge.item, charge.identifiers, breached=True))
            break
        charged.append(charge)
    return charged


def _scope_message(scope: str) -> str:
    if scope in SCOPE_MESSAGES:
        return SCOPE_MESSAGES[scope]
    rule = next((rule for rule in route_rules() if rule.scope == scope), None)
    return rule.message if rule is not None else "Too many requests."


def _too_many_requests(limiter: RequestLimiter, breached: Charge) -> ApiError:
    stats = limiter.run(lambda s: s.get_window_stats(breached.item, *breached.identifiers))
    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
    return ApiError(
        429,
        "Too Many Requests",
        f"{_scope_message(breached.scope)} Limit: {breached.item}.",
        "rate-limited",
        headers={"Retry-After": str(retry_after)},
    )


def _add_headers(response: Response) -> Response:
    charges: list[Charge] = g.get("rate_charges") or []
    if not charges:
        return response
    limiter = current_limiter()
    try:
        stats = limiter.run(lambda s: [s.get_window_stats(c.item, *c.identifiers) for c in charges])
        # The budget closest to running out is the one a client has to respect.
        charge, window = min(
            zip(charges, stats, strict=True),
            key=lambda pair: (not pair[0].breached, pair[1].remaining, pair[1].reset_time),
        )
        response.headers[LIMIT_HEADER] = str(charge.item.amount)
        response.headers[REMAINING_HEADER] = str(max(0, window.remaining))
        response.headers[RESET_HEADER] = str(math.ceil(window.reset_time))
        response.headers[SCOPE_HEADER] = charge.scope
    except Exception:  # a storage fault must not turn a served response into a 500
        log.exception("could not read rate-limit counters for headers")
    return response

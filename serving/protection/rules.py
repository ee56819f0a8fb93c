"""Extra rate limits for particular routes, on top of the server-wide budgets.

Two ways to add one, both declared at import time (each app's limiter is built from them):

* decorate a view::

      @bp.post("/api/v1/products/<id>/prices")
      @rate_limit("30/minute", key=lambda: f"{by_principal()}:product:{request.view_args['id']}")
      @require(Permission.DATA_WRITE)
      @operation(...)
      def add_price(...): ...

* or name routes by method and path with :func:`path_rule`, for views another module owns
  (how the sign-in limit below is applied to the auth blueprint).

``limit`` is a ``limits`` string ("5/minute;100/day") or a callable returning one, such as
:func:`from_setting`. ``key`` returns the counter key; include the tenant (:func:`by_principal`
does) so tenants never share a counter. A key function may raise ``ApiError``: the
request is then answered with that error, as any other before-request check would be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import current_app, request

from serving.protection.budgets import GLOBAL_SCOPES, Budget, address_key, principal_key
from warehouse.config import SETTINGS

RULES_ATTR = "rate_limit_rules"
LimitValue = str | Callable[[], str]


@dataclass(frozen=True, eq=False)
class RouteRule:
    """A limit that applies to some routes; ``scope`` names its counters and its 429."""

    scope: str
    limit: LimitValue
    key: Callable[[], str]
    message: str
    methods: frozenset[str] | None = None
    paths: frozenset[str] = frozenset()
    # Unauthenticated callers of the rule's routes (webhooks, signed URLs) are charged to the
    # rule's own budget instead of the shared per-address one.
    replaces_address: bool = False

    def applies(self) -> bool:
        """Tell whether the current request falls under this rule."""
        if self.methods is not None and request.method not in self.methods:
            return False
        if self.paths:
            rule = request.url_rule
            return rule is not None and rule.rule.rstrip("/") in self.paths
        view = current_app.view_functions.get(request.endpoint or "")
        return self in getattr(view, RULES_ATTR, ())

    def budget(self) -> Budget:
        """Return the counter this request is charged to under the rule."""
        limit = self.limit() if callable(self.limit) else self.limit
        return Budget(self.key(), limit)


def by_address() -> str:
    """Key a rule by the caller's address (for routes used before signing in)."""
    return address_key()


def by_principal() -> str:
    """Key a rule by the caller inside its tenant, falling back to its address."""
    return principal_key() or address_key()


def from_setting(name: str) -> Callable[[], str]:
    """Return a limit provider that reads the named setting of the running app."""
    if name not in {s.name for s in SETTINGS}:
        raise ValueError(f"unknown setting {name!r}")
    return lambda: getattr(current_app.config["SHOPLAKE"], name)


_RULES: list[RouteRule] = []


def route_rules() -> tuple[RouteRule, ...]:
    """Return every rule declared so far (an app's limiter takes them when it is built)."""
    return tuple(_RULES)


def path_rule(
    scope: str,
    limit: LimitValue,
    *,
    paths: Iterable[str],
    methods: Iterable[str] | None = None,
    key: Callable[[], str] = by_address,
    message: str = "Too many requests to this endpoint.",
    replaces_address: bool = False,
) -> RouteRule:
    """Declare a limit on routes named by URL rule (e.g. ``/api/v1/auth/login``) and method."""
    upper = frozenset(m.upper() for m in methods) if methods is not None else None
    stripped = frozenset(p.rstrip("/") for p in paths)
    return _register(RouteRule(scope, limit, key, message, upper, stripped, replaces_address))


def rate_limit(
    limit: LimitValue,
    *,
    key: Callable[[], str] = by_principal,
    methods: Iterable[str] | None = None,
    message: str = "Too many requests to this endpoint.",
    scope: str | None = None,
) -> Callable:
    """Add a limit to one view (stack several for several windows or keys).

    ``scope`` names the counters and the ``X-RateLimit-Scope`` clients see; every view this one
    decorator is applied to then shares the budget. Without it each view gets its own, named
    after the view's module and function.
    """
    upper = frozenset(m.upper() for m in methods) if methods is not None else None
    shared = _register(RouteRule(scope, limit, key, message, upper)) if scope else None

    def decorate(view: Callable) -> Callable:
        existing = getattr(view, RULES_ATTR, ())
        own = f"route:{view.__module__}.{view.__qualname__}:{len(existing)}"
        rule = shared or _register(RouteRule(own, limit, key, message, upper))
        setattr(view, RULES_ATTR, (*existing, rule))
        return view

    return decorate


def _register(rule: RouteRule) -> RouteRule:
    if rule.scope in GLOBAL_SCOPES or any(existing.scope == rule.scope for existing in _RULES):
        raise ValueError(f"rate-limit scope {rule.scope!r} is declared twice")
    _RULES.append(rule)
    return rule


def rule_budgets() -> dict[str, Budget]:
    """Return the budgets of every rule the current request falls under, by scope."""
    return {rule.scope: rule.budget() for rule in _RULES if rule.applies()}


def address_replaced() -> bool:
    """Tell whether a rule covering this request stands in for the per-address budget."""
    return any(rule.replaces_address and rule.applies() for rule in _RULES)


# Password sign-in, by cookie session or for tokens, shares one budget per address.
SIGN_IN = path_rule(
    "sign-in",
    from_setting("ratelimit_login"),
    paths=("/api/v1/auth/login", "/api/v1/auth/session"),
    methods=("POST",),
    message="Too many sign-in attempts from your address.",
)

"""Mart-backed views read the current tenant's marts through here, and cache their answers.

``tenant_marts()`` pins one snapshot for the request; ``cached(compute)`` memoises an answer per
(tenant, snapshot, endpoint, query string), so a new publish starts a fresh set of entries.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, g, request

from serving.auth.tenancy import tenant_id
from warehouse.errors import ServiceError
from warehouse.marts import ResponseCache, TenantMarts
from warehouse.publish import NoSnapshot

T = TypeVar("T")
_CACHE = "shoplake.mart_cache"


class MartsNotBuilt(ServiceError):
    """No snapshot has been published yet, so there is nothing to answer from."""

    status = 503


def tenant_marts() -> TenantMarts:
    """Return the current tenant's marts in the snapshot this request first saw."""
    marts = g.get("tenant_marts")
    if marts is None:
        try:
            marts = TenantMarts.current(current_app.config["SHOPLAKE"].var_dir, tenant_id())
        except NoSnapshot:
            raise MartsNotBuilt(
                "marts", "no warehouse build has been published yet; run `shoplake build`"
            ) from None
        g.tenant_marts = marts
    return marts


def response_cache() -> ResponseCache:
    """Return this app's answer cache (one per worker process)."""
    cache = current_app.extensions.get(_CACHE)
    if cache is None:
        cache = ResponseCache(current_app.config["SHOPLAKE"].mart_cache_entries)
        current_app.extensions[_CACHE] = cache
    return cache


def cached(compute: Callable[[TenantMarts], T], *extra: Hashable) -> T:
    """Return ``compute(marts)`` for this request, cached per tenant, snapshot and query."""
    marts = tenant_marts()
    query = tuple(sorted(request.args.items(multi=True)))
    key = (marts.tenant_id, marts.build_id, request.endpoint, query, *extra)
    return response_cache().get_or_compute(key, lambda: compute(marts))

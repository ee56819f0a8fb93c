"""Mart-backed views read the current tenant's marts through here, and cache their answers.

``tenant_marts()`` pins one snapshot for the request; ``cached(shape, compute)`` memoises an
answer per (tenant, snapshot, endpoint, query string), so a new publish starts a fresh set of
entries. Two levels: each worker's LRU of answers as objects, and behind it the answers as JSON
files shared by the node's workers (``warehouse.marts.answers``), so an answer is computed once
per node and snapshot rather than once per worker.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any, TypeVar

from flask import current_app, g, request
from pydantic import TypeAdapter, ValidationError

from serving.auth.tenancy import tenant_id
from warehouse.errors import ServiceError
from warehouse.marts import ResponseCache, SharedAnswers, TenantMarts
from warehouse.publish import NoSnapshot

T = TypeVar("T")
_CACHE = "shoplake.mart_cache"
_SHARED = "shoplake.shared_answers"
_MISSING = object()  # no usable shared answer (None is a valid answer)


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


def shared_answers() -> SharedAnswers | None:
    """Return the node's shared answer store (None when caching is off)."""
    config = current_app.config["SHOPLAKE"]
    if config.mart_cache_entries <= 0:
        return None
    store = current_app.extensions.get(_SHARED)
    if store is None:
        store = SharedAnswers(config.var_dir, config.mart_cache_entries)
        current_app.extensions[_SHARED] = store
    return store


def cached(shape: Any, compute: Callable[[TenantMarts], T], *extra: Hashable) -> T:
    """Return ``compute(marts)`` for this request, cached per tenant, snapshot and query.

    ``shape`` is the type ``compute`` returns (a model, ``Model | None``, a dict...): answers
    shared between workers travel as its JSON and are parsed back into it.
    """
    marts = tenant_marts()
    query = tuple(sorted(request.args.items(multi=True)))
    key = (marts.tenant_id, marts.build_id, request.endpoint, query, *extra)
    return response_cache().get_or_compute(key, lambda: _shared(shape, marts, key, compute))


def _shared(shape: Any, marts: TenantMarts, key: tuple, compute: Callable[[TenantMarts], T]) -> T:
    store, text = shared_answers(), repr(key)
    if store is None or " at 0x" in text:  # an object without a stable repr: not shareable
        return compute(marts)
    adapter = _adapter(shape)
    answer = _parse(adapter, store.read(marts.build_id, marts.tenant_id, text))
    if answer is not _MISSING:
        return answer
    with store.claim(marts.build_id, marts.tenant_id, text) as slot:
        answer = _parse(adapter, slot.answer)  # another worker may have stored it meanwhile
        if answer is _MISSING:
            answer = compute(marts)
            slot.store(adapter.dump_json(answer))
        return answer


@lru_cache(maxsize=64)
def _adapter(shape: Any) -> TypeAdapter:
    return TypeAdapter(shape)


def _parse(adapter: TypeAdapter, stored: bytes | None) -> Any:
    # A file cut short by a crash (they are not fsynced) or written by an older release is a
    # miss, answered afresh and stored again.
    if stored is None:
        return _MISSING
    try:
        return adapter.validate_json(stored)
    except ValidationError:
        return _MISSING

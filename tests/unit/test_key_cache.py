"""KeyCache on its own: freshness by clock, dropping by tenant, bounded size, off at zero."""

from __future__ import annotations

from serving.auth import key_cache
from serving.auth.key_cache import KeyCache, VerifiedKey
from warehouse.controldb.models import Tenant


def entry(tenant_id: int) -> VerifiedKey:
    return VerifiedKey(
        1, Tenant(id=tenant_id, slug=f"t{tenant_id}"), frozenset({"read"}), None, None
    )


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_fresh_for_exactly_the_cache_time():
    clock = Clock()
    cache = KeyCache(5, clock)
    cache.put("a", entry(1))
    clock.now = 4.99
    assert cache.get("a") is not None
    clock.now = 5.0
    assert cache.get("a") is None
    clock.now = 0.0
    assert cache.get("a") is None  # a stale entry is gone, not hidden


def test_dropping_a_tenant_forgets_only_its_keys():
    cache = KeyCache(5, Clock())
    cache.put("a", entry(1))
    cache.put("b", entry(1))
    cache.put("c", entry(2))
    cache.drop_tenants({1})
    assert (cache.get("a"), cache.get("b")) == (None, None)
    assert cache.get("c") is not None


def test_a_full_cache_starts_over(monkeypatch):
    monkeypatch.setattr(key_cache, "MAX_ENTRIES", 3)
    cache = KeyCache(5, Clock())
    for digest in "abc":
        cache.put(digest, entry(1))
    cache.put("d", entry(1))
    assert [cache.get(d) is not None for d in "abcd"] == [False, False, False, True]


def test_a_zero_cache_time_keeps_nothing():
    cache = KeyCache(0, Clock())
    cache.put("a", entry(1))
    assert not cache.enabled
    assert cache.get("a") is None

"""The answer cache: LRU bound, hits without recomputing, off at zero entries."""

from __future__ import annotations

from warehouse.marts import ResponseCache


def counting():
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return value

        return run

    return calls, compute


def test_a_hit_returns_the_stored_answer_without_computing():
    cache = ResponseCache(4)
    calls, compute = counting()
    assert cache.get_or_compute(("t1", "b1", "q"), compute(1)) == 1
    assert cache.get_or_compute(("t1", "b1", "q"), compute(2)) == 1
    assert calls == [1]
    assert (cache.hits, cache.misses) == (1, 1)


def test_a_new_build_id_is_a_new_key():
    cache = ResponseCache(4)
    calls, compute = counting()
    cache.get_or_compute(("t1", "b1", "q"), compute(1))
    assert cache.get_or_compute(("t1", "b2", "q"), compute(2)) == 2
    assert calls == [1, 2]


def test_the_least_recently_used_entry_is_evicted():
    cache = ResponseCache(2)
    calls, compute = counting()
    cache.get_or_compute("a", compute("a"))
    cache.get_or_compute("b", compute("b"))
    cache.get_or_compute("a", compute("a2"))  # a is now the most recent
    cache.get_or_compute("c", compute("c"))  # evicts b
    assert len(cache) == 2
    assert cache.get_or_compute("a", compute("a3")) == "a"
    assert cache.get_or_compute("b", compute("b2")) == "b2"


def test_zero_entries_disables_caching():
    cache = ResponseCache(0)
    calls, compute = counting()
    cache.get_or_compute("k", compute(1))
    cache.get_or_compute("k", compute(2))
    assert calls == [1, 2]
    assert len(cache) == 0

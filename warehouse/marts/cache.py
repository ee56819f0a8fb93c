"""A bounded in-process cache of computed answers, keyed by tenant, snapshot and query.

Keys carry the snapshot's build id, so a new publish makes every old entry unreachable without
any invalidation step; old entries simply age out of the LRU. Answers that read the raw tail
(real-time metrics) must not be cached here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class ResponseCache:
    """A thread-safe LRU of at most ``max_entries`` answers (0 disables caching)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the cached answer for ``key``, computing and storing it on a miss."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]  # type: ignore[return-value]
            self.misses += 1
        value = compute()  # outside the lock: two misses may compute twice, never block
        if self.max_entries > 0:
            with self._lock:
                self._entries[key] = value
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)

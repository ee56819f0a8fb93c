"""Answers shared by the API workers of one node: one file per tenant, snapshot and query.

Each worker keeps its own LRU of answers (``cache.py``), so after a publish every worker used to
compute every dashboard answer once for itself: at ``large`` that is 0.1-0.9 s per answer and
worker, paid inside whatever requests queue behind it. With this store the first worker to miss
writes the answer and the others read it; a worker that misses while another computes the same
answer waits for it (a lock per answer) instead of computing it beside it on the same cores.

```
<var_dir>/marts/answers/<build_id>/<tenant_id>/<sha256 of the query>.json
```

The build id in the path keeps answers of different snapshots apart and lets retention delete
them with their snapshot. The store is a cache, not a record: files are renamed into place but
not fsynced, a file that cannot be read back is treated as missing and written again, and a
store that cannot be written (a full disk, say) leaves each worker to compute for itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from warehouse.publish.layout import answers_dir, check_build_id

log = logging.getLogger("shoplake.answers")


@dataclass
class Slot:
    """One answer's place in the store, held under its lock while a worker fills it."""

    path: Path
    answer: bytes | None
    max_files: int

    def store(self, answer: bytes) -> None:
        """Publish ``answer`` for the other workers (skipped when the tenant's folder is full)."""
        if self.max_files <= 0:
            return
        temporary = self.path.with_name(f".{self.path.stem}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            if self.answer is None and _count_answers(self.path.parent) >= self.max_files:
                return
            temporary.write_bytes(answer)
            os.replace(temporary, self.path)
        except OSError:
            log.warning("answer not shared", extra={"path": str(self.path)}, exc_info=True)
            temporary.unlink(missing_ok=True)


class SharedAnswers:
    """Answers on local disk, at most ``max_per_tenant`` per tenant and snapshot.

    The bound keeps a client that varies its query string from filling the disk between two
    publishes; past it, answers are still computed and cached per worker, just not shared.
    """

    def __init__(self, var_dir: Path, max_per_tenant: int) -> None:
        self.root = answers_dir(var_dir)
        self.max_per_tenant = max_per_tenant

    def read(self, build_id: str, tenant_id: int, query: str) -> bytes | None:
        """Return the stored answer, or None when no worker has stored it yet."""
        try:
            return self._path(build_id, tenant_id, query).read_bytes()
        except OSError:  # not stored yet, or unreadable: either way computed afresh
            return None

    @contextmanager
    def claim(self, build_id: str, tenant_id: int, query: str) -> Iterator[Slot]:
        """Hold the answer's lock; yield its slot with whatever another worker stored meanwhile."""
        path = self._path(build_id, tenant_id, query)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(path.with_suffix(".lock"), "ab")  # noqa: SIM115 - closed below
        except OSError:
            log.warning("answers not shared", extra={"path": str(path)}, exc_info=True)
            yield Slot(path, None, max_files=0)  # nothing to wait for; storing will not work
            return
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, error or not
            except OSError:  # a filesystem without locks: no waiting, files still whole
                log.warning("answers not locked", extra={"path": str(path)}, exc_info=True)
            yield Slot(path, self.read(build_id, tenant_id, query), self.max_per_tenant)

    def _path(self, build_id: str, tenant_id: int, query: str) -> Path:
        if isinstance(tenant_id, bool) or not isinstance(tenant_id, int) or tenant_id < 0:
            raise TypeError(f"tenant_id must be a non-negative int, not {tenant_id!r}")
        digest = hashlib.sha256(query.encode()).hexdigest()
        return self.root / check_build_id(build_id) / str(tenant_id) / f"{digest}.json"


def _count_answers(folder: Path) -> int:
    with os.scandir(folder) as entries:
        return sum(1 for entry in entries if entry.name.endswith(".json"))

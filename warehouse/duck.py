"""One in-memory DuckDB connection per worker process; a cheap cursor per request.

Opening a connection costs 15-20 ms, a ``cursor()`` on an open one microseconds, so the
connection is cached per process id: a forked worker (gunicorn preloads the app) opens its own
instead of sharing its parent's, which DuckDB does not support across ``fork``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb

# One thread per query: the API runs one worker process per core, so under load the cores are
# busy with other requests anyway; a second thread per query bought no throughput and cost a
# worker ~17 MB in a 100,000-order search (BENCHMARKS.md, search memory).
THREADS = 1
MEMORY_LIMIT = "256MB"  # entity queries are small; keeps worker RSS low

_lock = threading.Lock()
_connection: tuple[int, duckdb.DuckDBPyConnection] | None = None


def connection() -> duckdb.DuckDBPyConnection:
    """Return this process's shared DuckDB connection (opened on first use)."""
    global _connection
    current = _connection
    if current is not None and current[0] == os.getpid():
        return current[1]
    with _lock:
        if _connection is None or _connection[0] != os.getpid():
            conn = duckdb.connect(config={"threads": THREADS, "memory_limit": MEMORY_LIMIT})
            # Hand freed pages back to the system within seconds: without it a worker keeps
            # what its largest query ever used (a 100,000-order search: ~25 MB more).
            conn.execute("set allocator_background_threads = true")
            # Instants are compared and returned in UTC whatever the server's zone is.
            conn.execute("set global TimeZone = 'UTC'")
            # Files are replaced in place by rename (compacted current state): a cache keyed
            # by path could serve the old file's blocks with the new file's footer.
            conn.execute("set global enable_external_file_cache = false")
            _connection = (os.getpid(), conn)
        return _connection[1]


@contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a cursor of the shared connection for one unit of work, closed afterwards."""
    cur = connection().cursor()
    try:
        yield cur
    finally:
        cur.close()


def fetch_dicts(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[dict[str, Any]]:
    """Run one parameterised statement on a fresh cursor and return its rows as dicts."""
    with cursor() as cur:
        result = cur.execute(sql, params)
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

"""Run entity queries: resolve one tenant's sources, build the SQL, execute it on a cursor.

Every query of this package goes through :func:`run`, the one place that executes SQL, so a
test can observe exactly which files a request named. Files can vanish between listing and
reading (compaction moves merged inputs away, an old snapshot is pruned); the query is then
planned again from a fresh listing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import duckdb

from warehouse import duck
from warehouse.entities.sources import Source, Store, all_raw_files, resolve
from warehouse.entities.specs import SPECS, family
from warehouse.entities.sql import InstantSpan, Query, current_rows
from warehouse.lake import LakeReadError

log = logging.getLogger(__name__)

ATTEMPTS = 5

Select = Callable[[Query], str]


def run(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Execute one parameterised statement and return its rows as dicts."""
    return duck.fetch_dicts(sql, params)


def select(
    store: Store,
    entity: str,
    build: Select,
    keys: Sequence[str] | None = None,
    span: InstantSpan | None = None,
    resolved: Mapping[str, Source] | None = None,
) -> list[dict[str, Any]]:
    """Run ``build``'s select over the current rows of ``entity``'s family for one tenant.

    ``build`` receives the query (CTEs named after each entity of the family are in place) and
    returns the final ``select``; ``keys`` narrows every scan to those ids (parent keys);
    ``span`` narrows the bases, as :func:`~warehouse.entities.sql.current_rows` describes;
    ``resolved`` is the family's sources as the caller already resolved them, read on the
    first attempt (a retry after files moved resolves them again).
    """
    specs = family(SPECS[entity])
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        try:
            sources = resolved if attempt == 0 and resolved else resolve(store, specs)
            query = current_rows(Query(), sources, keys, span)
            rows = run(query.sql(build(query)), query.params)
        except (duckdb.IOException, FileNotFoundError):
            if last:
                raise
            log.debug("entity files moved during a read; planning again", exc_info=True)
            continue
        except duckdb.Error:
            # DuckDB may open a file more than once per query: a compacted current state
            # swapped in between reads as garbage. Only then is the error not ours to raise.
            if last or not _swapped(sources):
                raise
            continue
        if not _swapped(sources):
            return rows
    raise LakeReadError(f"{entity}/tenant_id={store.tenant_id}: files kept changing during read")


def _swapped(sources) -> bool:
    return any(source.base_changed() for source in sources.values())


def by_keys(store: Store, entity: str, keys: Sequence[str]) -> list[dict[str, Any]]:
    """Return the current rows of ``entity`` whose key is in ``keys``."""
    if not keys:
        return []
    order = ", ".join(f'"{k}"' for k in SPECS[entity].key)
    return select(store, entity, lambda q: f'select * from "{entity}" order by {order}', keys)


def versions(store: Store, entity: str, key: str, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Return every landed version of one key, oldest first, with its landing metadata."""
    files = all_raw_files(store, SPECS[entity])
    if not files:
        return []
    wanted = ", ".join(f'"{c}"' for c in columns)
    sql = (
        f"select {wanted}, _ingested_at, _batch_id, _seq, _op, _source "
        "from read_parquet($files, union_by_name = true, hive_partitioning = false) "
        "where id = $key order by _ingested_at, _batch_id, _seq"
    )
    for attempt in range(ATTEMPTS):
        try:
            return run(sql, {"files": files, "key": key})
        except duckdb.IOException:
            if attempt == ATTEMPTS - 1:
                raise
            files = all_raw_files(store, SPECS[entity])
    raise AssertionError("unreachable")

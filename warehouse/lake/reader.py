"""Read one tenant's landed files consistently, even while compaction rewrites partitions.

Compaction publishes a merged file before moving its inputs away, and records the inputs' names
in the merged file's footer (``shoplake.replaces``). A listing may therefore hold a merged file
together with some of its inputs; :func:`list_files` drops those inputs, so no row is read
twice. A file may vanish between listing and reading, and a listing taken during a compaction
may miss the new merged file while its inputs are already gone: :func:`read_table` detects both
(a missing file, or a merged file that appeared since the listing) and starts over.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.lake.layout import current_file, is_compacted, is_data_file, partitions

log = logging.getLogger(__name__)

REPLACES_KEY = b"shoplake.replaces"
DEFAULT_ATTEMPTS = 20


class LakeReadError(RuntimeError):
    """The files kept changing under a reader for too many attempts."""


def scan(root: Path, entity: str, tenant_id: int, dates: Iterable[date] | None = None) -> dict:
    """Return ``{folder: set of visible data file names}`` for a tenant's entity."""
    wanted = set(dates) if dates is not None else None
    listing: dict[Path, set[str]] = {}
    for day, folder in partitions(root, entity, tenant_id):
        if wanted is None or day in wanted:
            try:
                listing[folder] = {e.name for e in os.scandir(folder) if is_data_file(e.name)}
            except FileNotFoundError:
                continue
    return listing


@lru_cache(maxsize=4096)
def replaced_by(path: Path) -> frozenset[str]:
    """Return the input file names a compacted file replaces (cached: such files never change)."""
    metadata = pq.read_schema(path).metadata or {}
    return frozenset(json.loads(metadata.get(REPLACES_KEY, b"[]")))


def resolve(listing: dict[Path, set[str]]) -> list[Path]:
    """Return the files to read: every listed file except inputs of a listed compacted file."""
    files: list[Path] = []
    for folder, names in sorted(listing.items()):
        replaced: set[str] = set()
        for name in names:
            if is_compacted(name):
                replaced |= replaced_by(folder / name)
        files.extend(folder / name for name in sorted(names - replaced))
    return files


def list_files(
    root: Path, entity: str, tenant_id: int, dates: Iterable[date] | None = None
) -> list[Path]:
    """List a tenant's visible files for ``entity``, without inputs already merged by compaction."""
    for _ in range(DEFAULT_ATTEMPTS):
        try:
            return resolve(scan(root, entity, tenant_id, dates))
        except FileNotFoundError:  # a compacted file moved away while we read its footer
            continue
    raise LakeReadError(f"{entity}/tenant_id={tenant_id}: listing kept changing")


def read_table(
    root: Path,
    entity: str,
    tenant_id: int,
    *,
    columns: list[str] | None = None,
    dates: Iterable[date] | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
) -> pa.Table:
    """Read every landed row of a tenant's entity exactly once (an empty table if none)."""
    dates = list(dates) if dates is not None else None
    for attempt in range(attempts):
        if attempt:
            time.sleep(min(0.01 * attempt, 0.2))  # let the compaction step finish
        before = scan(root, entity, tenant_id, dates)
        try:
            table = _read(resolve(before), columns)
        except FileNotFoundError:
            log.debug("lake file vanished during read; retrying", extra={"attempt": attempt})
            continue
        if not _new_compacted(before, scan(root, entity, tenant_id, dates)):
            return table
    raise LakeReadError(f"{entity}/tenant_id={tenant_id}: files kept changing during read")


def relation(conn, root: Path, entity: str, tenant_id: int):
    """Return a DuckDB relation over a tenant's landed files (read lazily, columns unified).

    The listing is taken now and the files are opened when the relation runs: run it promptly,
    and retry on a missing-file error if compaction may be running (see :func:`read_table`).
    Returns None when the tenant has no files for ``entity``.
    """
    files = [str(path) for path in list_files(root, entity, tenant_id)]
    return conn.read_parquet(files, union_by_name=True) if files else None


def read_current(root: Path, entity: str, tenant_id: int, columns: list[str] | None = None):
    """Read a tenant's current state (latest version per key), or None if never built."""
    try:
        return pq.read_table(current_file(root, entity, tenant_id), columns=columns)
    except FileNotFoundError:
        return None


def _read(files: list[Path], columns: list[str] | None) -> pa.Table:
    tables = [pq.read_table(path, columns=columns) for path in files]
    if not tables:
        return pa.table({})
    return pa.concat_tables(
        [t.replace_schema_metadata(None) for t in tables], promote_options="permissive"
    )


def _new_compacted(before: dict[Path, set[str]], after: dict[Path, set[str]]) -> bool:
    """Return whether a compacted file appeared in ``after`` that ``before`` did not list."""
    return any(
        is_compacted(name) and name not in before.get(folder, set())
        for folder, names in after.items()
        for name in names
    )

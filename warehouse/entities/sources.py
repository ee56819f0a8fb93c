"""Where one tenant's current rows come from: a base (snapshot or compacted state) plus a raw tail.

* **Snapshot** (invariant 7): the published mart partition of this tenant, plus raw rows landed
  after the snapshot's watermark.
* **Compacted current state**: ``current/<entity>/tenant_id=<id>/current.parquet``, plus raw
  rows landed after the moment it was built from (``shoplake.as_of``) - used before the first
  publish, or while a mart lacks a field the API returns.
* **Raw only**: every landed row, when neither exists.

A snapshot's tail starts where its build recorded that rows may be missing (``tail_from``: the
watermark, or the oldest batch still landing when the build read the lake if older, less a
minute). A compacted state's tail, and a snapshot's without that record, start
:data:`TAIL_LOOKBACK` before the watermark: a batch's ``_ingested_at`` is stamped before its
file becomes visible, so a slow batch stamped just before the watermark may have been missed.
Reading a row again is harmless, because the tail's latest version of a key is never older
than the base's. A parent and its children (orders and their items)
always share one base kind and one tail start, so an order and its lines never come from
different points in time. Every path named here is inside this tenant's partitions.

Tail files renamed into place before the tail starts are skipped by their ctime (their rows were
stamped earlier still), so steady-state reads open only the files of the last few minutes. The
compacted current state is the one file replaced in place: its (inode, ctime) is recorded so a
reader can tell that it was swapped mid-query and read again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from warehouse.entities.specs import SPECS, EntitySpec, family, utc_instant
from warehouse.lake import fsio
from warehouse.lake.current import AS_OF_KEY
from warehouse.lake.layout import current_file, partitions
from warehouse.lake.reader import list_files
from warehouse.publish import NoSnapshot, Snapshot, current_snapshot, mart_glob

TAIL_LOOKBACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Store:
    """One tenant's data: the lake root, the var dir (published snapshots) and the tenant."""

    lake_root: Path
    var_dir: Path
    tenant_id: int


@dataclass(frozen=True)
class Source:
    """One entity's base (files plus lake column -> SQL expression) and raw tail files."""

    spec: EntitySpec
    base_files: tuple[str, ...]
    base_exprs: dict[str, str] | None
    tail_files: tuple[str, ...]
    since: datetime | None  # tail rows landed after this; None = every raw row
    kind: str  # "snapshot", "current" or "raw"
    base_stamps: tuple[tuple[int, int], ...] = ()  # (inode, ctime) of replaceable base files

    def stored_column(self, column: str) -> str:
        """Return the base file's name for a lake column (a mart may rename it)."""
        return self.spec.mart_column(column) if self.kind == "snapshot" else column

    def base_bound(self, column: str, op: str, placeholder: str) -> str:
        """Return SQL over the base file's own column comparing ``column`` with an instant.

        The base maps a mart's zone-less UTC timestamp through :func:`utc_instant`, and
        a scan cannot skip row groups by a filter on that expression; the same comparison on
        the stored column can. Any other mapping gives ``true`` (no narrowing).
        """
        stored = '"' + self.stored_column(column) + '"'
        mapped = (self.base_exprs or {}).get(column)
        if mapped == stored:
            return f"{stored} {op} {placeholder}"
        if mapped == utc_instant(stored):
            return f"{stored} {op} {utc_instant(placeholder)}"
        return "true"

    def base_changed(self) -> bool:
        """Tell whether a base file was replaced since it was resolved (compaction swapped it)."""
        if not self.base_stamps:
            return False  # snapshot partitions are immutable; raw files only ever move away
        try:
            return self.base_stamps != tuple(_stamp(Path(f)) for f in self.base_files)
        except FileNotFoundError:
            return True


def resolve(store: Store, specs: Sequence[EntitySpec]) -> dict[str, Source]:
    """Return the sources of ``specs`` (one family), all of the same kind and tail start."""
    base = _from_snapshot(store, specs) or _from_current(store, specs)
    kind, since, files, exprs, stamps = base if base else ("raw", None, {}, {}, {})
    return {
        spec.name: Source(
            spec,
            tuple(files.get(spec.name, ())),
            exprs.get(spec.name),
            tuple(_tail_files(store, spec, since)),
            since,
            kind,
            stamps.get(spec.name, ()),
        )
        for spec in specs
    }


def current_state_entities(var_dir: Path) -> list[str]:
    """Return the lake entities whose reads fall back to the lake's compacted current state.

    A family the published snapshot serves reads the snapshot plus its tail, so refreshing its
    current state at every build (a pass over every version of every key) would be wasted;
    before the first publish, every family needs it. A current state left stale stays correct:
    its tail starts from the moment it was built.
    """
    try:
        snapshot = current_snapshot(var_dir)
    except NoSnapshot:
        return list(SPECS)
    return [
        spec.name
        for spec in SPECS.values()
        if any(_mart_expressions(snapshot, member) is None for member in family(spec))
    ]


def all_raw_files(store: Store, spec: EntitySpec) -> list[str]:
    """Return every visible raw file of the tenant's entity (for version histories)."""
    return [str(path) for path in list_files(store.lake_root, spec.name, store.tenant_id)]


def _from_snapshot(store: Store, specs: Sequence[EntitySpec]):
    try:
        snapshot = current_snapshot(store.var_dir)
    except NoSnapshot:
        return None
    files, exprs = {}, {}
    for spec in specs:
        mapped = _mart_expressions(snapshot, spec)
        if mapped is None:
            return None
        files[spec.name] = [mart_glob(snapshot, spec.mart, store.tenant_id)]
        exprs[spec.name] = mapped
    return "snapshot", _snapshot_tail(snapshot), files, exprs, {}  # snapshot files never change


def _snapshot_tail(snapshot: Snapshot) -> datetime | None:
    if snapshot.tail_from is not None:
        return snapshot.tail_from  # recorded by the build: exact (pipelines/lib/rereads.py)
    watermark = snapshot.watermark
    return watermark - TAIL_LOOKBACK if watermark is not None else None


def _mart_expressions(snapshot: Snapshot, spec: EntitySpec) -> dict[str, str] | None:
    if spec.mart is None or spec.mart not in snapshot.marts:
        return None
    types = {column["name"]: column["type"] for column in snapshot.columns(spec.mart)}
    return spec.mart_expressions(types)


def _from_current(store: Store, specs: Sequence[EntitySpec]):
    files, exprs, as_of, stamps = {}, {}, [], {}
    for spec in specs:
        path = current_file(store.lake_root, spec.name, store.tenant_id)
        try:
            # Stamp first: if the file is swapped before its footer is read, the older
            # as_of only widens the tail, and the reader sees the swap and reads again.
            stamps[spec.name] = (_stamp(path),)
            metadata = pq.read_schema(path).metadata or {}
        except FileNotFoundError:
            return None
        as_of.append(int(metadata.get(AS_OF_KEY, b"0")))
        files[spec.name] = [str(path)]
        exprs[spec.name] = {column: '"' + column + '"' for column in spec.columns}
    built = datetime.fromtimestamp(min(as_of) / 1e9, UTC)
    return "current", built - TAIL_LOOKBACK, files, exprs, stamps


def _stamp(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_ino, info.st_ctime_ns


def _tail_files(store: Store, spec: EntitySpec, since: datetime | None) -> list[str]:
    if since is None:
        return [str(path) for path in list_files(store.lake_root, spec.name, store.tenant_id)]
    # Partitions are the UTC date of _ingested_at, so older ones cannot hold tail rows.
    days = partitions(store.lake_root, spec.name, store.tenant_id)
    dates = [day for day, _folder in days if day >= since.date()]
    if not dates:
        return []
    files = list_files(store.lake_root, spec.name, store.tenant_id, dates)
    # A file published before ``since`` holds no row landed after it (a compacted file is
    # published anew with old rows: it is read again, and its statistics skip them).
    return [str(path) for path in files if fsio.published_since(path, since)]
